// The trajectory decoder interface shared by every format (XTC, TRR, DCD,
// AMBER NetCDF, LAMMPS dump), chemfiles-style: one file per format in
// native/formats, all Node-free, driven by TrajectoryReader (reader.h) and
// directly by the native tests, the fuzzers and the benchmark.
//
// Decoders are push-style and never seek: the caller hands them a window of
// the stream (whatever bytes have arrived so far) and they either decode one
// frame from its start, skip a header, or say how many bytes they need.
// That is all a FIFO or a growing tmpfs file can offer. A decoder consumes
// nothing unless it returns Frame or Skip, so a partial frame at the end of
// a growing file is simply asked for again once more bytes are there.
//
// Output goes into buffers a FrameSink supplies; they are requested only
// once a complete frame is in the window (so their size is bounded by the
// input) and a sink hands out the same memory every time: no per-frame
// allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace westream {
namespace formats {

enum class Format { Unknown, Xtc, Trr, Dcd, NetCdf, LammpsDump };

const char* format_name(Format f);  // "xtc", "trr", "dcd", "netcdf", "lammpsdump", "unknown"
Format format_from_name(const std::string& name);       // also accepts aliases ("nc", "lammpstrj", ...)
Format format_from_extension(const std::string& path);  // Unknown when the extension says nothing
// Recognises a format from the first bytes of a stream. Sets *need to the
// number of bytes it wants when `n` is too short to tell (and returns Unknown).
Format detect_format(const uint8_t* p, size_t n, size_t* need);

// Largest atom count any decoder accepts (a corrupt count is refused before
// anything is allocated for it).
constexpr int64_t kMaxAtoms = 500000000;

// What one decoded frame carries besides its arrays. Units: Å, ps, degrees;
// box is the lower-triangular cell ax, bx, by, cx, cy, cz (Å).
struct FrameData {
  int64_t step = 0;
  double time = 0;
  bool has_step = false;
  bool has_time = false;
  bool has_box = false;
  float box[6] = {0, 0, 0, 0, 0, 0};
  // Set by the decoder to the sink's buffers, or null when this frame lacks them.
  float* positions = nullptr;
  float* velocities = nullptr;
  float* forces = nullptr;
};

// Supplies output arrays of 3 × natoms floats. Each call for the same kind
// must return the same memory (allocated the first time).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual float* positions(size_t natoms) = 0;
  virtual float* velocities(size_t natoms) = 0;
  virtual float* forces(size_t natoms) = 0;
};

// A sink over std::vectors (tests, fuzzers, benchmark).
class VectorSink : public FrameSink {
 public:
  float* positions(size_t n) override { return grab(p, n); }
  float* velocities(size_t n) override { return grab(v, n); }
  float* forces(size_t n) override { return grab(f, n); }
  std::vector<float> p, v, f;

 private:
  static float* grab(std::vector<float>& a, size_t n) {
    if (a.size() != 3 * n) a.assign(3 * n, 0.0f);
    return a.data();
  }
};

// Bad input. `offset` is the absolute byte offset in the stream where the
// problem is, `frame` the 0-based index of the frame being decoded. The
// reader prefixes the file name.
class DecodeError : public std::runtime_error {
 public:
  DecodeError(const std::string& msg, uint64_t frame, uint64_t offset)
      : std::runtime_error(msg), frame(frame), offset(offset) {}
  uint64_t frame;
  uint64_t offset;
};

// A window on the stream: `size` bytes starting at absolute offset `offset`.
struct Input {
  const uint8_t* data = nullptr;
  size_t size = 0;
  uint64_t offset = 0;
  // No byte will ever follow the window (finished file, writer gone).
  bool eof = false;
  // The writer is done (plain read, or it exited): the data and the header
  // counts (NetCDF numrecs) are final.
  bool writer_done = false;
  // The data is followed while a writer produces it (a growing file or a
  // FIFO), rather than read as a finished file: header counts that lag the
  // data (NetCDF numrecs) are waited for, not trusted as they stand.
  bool follow = false;
};

enum class Status {
  Frame,     // one frame decoded into FrameData; `consumed` bytes used
  Skip,      // `consumed` bytes of header or padding used, no frame
  NeedMore,  // nothing consumed; `need` (> in.size) bytes wanted from in.data
};

struct Step {
  Status status = Status::NeedMore;
  size_t consumed = 0;
  size_t need = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Format format() const = 0;
  // Decodes (or skips) from the start of the window. Throws DecodeError.
  // With in.eof a decoder may still return NeedMore; the reader turns that
  // into a "truncated" error (or a clean end if the window is empty).
  virtual Step next(const Input& in, FrameSink& sink, FrameData& out) = 0;
  // -1 until the first header is read.
  int64_t natoms() const { return natoms_; }
  // Frames decoded so far (the index of the next one).
  uint64_t frames() const { return frames_; }

  // Random-access formats on regular files (NetCDF's numrecs): the reader
  // re-reads this many leading bytes of the file before asking for more
  // data and hands them to refresh(). Returns true if something changed.
  virtual size_t refresh_bytes() const { return 0; }
  virtual bool refresh(const uint8_t*, size_t) { return false; }
  // True while nothing is consumed and the header seen so far may be stale
  // (writers that rewrite a file from its start): the reader then reads a
  // regular file again from byte 0 instead of waiting for more bytes.
  virtual bool reread_from_start() const { return false; }
  // Bytes at the start of the file the writer may rewrite (headers): never
  // released by TrajectoryReader's discard-consumed mode.
  virtual uint64_t header_end() const { return 0; }
  // LAMMPS: units for dumps without ITEM: UNITS ("real", "metal", ...).
  virtual void set_units(const std::string&) {}
  // The data ended cleanly between frames (in.size 0, in.eof): a decoder
  // whose header promised something else throws DecodeError (NetCDF:
  // numrecs disagrees with the records decoded).
  virtual void at_end(const Input&) {}

 protected:
  // Checks an atom count from a header against limits and earlier frames.
  void check_natoms(int64_t n, uint64_t offset, const char* what);
  [[noreturn]] void fail(const std::string& msg, uint64_t offset) const { throw DecodeError(msg, frames_, offset); }
  int64_t natoms_ = -1;
  uint64_t frames_ = 0;
};

std::unique_ptr<Decoder> make_decoder(Format f);

// ---- helpers shared by the format files ------------------------------------

inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint64_t load_be64(const uint8_t* p) { return (uint64_t(load_be32(p)) << 32) | load_be32(p + 4); }
inline int32_t be_i32(const uint8_t* p) { return static_cast<int32_t>(load_be32(p)); }
inline float be_f32(const uint8_t* p) {
  uint32_t u = load_be32(p);
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
inline double be_f64(const uint8_t* p) {
  uint64_t u = load_be64(p);
  double d;
  __builtin_memcpy(&d, &u, 8);
  return d;
}

// Lower-triangular cell from lengths (Å) and angles (degrees). False (and a
// zero box) when the lengths are zero or the angles impossible.
bool box_from_lengths_angles(double a, double b, double c, double alpha, double beta, double gamma, float out[6]);

std::string format_offset(uint64_t offset);  // "byte 1234"

}  // namespace formats
}  // namespace westream
