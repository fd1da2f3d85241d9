// DCD (CHARMM / NAMD / OpenMM / LAMMPS): Fortran unformatted records in
// either byte order, optional unit-cell record per frame, X-PLOR headers
// (float64 timestep, no cell). Fixed atoms are refused. Header frame
// counts are ignored: frames are fixed-size after the header, so the data
// itself says how many there are (writers rewrite NSET before or after the
// data).
#include <cmath>
#include <cstring>

#include "decoder.h"

namespace westream {
namespace formats {
namespace {

constexpr double kAkmaPs = 0.04888821;  // one AKMA time unit in ps

class DcdDecoder : public Decoder {
 public:
  Format format() const override { return Format::Dcd; }
  uint64_t header_end() const override { return header_len_; }

  Step next(const Input& in, FrameSink& sink, FrameData& out) override {
    if (header_len_ == 0) return header(in);
    if (in.size < frame_len_) return need(frame_len_);
    const uint8_t* p = in.data;
    size_t pos = 0;
    out.has_box = false;
    if (has_cell_) {
      record(in, pos, 48, "unit cell");
      double u[6];
      for (int k = 0; k < 6; k++) u[k] = f64(p + pos + 4 + 8 * k);
      cell(u, out);
      pos += 56;
    }
    const size_t n = size_t(natoms_);
    float* x = sink.positions(n);
    for (int d = 0; d < 3; d++) {
      record(in, pos, 4 * n, d == 0 ? "x coordinates" : d == 1 ? "y coordinates" : "z coordinates");
      const uint8_t* q = p + pos + 4;
      for (size_t i = 0; i < n; i++) x[3 * i + d] = f32(q + 4 * i);
      pos += 4 * n + 8;
    }
    if (four_d_) {
      record(in, pos, 4 * n, "fourth dimension");
      pos += 4 * n + 8;
    }
    out.positions = x;
    out.velocities = out.forces = nullptr;
    out.has_step = out.has_time = false;
    if (nsavc_ > 0) {
      out.step = istart_ + int64_t(frames_) * nsavc_;
      out.has_step = true;
      if (delta_ > 0 && std::isfinite(delta_)) {
        out.time = double(out.step) * delta_ * kAkmaPs;
        out.has_time = true;
      }
    }
    frames_++;
    Step s;
    s.status = Status::Frame;
    s.consumed = frame_len_;
    return s;
  }

