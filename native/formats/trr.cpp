// TRR (GROMACS full-precision trajectory), single or double precision.
// Blocks come and go per frame (box, virial, pressure, x, v, f); frames
// without positions are skipped (a Frame always has positions). Units:
// nm → Å, nm/ps → Å/ps, kJ/(mol·nm) → kJ/(mol·Å).
#include <cstring>

#include "decoder.h"

namespace westream {
namespace formats {
namespace {

constexpr size_t kIdent = 24;  // magic, 13, 12, "GMX_trn_file"
constexpr size_t kInts = 76;   // ... 13 int32 sizes and counts

class TrrDecoder : public Decoder {
 public:
  Format format() const override { return Format::Trr; }

  Step next(const Input& in, FrameSink& sink, FrameData& out) override {
    const uint8_t* p = in.data;
    if (in.size < 4) return need(kInts);
    int32_t magic = be_i32(p);
    if (magic != 1993) fail("bad TRR magic number " + std::to_string(magic) + " (expected 1993)", in.offset);
    if (in.size < kInts) return need(kInts);
    if (be_i32(p + 4) != 13 || be_i32(p + 8) != 12 || std::memcmp(p + 12, "GMX_trn_file", 12) != 0)
      fail("bad TRR frame header: version string is not GMX_trn_file", in.offset + 4);
    int32_t h[13];
    for (int k = 0; k < 13; k++) h[k] = be_i32(p + kIdent + 4 * k);
    const int32_t ir = h[0], e = h[1], box = h[2], vir = h[3], pres = h[4], top = h[5], sym = h[6];
    const int32_t xs = h[7], vs = h[8], fs = h[9], n = h[10], step = h[11];
    for (int k = 0; k < 10; k++)
      if (h[k] < 0) fail("negative TRR block size " + std::to_string(h[k]), in.offset + kIdent + 4 * k);
    if (ir || e || top || sym)
      fail("TRR frame has legacy blocks (ir/e/top/sym sizes " + std::to_string(ir) + "/" + std::to_string(e) + "/" +
               std::to_string(top) + "/" + std::to_string(sym) + "), which no GROMACS version since 4 writes",
           in.offset + kIdent);
    check_natoms(n, in.offset + kIdent + 40, "the TRR frame header");
    // Precision from any block: 9 reals for matrices, 3N for arrays.
    int64_t real = 0;
    if (box) real = box / 9;
    else if (vir) real = vir / 9;
    else if (pres) real = pres / 9;
    else if (xs) real = xs / (3 * int64_t(n));
    else if (vs) real = vs / (3 * int64_t(n));
    else if (fs) real = fs / (3 * int64_t(n));
    if (real != 4 && real != 8) fail("TRR frame header has block sizes that are neither float nor double", in.offset + kIdent);
    for (int32_t m : {box, vir, pres})
      if (m != 0 && m != 9 * real) fail("TRR matrix block of " + std::to_string(m) + " bytes (expected " + std::to_string(9 * real) + ")", in.offset + kIdent);
    for (int32_t a : {xs, vs, fs})
      if (a != 0 && int64_t(a) != 3 * int64_t(n) * real)
        fail("TRR array block of " + std::to_string(a) + " bytes for " + std::to_string(n) + " atoms", in.offset + kIdent);
    const size_t head = kInts + 2 * size_t(real);
    const size_t total = head + size_t(box) + size_t(vir) + size_t(pres) + size_t(xs) + size_t(vs) + size_t(fs);
    if (in.size < total) return need(total);
    const bool dbl = real == 8;
    const uint8_t* q = p + kInts;
    out.step = step;
    out.has_step = true;
    out.time = dbl ? be_f64(q) : be_f32(q);
    out.has_time = true;
    q = p + head;
    out.has_box = false;
    if (box) {
      float m[9];
      for (int k = 0; k < 9; k++) m[k] = conv(q + k * real, dbl, 10.0f);
      out.box[0] = m[0];
      out.box[1] = m[3];
      out.box[2] = m[4];
      out.box[3] = m[6];
      out.box[4] = m[7];
      out.box[5] = m[8];
      out.has_box = m[0] != 0 || m[4] != 0 || m[8] != 0;
      q += box;
    }
    q += vir + pres;
    if (!xs) {
      // Only velocities and/or forces in this frame: nothing to stream.
      skipped_++;
      Step s;
      s.status = Status::Skip;
      s.consumed = total;
      return s;
    }
    out.positions = array(sink.positions(n), q, n, dbl, 10.0f);
    q += xs;
    out.velocities = vs ? array(sink.velocities(n), q, n, dbl, 10.0f) : nullptr;
    q += vs;
    out.forces = fs ? array(sink.forces(n), q, n, dbl, 0.1f) : nullptr;
    frames_++;
    Step s;
    s.status = Status::Frame;
    s.consumed = total;
    return s;
  }

 private:
  static Step need(size_t n) {
    Step s;
    s.status = Status::NeedMore;
    s.need = n;
    return s;
  }
  static inline float conv(const uint8_t* q, bool dbl, float scale) {
    return dbl ? static_cast<float>(be_f64(q) * double(scale)) : be_f32(q) * scale;
  }
  static float* array(float* dst, const uint8_t* q, int32_t n, bool dbl, float scale) {
    const size_t m = 3 * size_t(n);
    if (dbl) {
      for (size_t k = 0; k < m; k++) dst[k] = static_cast<float>(be_f64(q + 8 * k) * double(scale));
    } else {
      for (size_t k = 0; k < m; k++) dst[k] = be_f32(q + 4 * k) * scale;
    }
    return dst;
  }
  uint64_t skipped_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> make_trr_decoder() { return std::unique_ptr<Decoder>(new TrrDecoder()); }

}  // namespace formats
}  // namespace westream
