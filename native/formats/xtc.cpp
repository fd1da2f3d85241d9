// XTC (GROMACS compressed trajectory): magic 1995 (32-bit byte count) and
// 2023 (64-bit byte count), systems of up to 9 atoms stored as plain floats.
// nm → Å; the frame length is computed from its header, so a partial frame
// at the end of a growing file or a FIFO is simply waited for.
#include <cmath>
#include <cstring>
#include <vector>

#include "decoder.h"
#include "xdr.h"

namespace westream {
namespace formats {
namespace {

constexpr size_t kHead = 56;  // magic natoms step time box[9] natoms

class XtcDecoder : public Decoder {
 public:
  Format format() const override { return Format::Xtc; }

  Step next(const Input& in, FrameSink& sink, FrameData& out) override {
    const uint8_t* p = in.data;
    if (in.size < 4) return need(kHead);
    int32_t magic = be_i32(p);
    if (magic != 1995 && magic != 2023)
      fail("bad XTC magic number " + std::to_string(magic) + " (expected 1995 or 2023)", in.offset);
    if (in.size < kHead) return need(kHead);
    int32_t n = be_i32(p + 4);
    int32_t n2 = be_i32(p + 52);
    check_natoms(n, in.offset + 4, "the XTC frame header");
    if (n2 != n)
      fail("XTC frame header holds two different atom counts (" + std::to_string(n) + " and " + std::to_string(n2) + ")",
           in.offset + 52);
    out.step = be_i32(p + 8);
    out.has_step = true;
    out.time = be_f32(p + 12);
    out.has_time = true;
    read_box(p + 16, out);
    out.velocities = out.forces = nullptr;
    if (n <= 9) {
      size_t total = kHead + 12 * size_t(n);
      if (in.size < total) return need(total);
      float* x = sink.positions(n);
      for (int k = 0; k < 3 * n; k++) x[k] = be_f32(p + kHead + 4 * k) * 10.0f;
      out.positions = x;
      return frame(total);
    }
    const size_t head = magic == 1995 ? 92 : 96;
    if (in.size < head) return need(head);
    float precision = be_f32(p + 56);
    if (!(precision > 0) || !std::isfinite(precision))
      fail("bad XTC precision " + std::to_string(precision), in.offset + 56);
    xdr::CompressedCoords c;
    c.natoms = n;
    for (int k = 0; k < 3; k++) {
      c.minint[k] = be_i32(p + 60 + 4 * k);
      c.maxint[k] = be_i32(p + 72 + 4 * k);
    }
    c.smallidx = be_i32(p + 84);
    uint64_t nbytes = magic == 1995 ? static_cast<uint64_t>(static_cast<uint32_t>(be_i32(p + 88))) : load_be64(p + 88);
    if (magic == 1995 && be_i32(p + 88) < 0)
      fail("negative XTC compressed size " + std::to_string(be_i32(p + 88)), in.offset + 88);
    // libxdrf's buffer holds at most 1.2 × 3 ints per atom; at least two bits
    // cover up to eleven atoms. Anything outside is corrupt (and would
    // otherwise make us wait for gigabytes or allocate for nothing).
    if (nbytes > 15 * uint64_t(n) + 64 || uint64_t(n) > 44 * nbytes + 44)
      fail("impossible XTC compressed size " + std::to_string(nbytes) + " bytes for " + std::to_string(n) + " atoms",
           in.offset + 88);
    size_t total = head + xdr::pad4(static_cast<size_t>(nbytes));
    if (in.size < total) return need(total);
    if (scratch_.size() < nbytes + xdr::kPayloadSlack) scratch_.resize(nbytes + xdr::kPayloadSlack);
    std::memcpy(scratch_.data(), p + head, nbytes);
    std::memset(scratch_.data() + nbytes, 0, xdr::kPayloadSlack);
    c.payload = scratch_.data();
    c.nbytes = static_cast<size_t>(nbytes);
    float* x = sink.positions(n);
    std::string err = xdr::decompress(c, 1.0f / precision, 10.0f, x);
    if (!err.empty()) fail(err, in.offset + head);
    out.positions = x;
    return frame(total);
  }

 private:
  static Step need(size_t n) {
    Step s;
    s.status = Status::NeedMore;
    s.need = n;
    return s;
  }
  Step frame(size_t n) {
    frames_++;
    Step s;
    s.status = Status::Frame;
    s.consumed = n;
    return s;
  }
  static void read_box(const uint8_t* b, FrameData& out) {
    float m[9];
    for (int k = 0; k < 9; k++) m[k] = be_f32(b + 4 * k) * 10.0f;
    // GROMACS boxes are lower triangular: rows a, b, c.
    out.box[0] = m[0];
    out.box[1] = m[3];
    out.box[2] = m[4];
    out.box[3] = m[6];
    out.box[4] = m[7];
    out.box[5] = m[8];
    out.has_box = m[0] != 0 || m[4] != 0 || m[8] != 0;
  }

  std::vector<uint8_t> scratch_;
};

}  // namespace

std::unique_ptr<Decoder> make_xtc_decoder() { return std::unique_ptr<Decoder>(new XtcDecoder()); }

}  // namespace formats
}  // namespace westream
