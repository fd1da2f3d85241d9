// TrajectoryReader: file descriptor + buffer + decoder (see reader.h).
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace westream {
namespace formats {

namespace {
constexpr size_t kMinBuffer = 1u << 20;
constexpr size_t kPage = 4096;
constexpr uint64_t kDiscardChunk = 4u << 20;

std::string errno_text(int e) { return std::string(strerror(e)); }

uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}
}  // namespace

void ByteBuffer::grow(size_t n, size_t keep) {
  std::unique_ptr<uint8_t[]> q(new uint8_t[n]);  // default-initialised: not zeroed
  if (keep) std::memcpy(q.get(), p_.get(), keep);
  p_ = std::move(q);
  n_ = n;
}

TrajectoryReader::TrajectoryReader(const ReaderOptions& options) : options_(options) {
  const std::string& p = options_.path;
  struct stat st;
  if (stat(p.c_str(), &st) != 0) throw ReaderError("cannot open " + p + ": " + errno_text(errno));
  fifo_ = S_ISFIFO(st.st_mode);
  if (!fifo_ && !S_ISREG(st.st_mode)) throw ReaderError("cannot read " + p + ": not a regular file or a named pipe");
  int flags = O_CLOEXEC;
  if (fifo_) flags |= (options_.fifo_rdwr ? O_RDWR : O_RDONLY) | O_NONBLOCK;
  else flags |= options_.discard_consumed ? O_RDWR : O_RDONLY;
  fd_ = open(p.c_str(), flags);
  if (fd_ < 0) throw ReaderError("cannot open " + p + ": " + errno_text(errno));
  if (fstat(fd_, &st) == 0) {
    ino_ = st.st_ino;
    dev_ = st.st_dev;
  }
  if (!options_.tee_path.empty()) {
    tee_fd_ = open(options_.tee_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tee_fd_ < 0) {
      int e = errno;
      close(fd_);
      fd_ = -1;
      throw ReaderError("cannot create " + options_.tee_path + ": " + errno_text(e));
    }
  }
  // A finished regular file is complete; a FIFO ends when its writers close
  // (or, opened read-write, at finish()).
  writer_done_ = !options_.follow && !fifo_;
  buf_.grow(kMinBuffer, 0);
}

TrajectoryReader::~TrajectoryReader() {
  if (fd_ >= 0) close(fd_);
  if (tee_fd_ >= 0) close(tee_fd_);
}

void TrajectoryReader::error(const std::string& msg, uint64_t frame, uint64_t offset) const {
  throw ReaderError(options_.path + ": frame " + std::to_string(frame) + " at byte " + std::to_string(offset) + ": " + msg);
}

TrajectoryReader::Result TrajectoryReader::next(FrameSink& sink, FrameData& out) {
  if (fd_ < 0) throw ReaderError(options_.path + ": reader is closed");
  for (;;) {
    size_t avail = end_ - start_;
    if (!decoder_) {
      size_t need = 0;
      Format f = detect_format(buf_.data() + start_, avail, &need);
      if (f == Format::Unknown && need > avail && !eof_) {
        if (fill(need)) continue;
        if (eof_) continue;
        return Result::Wait;
      }
      if (f == Format::Unknown) f = options_.format;
      if (f == Format::Unknown) f = format_from_extension(options_.path);
      if (f == Format::Unknown) {
        if (avail == 0 && file_pos_ == 0) error("empty file (0 bytes): no trajectory was written", 0, 0);
        error("cannot tell the trajectory format: the first bytes are not XTC, TRR, DCD, AMBER NetCDF or a LAMMPS "
              "dump, and the name has no known extension (give the format explicitly)",
              0, 0);
      }
      if (options_.format != Format::Unknown && options_.format != f) f = options_.format;
      decoder_ = make_decoder(f);
      if (!options_.lammps_units.empty()) decoder_->set_units(options_.lammps_units);
      if (decoder_->refresh_bytes()) head_.resize(decoder_->refresh_bytes());
    }
    Input in;
    in.data = buf_.data() + start_;
    in.size = avail;
    in.offset = offset_;
    in.eof = eof_;
    in.writer_done = writer_done_;
    in.follow = options_.follow || fifo_;
    if (avail == 0 && eof_) {
      if (file_pos_ == 0) error("empty file (0 bytes): no trajectory was written", 0, 0);
      try {
        decoder_->at_end(in);
      } catch (const DecodeError& e) {
        error(e.what(), e.frame, e.offset);
      }
      return Result::End;
    }
    Step st;
    try {
      st = decoder_->next(in, sink, out);
    } catch (const DecodeError& e) {
      error(e.what(), e.frame, e.offset);
    }
    if (st.status != Status::NeedMore) {
      if (st.consumed == 0 || st.consumed > avail) error("decoder consumed an impossible byte count", frames(), offset_);
      start_ += st.consumed;
      offset_ += st.consumed;
      if (st.status == Status::Frame) {
        discard();
        return Result::Frame;
      }
      continue;
    }
    if (eof_) {
      // Nothing more will come and the decoder wants more: truncated for good.
      std::string what = decoder_->natoms() < 0 ? "inside the header" : "inside frame " + std::to_string(frames());
      error(std::string("truncated ") + format_name(decoder_->format()) + " data: the " + (fifo_ ? "stream" : "file") +
                " ends " + std::to_string(avail) + " bytes " + what +
                (st.need > avail + 1 && st.need < (size_t(1) << 40) ? " (which needs " + std::to_string(st.need) + ")" : "") +
                (writer_done_ && options_.follow ? "; the writer exited mid-frame" : ""),
            frames(), offset_);
    }
    if (!fill(std::max(st.need, avail + 1)) && !eof_) return Result::Wait;
  }
}

size_t TrajectoryReader::fill(size_t need) {
  if (eof_) return 0;
  size_t progress = 0;
  if (decoder_ && !head_.empty() && !fifo_) {
    ssize_t r = pread(fd_, head_.data(), head_.size(), 0);
    if (r == ssize_t(head_.size()) && decoder_->refresh(head_.data(), head_.size())) progress = 1;
  }
  bool reread = false;
  uint64_t old_hash = 0, old_len = 0;
  if (decoder_ && !fifo_ && offset_ == 0 && start_ == 0 && end_ > 0 && decoder_->reread_from_start()) {
    // The header we hold may be stale (the writer rewrites the file from its
    // start): read it again rather than waiting behind it. Progress then
    // means different or more bytes than before.
    if (lseek(fd_, 0, SEEK_SET) == 0) {
      reread = true;
      old_hash = fnv1a(buf_.data(), end_);
      old_len = end_;
      end_ = 0;
      file_pos_ = 0;
    }
  }
  size_t avail = end_ - start_;
  // Room for `need` bytes from start_: compact, then grow.
  if (start_ > 0 && buf_.size() - start_ < std::max(need, kMinBuffer / 2)) {
    std::memmove(buf_.data(), buf_.data() + start_, avail);
    start_ = 0;
    end_ = avail;
  }
  // The buffer grows only once it is full of bytes that did arrive, and then
  // geometrically: memory follows the data, never a header's claim (a
  // corrupt atom count in a tiny file must not allocate gigabytes, nor a
  // followed file whose writer has not written the frame yet).
  const size_t target = need > SIZE_MAX - start_ ? SIZE_MAX : start_ + need;
  for (;;) {
    size_t room = buf_.size() - end_;
    if (room == 0) {
      if (buf_.size() >= target) break;
      buf_.grow(buf_.size() > SIZE_MAX / 2 ? SIZE_MAX : 2 * buf_.size(), end_);
      continue;
    }
    ssize_t r = read(fd_, buf_.data() + end_, room);
    if (r > 0) {
      if (tee_fd_ >= 0) {
        size_t off = 0;
        while (off < size_t(r)) {
          ssize_t w = write(tee_fd_, buf_.data() + end_ + off, size_t(r) - off);
          if (w < 0 && errno == EINTR) continue;
          if (w <= 0) throw ReaderError("cannot write the trajectory copy " + options_.tee_path + ": " + errno_text(errno));
          off += size_t(w);
        }
      }
      end_ += size_t(r);
      file_pos_ += uint64_t(r);
      progress += size_t(r);
      seen_data_ = true;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno != EAGAIN) throw ReaderError("cannot read " + options_.path + ": " + errno_text(errno));
    // Nothing more right now.
    if (fifo_) {
      if (r == 0 && !options_.fifo_rdwr && seen_data_) eof_ = true;  // every writer closed
      else if (writer_done_) eof_ = true;                           // drained after the writer exited
    } else if (writer_done_) {
      eof_ = true;
    } else {
      struct stat st;
      if (fstat(fd_, &st) == 0 && uint64_t(st.st_size) < file_pos_)
        throw ReaderError(options_.path + ": the file shrank from " + std::to_string(file_pos_) + " to " +
                          std::to_string(st.st_size) + " bytes while being followed (the writer truncated or restarted it)");
      if (stat(options_.path.c_str(), &st) == 0 && (uint64_t(st.st_ino) != ino_ || uint64_t(st.st_dev) != dev_))
        throw ReaderError(options_.path +
                          ": the file was replaced by another one while being followed (renamed by the writer, e.g. a "
                          "GROMACS or NAMD backup); turn the engine's backups off");
    }
    break;
  }
  if (reread) progress = (end_ != old_len || fnv1a(buf_.data(), end_) != old_hash) ? 1 : 0;
  return progress;
}

void TrajectoryReader::discard() {
  if (!options_.discard_consumed || fifo_ || !decoder_) return;
  uint64_t from = std::max<uint64_t>(discarded_, decoder_->header_end());
  from = (from + kPage - 1) / kPage * kPage;
  uint64_t to = offset_ / kPage * kPage;
  if (to <= from || to - from < kDiscardChunk) return;
  if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(from), off_t(to - from)) == 0) discarded_ = to;
  else options_.discard_consumed = false;  // not supported here: keep the data
}

}  // namespace formats
}  // namespace westream
