// TrajectoryReader: a decoder over a file descriptor, for finished files,
// growing files (tail-follow) and named pipes. Node-free; the addon drives
// it from libuv (formats_binding.cpp), the tests and the benchmark directly.
//
// next() never blocks: it reads what is there (non-blocking for FIFOs, up to
// the current size for regular files), decodes one frame if it can and
// otherwise says Wait. After finish() (the writer is done) the end of the
// data is the end of the stream: a partial frame there is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "decoder.h"

namespace westream {
namespace formats {

struct ReaderOptions {
  std::string path;
  Format format = Format::Unknown;  // Unknown: from the magic bytes, else the extension
  // Follow a growing file (or a FIFO) until finish(); false: the file is
  // complete, read it to its end.
  bool follow = false;
  // FIFO: open it read-write (never blocks, never sees EOF: the end comes
  // from finish()). Needed when the engine probes the path before writing.
  bool fifo_rdwr = false;
  // Copy every byte read to this file (keeps a FIFO's trajectory on disk).
  std::string tee_path;
  // Regular files: give consumed pages back (FALLOC_FL_PUNCH_HOLE) so a
  // tmpfs file does not hold the whole trajectory in memory.
  bool discard_consumed = false;
  // LAMMPS dumps without ITEM: UNITS.
  std::string lammps_units;
};

// The reader's byte buffer. Unlike std::vector it does not zero-fill what
// it grows by: pages no read() has written to stay untouched (not resident).
class ByteBuffer {
 public:
  uint8_t* data() { return p_.get(); }
  const uint8_t* data() const { return p_.get(); }
  size_t size() const { return n_; }
  // Reallocates to n bytes (n >= keep), keeping the first `keep` bytes.
  void grow(size_t n, size_t keep);

 private:
  std::unique_ptr<uint8_t[]> p_;
  size_t n_ = 0;
};

// An error reading the file; the message names file, frame and byte offset.
class ReaderError : public std::runtime_error {
 public:
  explicit ReaderError(const std::string& m) : std::runtime_error(m) {}
};

class TrajectoryReader {
 public:
  enum class Result { Frame, Wait, End };

  explicit TrajectoryReader(const ReaderOptions& options);  // throws ReaderError
  ~TrajectoryReader();
  TrajectoryReader(const TrajectoryReader&) = delete;
  TrajectoryReader& operator=(const TrajectoryReader&) = delete;

  Result next(FrameSink& sink, FrameData& out);  // throws ReaderError
  // The writer is done: what is in the file (or pipe) now is all there is.
  void finish() { writer_done_ = true; }

  int fd() const { return fd_; }
  bool is_fifo() const { return fifo_; }
  Format format() const { return decoder_ ? decoder_->format() : options_.format; }
  int64_t natoms() const { return decoder_ ? decoder_->natoms() : -1; }
  uint64_t frames() const { return decoder_ ? decoder_->frames() : 0; }
  uint64_t bytes_read() const { return file_pos_; }
  uint64_t bytes_decoded() const { return offset_; }
  // Bytes the read buffer holds room for (the tests check it follows the data).
  size_t buffer_capacity() const { return buf_.size(); }
  const std::string& path() const { return options_.path; }

 private:
  // Reads more into the buffer so that at least `need` bytes are available
  // if possible. Returns the number of new bytes (0: nothing now).
  size_t fill(size_t need);
  [[noreturn]] void error(const std::string& msg, uint64_t frame, uint64_t offset) const;
  void discard();

  ReaderOptions options_;
  int fd_ = -1;
  int tee_fd_ = -1;
  bool fifo_ = false;
  bool writer_done_ = false;
  bool eof_ = false;   // no byte will follow what is buffered
  bool seen_data_ = false;
  uint64_t ino_ = 0, dev_ = 0;
  std::unique_ptr<Decoder> decoder_;
  ByteBuffer buf_;
  size_t start_ = 0, end_ = 0;  // buffered bytes: buf_[start_, end_)
  uint64_t offset_ = 0;         // stream offset of buf_[start_]
  uint64_t file_pos_ = 0;       // bytes read from the fd so far
  uint64_t discarded_ = 0;      // bytes punched out so far
  std::vector<uint8_t> head_;
};

}  // namespace formats
}  // namespace westream