 private:
  static Step need(size_t n) {
    Step s;
    s.status = Status::NeedMore;
    s.need = n;
    return s;
  }
  uint32_t u32(const uint8_t* q) const {
    uint32_t v;
    std::memcpy(&v, q, 4);
    return little_ ? v : __builtin_bswap32(v);
  }
  int32_t i32(const uint8_t* q) const { return static_cast<int32_t>(u32(q)); }
  float f32(const uint8_t* q) const {
    uint32_t v = u32(q);
    float f;
    std::memcpy(&f, &v, 4);
    return f;
  }
  double f64(const uint8_t* q) const {
    uint64_t v;
    std::memcpy(&v, q, 8);
    if (!little_) v = __builtin_bswap64(v);
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  // Checks both markers of a record of `len` payload bytes at pos.
  void record(const Input& in, size_t pos, size_t len, const char* what) const {
    uint32_t a = u32(in.data + pos), b = u32(in.data + pos + 4 + len);
    if (a != len || b != len)
      fail(std::string("DCD ") + what + " record has markers " + std::to_string(a) + "/" + std::to_string(b) +
               " (expected " + std::to_string(len) + "): corrupt file, or a writer that appended junk (LAMMPS dump dcd on a pipe)",
           in.offset + (a != len ? pos : pos + 4 + len));
  }
  void cell(const double u[6], FrameData& out) const {
    // [A, gamma, B, beta, alpha, C]; angles as cosines when all in [-1, 1]
    // (CHARMM, NAMD > 2.5, OpenMM, LAMMPS), else degrees (NAMD 2.5).
    double a = u[0], b = u[2], c = u[5], alpha = u[4], beta = u[3], gamma = u[1];
    if (alpha >= -1 && alpha <= 1 && beta >= -1 && beta <= 1 && gamma >= -1 && gamma <= 1) {
      alpha = 90.0 - std::asin(alpha) * 90.0 / (M_PI / 2);
      beta = 90.0 - std::asin(beta) * 90.0 / (M_PI / 2);
      gamma = 90.0 - std::asin(gamma) * 90.0 / (M_PI / 2);
    }
    out.has_box = box_from_lengths_angles(a, b, c, alpha, beta, gamma, out.box);
  }

  Step header(const Input& in) {
    const uint8_t* p = in.data;
    if (in.size < 8) return need(92);
    uint32_t le;
    std::memcpy(&le, p, 4);
    if (le == 84) little_ = true;
    else if (__builtin_bswap32(le) == 84) little_ = false;
    else fail("not a DCD file: first record marker is " + std::to_string(le) + " (expected 84)", in.offset);
    if (std::memcmp(p + 4, "CORD", 4) != 0) {
      if (std::memcmp(p + 4, "VELD", 4) == 0) fail("DCD velocity files (VELD) are not trajectories", in.offset + 4);
      if (u32(p + 4) == 0) fail("DCD with 64-bit record markers is not supported", in.offset + 4);
      fail("not a DCD file: no CORD signature", in.offset + 4);
    }
    if (in.size < 92) return need(92);
    if (u32(p + 88) != 84) fail("DCD header record has a bad end marker", in.offset + 88);
    istart_ = i32(p + 12);
    nsavc_ = i32(p + 16);
    int32_t namnf = i32(p + 40);
    int32_t version = i32(p + 84);
    if (namnf != 0)
      fail("DCD with fixed atoms (NAMNF = " + std::to_string(namnf) +
               ") is not supported: later frames hold only the free atoms; write all atoms instead",
           in.offset + 40);
    if (version != 0) {
      delta_ = f32(p + 44);
      has_cell_ = i32(p + 48) != 0;
      four_d_ = i32(p + 52) != 0;
    } else {
      delta_ = f64(p + 44);  // X-PLOR
      has_cell_ = four_d_ = false;
    }
    // Title record.
    if (in.size < 96) return need(96);
    uint32_t tl = u32(p + 92);
    if (tl < 4 || tl > (1u << 20)) fail("DCD title record of " + std::to_string(tl) + " bytes", in.offset + 92);
    size_t after_title = 92 + 8 + tl;
    if (in.size < after_title + 12) return need(after_title + 12);
    if (u32(p + 96 + tl) != tl) fail("DCD title record has a bad end marker", in.offset + 96 + tl);
    int32_t ntitle = i32(p + 96);
    if (ntitle < 0 || 4 + 80 * int64_t(ntitle) > tl)
      fail("DCD title count " + std::to_string(ntitle) + " does not fit its record", in.offset + 96);
    if (u32(p + after_title) != 4 || u32(p + after_title + 8) != 4)
      fail("DCD atom-count record has bad markers", in.offset + after_title);
    check_natoms(i32(p + after_title + 4), in.offset + after_title + 4, "the DCD header");
    header_len_ = after_title + 12;
    const size_t n = size_t(natoms_);
    frame_len_ = (has_cell_ ? 56 : 0) + 3 * (4 * n + 8) + (four_d_ ? 4 * n + 8 : 0);
    Step s;
    s.status = Status::Skip;
    s.consumed = header_len_;
    return s;
  }

  bool little_ = true;
  bool has_cell_ = false;
  bool four_d_ = false;
  double delta_ = 0;
  int64_t istart_ = 0;
  int64_t nsavc_ = 0;
  size_t header_len_ = 0;
  size_t frame_len_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> make_dcd_decoder() { return std::unique_ptr<Decoder>(new DcdDecoder()); }

}  // namespace formats
}  // namespace westream
