#include "qcp.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>

#include "bounds.h"
#include "simd.h"
#include "vec.h"

namespace westream::kernels {

namespace {

double solve_q(const double A[9], double e0, double wsum, double* rot, double* quat);
#ifdef WESTREAM_X86_DISPATCH
WESTREAM_TARGET_AVX512 double solve_q_avx512(const double A[9], double e0, double wsum, double* rot, double* quat);
WESTREAM_TARGET_AVX2 double solve_q_avx2(const double A[9], double e0, double wsum, double* rot, double* quat);
#endif

/**
 * The QCP solve compiled for the kernel's instruction set: a call from
 * AVX-512 or AVX2 code into code built for the baseline (SSE) would pay
 * for the switch between the two (hundreds of cycles per call here).
 */
template <int L>
WESTREAM_INLINE double solve_for(const double A[9], double e0, double wsum, double* rot, double* quat) {
#ifdef WESTREAM_X86_DISPATCH
  if constexpr (L == 16) return solve_q_avx512(A, e0, wsum, rot, quat);
  if constexpr (L == 8) return solve_q_avx2(A, e0, wsum, rot, quat);
#endif
  return solve_q(A, e0, wsum, rot, quat);
}

constexpr std::size_t FLUSH = 32;

// The inner products are accumulated in double lanes (float32 inputs are
// widened exactly): RMSD = sqrt(2 (E0 - lambda) / W) cancels almost all of E0
// when the structures are close, so float32 sums would limit the RMSD to
// ~1e-3 A; double sums keep it exact to ~1e-7 A like MDAnalysis.
enum Acc { SX, SY, SZ, SQ, XX, XY, XZ, YX, YY, YZ, ZX, ZY, ZZ, NACC };

/** acc[XX..ZZ] += (X, Y, Z) (x) (wx, wy, wz): the reference-frame inner-product matrix, in any lane type. */
template <class A, class V>
WESTREAM_INLINE void add_outer(A* acc, const V& X, const V& Y, const V& Z, const V& wx, const V& wy, const V& wz) {
  acc[XX] += X * wx, acc[XY] += X * wy, acc[XZ] += X * wz;
  acc[YX] += Y * wx, acc[YY] += Y * wy, acc[YZ] += Y * wz;
  acc[ZX] += Z * wx, acc[ZY] += Z * wy, acc[ZZ] += Z * wz;
}

template <int L, bool Indexed, bool Weighted>
WESTREAM_INLINE void qcp_sums(const QcpArgs& a, const double s[3], double S[NACC]) {
  constexpr int D = L / 2;  // double lanes
  using namespace vec;
  const float* __restrict p = a.positions;
  const int32_t* __restrict idx = a.index;
  const float* __restrict w = a.weights;
  const std::size_t n = a.ref.n;
  const vd<D> sx = s[0] + vd<D>{}, sy = s[1] + vd<D>{}, sz = s[2] + vd<D>{};
  vd<D> acc[NACC];
  for (int c = 0; c < NACC; ++c) acc[c] = vd<D>{};
  std::size_t i = 0;
  for (; i + D <= n; i += D) {
    vf<D> fx, fy, fz;
    if (Indexed) gather_xyz<D>(p, idx + i, fx, fy, fz);
    else load_xyz<D>(p + 3 * i, fx, fy, fz);
    const vd<D> x = widen<D>(fx) - sx, y = widen<D>(fy) - sy, z = widen<D>(fz) - sz;
    vd<D> wx = x, wy = y, wz = z;
    if (Weighted) {
      const vd<D> wj = widen<D>(load<D>(w + i));
      wx = wj * x, wy = wj * y, wz = wj * z;
    }
    const vd<D> X = widen<D>(load<D>(a.ref.wx + i)), Y = widen<D>(load<D>(a.ref.wy + i)), Z = widen<D>(load<D>(a.ref.wz + i));
    acc[SX] += wx;
    acc[SY] += wy;
    acc[SZ] += wz;
    acc[SQ] += wx * x + wy * y + wz * z;
    add_outer(acc, X, Y, Z, wx, wy, wz);
  }
  for (int c = 0; c < NACC; ++c) S[c] += hsum<D>(acc[c]);
  for (; i < n; ++i) {  // tail
    const std::size_t k = Indexed ? static_cast<std::size_t>(idx[i]) : i;
    const double x = double(p[3 * k]) - s[0], y = double(p[3 * k + 1]) - s[1], z = double(p[3 * k + 2]) - s[2];
    const double wj = Weighted ? double(w[i]) : 1.0;
    const double wx = wj * x, wy = wj * y, wz = wj * z;
    const double X = a.ref.wx[i], Y = a.ref.wy[i], Z = a.ref.wz[i];
    S[SX] += wx, S[SY] += wy, S[SZ] += wz;
    S[SQ] += wx * x + wy * y + wz * z;
    add_outer(S, X, Y, Z, wx, wy, wz);
  }
}

// Fast path: float32 passes over the frame turned by a predicted rotation P
// (a unit quaternion from the caller: the previous frame's rotation in a
// trajectory), per atom t = P (m - a), d = t - r, with a the frame atom
// nearest the reference centre; for a good prediction d is about the frame's
// deviation from the reference whatever the frame's orientation. (A
// prediction within 30 degrees of the identity is taken as the identity,
// t = m - s with s = a - r_a: a third fewer operations, and |d| up to half
// the structure's size is accurate enough from a few hundred atoms up.) The
// sums of w t, w |d|^2 and w r d^T are accumulated in float32 lanes, flushed
// into double every FAST_FLUSH blocks, and turned (in double) into sums over
// the frame itself, v = P^T (d + r) = (m - a) + perturbation, with the
// reference's own sums, prepared once; the QCP solve works on those. So
// whatever rotation was predicted, the result is the exact RMSD of a frame
// perturbed by the float rounding of P (m - a): the rounding of P to float
// (|P_f - P|, known) and of the few operations per atom (random, about
// 2^-23 |v| or less).
//
// The selection is summed in segments that end at QCP_CHECKPOINT_ATOMS
// (1024, 4096 and 16384 atoms, when at most half of the selection). At each
// checkpoint, if the prediction fits the atoms so far more than about 6
// degrees off and the rest of the pass would not be accurate enough with
// it, the rotation of those atoms is solved for and, when it fits them
// clearly better, replaces the prediction; the atoms so far (in cache) are
// summed again with it. So a frame in an unexpected orientation costs a
// small QCP solve and a re-read of 1024 atoms from cache, not a second pass.
//
// The rounding of the lane sums (relative 6e-8 per addition) enters
// RMSD = sqrt(2 (E0 - lambda) / W) as an error of about
// 6e-8 sqrt(F) dm (rg + sqrt(F / 3) dm) sqrt(sum w^2) / (W rmsd) per segment
// (F terms per lane between flushes; dm and rg the root-mean-square |d| and
// |r| over the segment), plus the same for the sums of t times |mean d|.
// Over random rotations, predictions, noise levels, extents and masses from
// 100 to 100k atoms the error was at most 0.8 times that (sum and
// perturbation); the pass is accepted when twice the sum over the segments
// plus the perturbation is at most FAST_MAX_ERROR. Otherwise it is repeated
// in float32 with the rotation and centres just found (d is then the
// residual itself), and if that is still not accurate enough, the sums are
// redone in double precision: near-zero RMSDs of groups spread far apart.
constexpr std::size_t FAST_FLUSH = 64;
constexpr double FAST_MAX_ERROR = 2e-5;  // Å
constexpr double ULP23 = 1.0 / 8388608.0;  // 2^-23
// A frame predicted to lie within 30 degrees of the reference's orientation
// is not rotated: |d| up to half the size of the structure is accurate
// enough from a few hundred atoms up, and the loop without the rotation is
// about a third cheaper where the data are in cache.
constexpr double COS_HALF_SNAP = 0.96592582628906831;  // cos(15 degrees)

template <int L, bool Indexed, bool Weighted, bool Rotate>
WESTREAM_INLINE void rotated_sums(const QcpArgs& a, std::size_t begin, std::size_t end, std::size_t flush, const float P[9],
                                  const float sa[3], double S[NACC]) {
  using namespace vec;
  const float* __restrict p = a.positions;
  const int32_t* __restrict idx = a.index;
  const float* __restrict w = a.weights;
  const float* __restrict rx = a.ref.wx;
  const float* __restrict ry = a.ref.wy;
  const float* __restrict rz = a.ref.wz;
  const std::size_t n = a.ref.n;
  const vf<L> ax = sa[0] + vf<L>{}, ay = sa[1] + vf<L>{}, az = sa[2] + vf<L>{};
  const vf<L> p0 = P[0] + vf<L>{}, p1 = P[1] + vf<L>{}, p2 = P[2] + vf<L>{};
  const vf<L> p3 = P[3] + vf<L>{}, p4 = P[4] + vf<L>{}, p5 = P[5] + vf<L>{};
  const vf<L> p6 = P[6] + vf<L>{}, p7 = P[7] + vf<L>{}, p8 = P[8] + vf<L>{};
  vd<L / 2> wide[NACC];
  for (int c = 0; c < NACC; ++c) wide[c] = vd<L / 2>{};
  std::size_t i = begin;
  while (i + L <= end) {
    vf<L> acc[NACC];
    for (int c = 0; c < NACC; ++c) acc[c] = vf<L>{};
    const std::size_t stop = std::min(end, i + flush * L);
    for (; i + L <= stop; i += L) {
      vf<L> x, y, z;
      if (Indexed) {
        gather_xyz<L>(p, idx + i, x, y, z);
      } else {
        if (i + PREFETCH_ATOMS + L <= n) {
          vec::prefetch_xyz<L>(p + 3 * (i + PREFETCH_ATOMS));
          vec::prefetch<L>(rx + i + PREFETCH_ATOMS), vec::prefetch<L>(ry + i + PREFETCH_ATOMS), vec::prefetch<L>(rz + i + PREFETCH_ATOMS);
        }
        load_xyz<L>(p + 3 * i, x, y, z);
      }
      const vf<L> X = load<L>(rx + i), Y = load<L>(ry + i), Z = load<L>(rz + i);
      // t: the frame atom moved onto the reference (d = t - r)
      vf<L> tx, ty, tz;
      if (Rotate) {
        x -= ax, y -= ay, z -= az;
        tx = p0 * x + (p1 * y + p2 * z);
        ty = p3 * x + (p4 * y + p5 * z);
        tz = p6 * x + (p7 * y + p8 * z);
      } else {  // P = I: sa holds the shift a - b (rounded to float; the caller accounts for it)
        tx = x - ax, ty = y - ay, tz = z - az;
      }
      const vf<L> dx = tx - X, dy = ty - Y, dz = tz - Z;
      vf<L> wx = dx, wy = dy, wz = dz;
      if (Weighted) {
        const vf<L> wj = load<L>(w + i);
        wx = wj * dx, wy = wj * dy, wz = wj * dz;
        tx *= wj, ty *= wj, tz *= wj;
      }
      // The sums of t, not of d: every d can share one offset below the float grid of the
      // frame's coordinates (that of the reference's centring), so that every addition would
      // round the same way; t has none. (sum d = sum t - sum r, in double.)
      acc[SX] += tx;
      acc[SY] += ty;
      acc[SZ] += tz;
      acc[SQ] += wx * dx + wy * dy + wz * dz;
      add_outer(acc, X, Y, Z, wx, wy, wz);
    }
    for (int c = 0; c < NACC; ++c) accumulate_wide<L>(wide[c], acc[c]);
  }
  for (int c = 0; c < NACC; ++c) S[c] += hsum_tree<L / 2>(wide[c]);
  for (; i < end; ++i) {  // tail (last segment only): the same float differences, summed in double
    const std::size_t k = Indexed ? static_cast<std::size_t>(idx[i]) : i;
    const float x = p[3 * k] - sa[0], y = p[3 * k + 1] - sa[1], z = p[3 * k + 2] - sa[2];
    float tx = x, ty = y, tz = z;
    if (Rotate) {
      tx = P[0] * x + (P[1] * y + P[2] * z);
      ty = P[3] * x + (P[4] * y + P[5] * z);
      tz = P[6] * x + (P[7] * y + P[8] * z);
    }
    const float fx = tx - rx[i], fy = ty - ry[i], fz = tz - rz[i];
    const double dx = fx, dy = fy, dz = fz;
    const double wj = Weighted ? double(w[i]) : 1.0;
    const double wx = wj * dx, wy = wj * dy, wz = wj * dz;
    const double X = rx[i], Y = ry[i], Z = rz[i];
    S[SX] += wj * tx, S[SY] += wj * ty, S[SZ] += wj * tz;
    S[SQ] += wx * dx + wy * dy + wz * dz;
    add_outer(S, X, Y, Z, wx, wy, wz);
  }
}

// rotated_sums with the index and weights the arguments have.
template <int L, bool Rotate>
WESTREAM_INLINE void sums_for(const QcpArgs& a, std::size_t begin, std::size_t end, std::size_t flush, const float P[9],
                              const float sa[3], double S[NACC]) {
  if (a.index) {
    if (a.weights) rotated_sums<L, true, true, Rotate>(a, begin, end, flush, P, sa, S);
    else rotated_sums<L, true, false, Rotate>(a, begin, end, flush, P, sa, S);
  } else {
    if (a.weights) rotated_sums<L, false, true, Rotate>(a, begin, end, flush, P, sa, S);
    else rotated_sums<L, false, false, Rotate>(a, begin, end, flush, P, sa, S);
  }
}

template <int L>
WESTREAM_INLINE void rotated_segment(const QcpArgs& a, std::size_t begin, std::size_t end, std::size_t flush, bool rotate,
                                     const float P[9], const float sa[3], double S[NACC]) {
  for (int c = 0; c < NACC; ++c) S[c] = 0;
  if (rotate) sums_for<L, true>(a, begin, end, flush, P, sa, S);
  else sums_for<L, false>(a, begin, end, flush, P, sa, S);
}

/** Reference sums over the first atoms (a checkpoint or all n), as QcpPrefix. */
WESTREAM_INLINE QcpPrefix prefix_at(const QcpReference& r, std::size_t atoms) {
  if (atoms == 0) return QcpPrefix{};
  for (int j = 0; j < QCP_CHECKPOINTS; ++j)
    if (atoms == QCP_CHECKPOINT_ATOMS[j] && atoms < r.n) return r.prefix[j];
  QcpPrefix all{r.wsum, r.w2sum, {r.rsum[0], r.rsum[1], r.rsum[2]}, {}};
  for (int c = 0; c < 6; ++c) all.syy[c] = r.syy[c];
  return all;
}

/** Sums over the frame in frame coordinates v = m - a (double): sum w v, sum w |v|^2, sum w r v^T. */
struct FrameSums {
  double v[3];
  double vv;
  double rv[9];
};

WESTREAM_INLINE void expand_syy(const double s[6], double out[9]) {
  const double m[9] = {s[0], s[1], s[2], s[1], s[3], s[4], s[2], s[4], s[5]};
  for (int k = 0; k < 9; ++k) out[k] = m[k];
}

/**
 * Adds a segment's float sums to the frame sums: St holds the sums of w t,
 * w |d|^2 and w r d^T with d = t - r = y + b - r, y = P v; y's sums follow
 * from them and the segment's reference sums g, then v = P^T y (P null: the
 * identity).
 */
WESTREAM_INLINE void add_segment(FrameSums& T, const double St[NACC], const QcpPrefix& g, const double P[9], const double b[3]) {
  double S[NACC];  // St holds the sums of w t = w (d + r): those of w d
  for (int c = 0; c < NACC; ++c) S[c] = St[c];
  for (int c = 0; c < 3; ++c) S[SX + c] -= g.rsum[c];
  double rr[9];
  expand_syy(g.syy, rr);
  double y[3], ry[9];
  for (int c = 0; c < 3; ++c) y[c] = S[SX + c] + g.rsum[c] - g.wsum * b[c];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) ry[3 * i + j] = S[XX + 3 * i + j] + rr[3 * i + j] - g.rsum[i] * b[j];
  const double bd = b[0] * S[SX] + b[1] * S[SY] + b[2] * S[SZ];
  const double br = b[0] * g.rsum[0] + b[1] * g.rsum[1] + b[2] * g.rsum[2];
  const double bb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
  T.vv += S[SQ] + 2 * (S[XX] + S[YY] + S[ZZ] - bd) + (rr[0] + rr[4] + rr[8]) - 2 * br + g.wsum * bb;
  if (!P) {  // the identity
    for (int c = 0; c < 3; ++c) T.v[c] += y[c];
    for (int k = 0; k < 9; ++k) T.rv[k] += ry[k];
    return;
  }
  for (int c = 0; c < 3; ++c) T.v[c] += P[c] * y[0] + P[3 + c] * y[1] + P[6 + c] * y[2];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) T.rv[3 * i + j] += ry[3 * i] * P[j] + ry[3 * i + 1] * P[3 + j] + ry[3 * i + 2] * P[6 + j];
}

/** sum w |X v - (r - b)|^2 over the atoms of T (reference sums g), for a rotation X. */
WESTREAM_INLINE double spread_under(const FrameSums& T, const QcpPrefix& g, const double X[9], const double b[3]) {
  double rr[9];
  expand_syy(g.syy, rr);
  double cross = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) cross += X[3 * i + j] * (T.rv[3 * i + j] - b[i] * T.v[j]);
  const double srr = rr[0] + rr[4] + rr[8] - 2 * (b[0] * g.rsum[0] + b[1] * g.rsum[1] + b[2] * g.rsum[2]) + g.wsum * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
  return T.vv - 2 * cross + srr;
}

/** QCP on frame sums over the atoms with reference sums g (the first atoms, or all): RMSD, rotation, quaternion. */
template <int L>
WESTREAM_INLINE double solve_frame_sums(const FrameSums& T, const QcpPrefix& g, double* rot, double* quat, double cv[3]) {
  const double W = g.wsum;
  for (int c = 0; c < 3; ++c) cv[c] = T.v[c] / W;
  const double cr[3] = {g.rsum[0] / W, g.rsum[1] / W, g.rsum[2] / W};
  double A[9];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) A[3 * i + j] = T.rv[3 * i + j] - g.rsum[i] * cv[j];
  const double ga = T.vv - W * (cv[0] * cv[0] + cv[1] * cv[1] + cv[2] * cv[2]);
  // The whole reference is centred (to float precision: W |cr|^2 is negligible); a prefix is not.
  const double gb = g.syy[0] + g.syy[3] + g.syy[5] - W * (cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]);
  return solve_for<L>(A, 0.5 * (std::max(ga, 0.0) + std::max(gb, 0.0)), W, rot, quat);
}

/** The rotation matrix (as qcp_solve writes it) of a unit quaternion. */
WESTREAM_INLINE void quat_to_rot(const double q[4], double rot[9]) {
  const double a2 = q[0] * q[0], x2 = q[1] * q[1], y2 = q[2] * q[2], z2 = q[3] * q[3];
  const double xy = q[1] * q[2], az = q[0] * q[3], zx = q[3] * q[1], ay = q[0] * q[2], yz = q[2] * q[3], ax = q[0] * q[1];
  rot[0] = a2 + x2 - y2 - z2;
  rot[1] = 2 * (xy + az);
  rot[2] = 2 * (zx - ay);
  rot[3] = 2 * (xy - az);
  rot[4] = a2 - x2 + y2 - z2;
  rot[5] = 2 * (yz + ax);
  rot[6] = 2 * (zx + ay);
  rot[7] = 2 * (yz - ax);
  rot[8] = a2 - x2 - y2 + z2;
}

/** A prediction for the float passes: P (double, orthogonal) and its float copy; |P_f - P|_F. */
struct Prediction {
  double q[4];
  double P[9];
  float Pf[9];
  double rounding;
  bool rotate;  // false: P = I, the frame is not rotated (the cheaper loop)
  /** snap: a prediction within 30 degrees of the identity is taken as the identity (COS_HALF_SNAP). */
  WESTREAM_INLINE void set(const double quat[4], bool snap) {
    for (int c = 0; c < 4; ++c) q[c] = quat[c];
    rotate = !(std::fabs(q[0]) >= (snap ? COS_HALF_SNAP : 1.0));
    if (!rotate) {
      q[0] = 1, q[1] = q[2] = q[3] = 0;
      for (int k = 0; k < 9; ++k) P[k] = Pf[k] = k % 4 == 0 ? 1 : 0;
      rounding = 0;
      return;
    }
    quat_to_rot(q, P);
    double e = 0;
    for (int k = 0; k < 9; ++k) {
      Pf[k] = float(P[k]);
      e += (double(Pf[k]) - P[k]) * (double(Pf[k]) - P[k]);
    }
    rounding = std::sqrt(e);
  }
};

// What the kernel did, for benchmarks and tests: process-wide, relaxed loads and stores (no
// locked instruction, no thread-local lookup through the dynamic linker on every call), so
// counts from threads running the kernel at the same time may be lost.
struct AtomicCounters {
  std::atomic<std::uint64_t> calls{0}, float_passes{0}, double_passes{0}, refinements{0};
};
AtomicCounters counters;
WESTREAM_INLINE void bump(std::atomic<std::uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

struct FloatPass {
  double rmsd;
  double err;      // estimated error bound (Å) from the sums' rounding (twice the estimate)
  double perturb;  // from the rounding of P (m - a)
  bool accurate;   // err + perturb <= FAST_MAX_ERROR
  double center[3];
  double rot[9];
  double quat[4];
};

/**
 * One float pass with the prediction `pred` and shift points sa (frame) and
 * sb (reference; used when the frame is not rotated); refine: replace the
 * prediction at checkpoints when it fits clearly worse than the rotation of
 * the atoms so far.
 */
template <int L>
WESTREAM_INLINE FloatPass float_pass(const QcpArgs& a, Prediction& pred, const float sa[3], const float sb[3], bool refine,
                                     double rmsd_guess) {
  const QcpReference& r = a.ref;
  const std::size_t n = r.n;
  // Not rotated: d = (m - s) - r with s = sa - sb rounded to float, that is d = (m - a) + b - r
  // with a = sa and b = a - s exactly (in double). Rotated: d = P (m - a) - r with a = sa - P^T sb
  // rounded to float (b = 0, three registers fewer in the loop; P (m - a) is still about r).
  const float s_id[3] = {sa[0] - sb[0], sa[1] - sb[1], sa[2] - sb[2]};
  const double b_rot[3] = {0, 0, 0};
  const double b_id[3] = {double(sa[0]) - s_id[0], double(sa[1]) - s_id[1], double(sa[2]) - s_id[2]};
  float a_rot[3] = {sa[0], sa[1], sa[2]};
  auto rotated_shift = [&]() {
    if (pred.rotate)
      for (int c = 0; c < 3; ++c)
        a_rot[c] = float(double(sa[c]) - (pred.P[c] * sb[0] + pred.P[3 + c] * sb[1] + pred.P[6 + c] * sb[2]));
  };
  rotated_shift();
  const bool checkpoints = refine && 2 * QCP_CHECKPOINT_ATOMS[0] <= n;
  const std::size_t flush = FAST_FLUSH;
  const double W = r.wsum;
  FrameSums T{};
  double delta = 0;    // sum over segments of the E0 - lambda rounding estimate
  double delta_t = 0;  // the same for the sums of t (E0 moves by |mean d| times it)
  double dtotal[3] = {0, 0, 0};  // sum w d
  QcpPrefix before{};
  std::size_t begin = 0;
  unsigned restarted = 0;
  for (int cp = 0; cp <= QCP_CHECKPOINTS; ++cp) {
    std::size_t end = n;
    if (cp < QCP_CHECKPOINTS) {
      if (!checkpoints || 2 * QCP_CHECKPOINT_ATOMS[cp] > n) continue;
      end = QCP_CHECKPOINT_ATOMS[cp];
    }
    const double* b = pred.rotate ? b_rot : b_id;
    double S[NACC];
    rotated_segment<L>(a, begin, end, flush, pred.rotate, pred.Pf, pred.rotate ? a_rot : s_id, S);
    const QcpPrefix upto = prefix_at(r, end);
    QcpPrefix g;
    g.wsum = upto.wsum - before.wsum;
    g.w2sum = upto.w2sum - before.w2sum;
    for (int c = 0; c < 3; ++c) g.rsum[c] = upto.rsum[c] - before.rsum[c];
    for (int c = 0; c < 6; ++c) g.syy[c] = upto.syy[c] - before.syy[c];
    add_segment(T, S, g, pred.rotate ? pred.P : nullptr, b);
    for (int c = 0; c < 3; ++c) dtotal[c] += S[SX + c] - g.rsum[c];
    // E0 - lambda rounding of this segment: 6e-8 sqrt(F) dm (rg + sqrt(F / 3) dm) sqrt(sum w^2)
    // (the cross terms' lane sums wander like sqrt(F), the sum of |d|^2 grows like F;
    // F: the terms a lane adds up before it is flushed, fewer in a short segment). The sums
    // of t = d + r, rounded the same way (|t| about |r|, their mean about that of d), move
    // E0 through the centre: by |mean d| times their error, added at the end.
    const std::size_t count = end - begin;
    const double sqrt_f = std::sqrt(double(std::max<std::size_t>(1, std::min(flush, count / L))));
    const double dsq = std::max(S[SQ], 0.0), rsq = std::max(g.syy[0] + g.syy[3] + g.syy[5], 0.0);
    const double tsum = std::sqrt(S[SX] * S[SX] + S[SY] * S[SY] + S[SZ] * S[SZ]);
    if (g.wsum > 0) {
      const double scale = 6e-8 * sqrt_f * std::sqrt(std::max(g.w2sum, 0.0)) / g.wsum;
      delta += scale * (std::sqrt(dsq * rsq) + 0.57735026918962584 * sqrt_f * dsq);
      delta_t += scale * (std::sqrt(2 * (dsq + rsq) * g.wsum) + 0.57735026918962584 * sqrt_f * tsum);
    } else if (dsq > 0) {
      delta = INFINITY;
    }
    before = upto;
    begin = end;
    if (end == n) break;
    if (!(upto.wsum > 0) || (restarted >> cp & 1)) continue;
    // Checkpoint: would the rest of the pass be accurate with this prediction? If not, does the
    // rotation of the atoms so far fit them clearly better?
    const double spread = spread_under(T, upto, pred.P, b);
    const double rr = upto.syy[0] + upto.syy[3] + upto.syy[5];
    if (!(spread > 0.01 * rr)) continue;  // within about 6 degrees (or the noise is large): keep it
    // The error the whole pass would have at this spread, times the RMSD (that of the atoms so
    // far, or half the last frame's RMSD when that already clears it: no solve needed).
    const double dm2 = spread / upto.wsum, rg2 = rr / upto.wsum;
    const double projected = 2 * 6e-8 * std::sqrt(double(FAST_FLUSH)) * (std::sqrt(dm2 * rg2) + std::sqrt(FAST_FLUSH / 3.0) * dm2) *
                             std::sqrt(std::max(r.w2sum, 0.0)) / W;
    if (rmsd_guess > 0 && projected <= 0.5 * FAST_MAX_ERROR * 0.5 * rmsd_guess) continue;
    double Q[9], q[4], cv[3];
    const double rho = solve_frame_sums<L>(T, upto, Q, q, cv);
    if (projected <= 0.5 * FAST_MAX_ERROR * rho) continue;
    if (!(spread_under(T, upto, Q, b) < 0.5 * spread)) continue;
    // Take it, and sum the atoms so far again with it (they are still in cache), so that one
    // prediction serves the whole pass and no segment keeps large differences.
    pred.set(q, false);
    rotated_shift();
    bump(counters.refinements);
    restarted |= 1u << cp;
    T = FrameSums{};
    delta = 0;
    delta_t = 0;
    dtotal[0] = dtotal[1] = dtotal[2] = 0;
    before = QcpPrefix{};
    begin = 0;
    cp = -1;
  }
  bump(counters.float_passes);
  FloatPass out;
  double cv[3];
  // The frame the sums describe is m - a perturbed by at most |P_f - P| |v| (systematic) and the
  // rounding of a few float operations per atom (random: about 0.4 2^-23 |v| rms over many atoms,
  // which moves the RMSD by its square over 2 rmsd; at most 2 2^-23 |v| for a few atoms).
  // Everything that does not need the RMSD is computed before the solve (it runs on every call).
  const double inv_w = 1 / W, inv_sqrt_n = 1 / std::sqrt(double(n));
  const double rgv = std::sqrt(std::max(T.vv, 0.0) * inv_w);
  const double eps = ULP23 * (1 + 4 * inv_sqrt_n) * rgv, systematic = pred.rounding * rgv;
  // (E0 moves by 2 mean(d) . error(sum d) / 2: the shift points cancel out)
  const double dmean[3] = {dtotal[0] * inv_w, dtotal[1] * inv_w, dtotal[2] * inv_w};
  delta += delta_t * std::sqrt(dmean[0] * dmean[0] + dmean[1] * dmean[1] + dmean[2] * dmean[2]);
  const double rho = out.rmsd = solve_frame_sums<L>(T, prefix_at(r, n), out.rot, out.quat, cv);
  for (int c = 0; c < 3; ++c) out.center[c] = double(pred.rotate ? a_rot[c] : sa[c]) + cv[c];
  // err + perturb <= FAST_MAX_ERROR, multiplied by W rmsd: no division on the way
  const double w_rho = W * rho;
  out.accurate = rho > 0 && 2 * delta + w_rho * systematic + W * std::min(eps * rho, eps * eps + 3 * eps * rho * inv_sqrt_n) <= FAST_MAX_ERROR * w_rho;
  const double inv = 1 / w_rho;
  out.err = 2 * delta * inv;
  if (!(out.err >= 0)) out.err = delta > 0 ? INFINITY : 0;  // rmsd 0: exact only when nothing was rounded
  const double random = eps * (eps * W * inv + 3 * inv_sqrt_n);
  out.perturb = systematic + (random < eps ? random : eps);
  if (!(rho > 0)) out.accurate = out.err + out.perturb <= FAST_MAX_ERROR;
  return out;
}

template <int L>
WESTREAM_INLINE void qcp_all_sums(const QcpArgs& a, const double s[3], double S[NACC]) {
  for (int c = 0; c < NACC; ++c) S[c] = 0;
  if (a.index) {
    if (a.weights) qcp_sums<L, true, true>(a, s, S);
    else qcp_sums<L, true, false>(a, s, S);
  } else {
    if (a.weights) qcp_sums<L, false, true>(a, s, S);
    else qcp_sums<L, false, false>(a, s, S);
  }
}

WESTREAM_INLINE bool unit_quaternion(const double* q) {
  if (!q) return false;
  const double n2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3];
  return std::isfinite(n2) && std::fabs(n2 - 1) < 1e-6;
}

template <int L>
WESTREAM_INLINE double qcp_body(const QcpArgs& a) {
  bump(counters.calls);
  const QcpReference& r = a.ref;
  // Shift points: the frame atom nearest the reference centre and its reference position.
  const std::size_t j = r.shift < r.n ? r.shift : 0;
  const std::size_t k0 = a.index ? static_cast<std::size_t>(a.index[j]) : j;
  const float sa[3] = {a.positions[3 * k0], a.positions[3 * k0 + 1], a.positions[3 * k0 + 2]};
  const float sb[3] = {r.wx[j], r.wy[j], r.wz[j]};
  Prediction pred;
  double q0[4] = {1, 0, 0, 0};
  if (unit_quaternion(a.predictor)) {
    const double* p = a.predictor;
    const double norm = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2] + p[3] * p[3]);
    for (int c = 0; c < 4; ++c) q0[c] = p[c] / norm;
  }
  pred.set(q0, true);
  const double guess = a.predictor && std::isfinite(a.predictor[4]) && a.predictor[4] > 0 ? a.predictor[4] : 0;
  FloatPass f = float_pass<L>(a, pred, sa, sb, true, guess);
  const bool want = a.rotation || a.center || a.predictor;
  auto accept = [&](const FloatPass& x) {
    if (a.rotation)
      for (int k = 0; k < 9; ++k) a.rotation[k] = x.rot[k];
    if (a.center)
      for (int c = 0; c < 3; ++c) a.center[c] = x.center[c];
    if (a.predictor) {
      for (int c = 0; c < 4; ++c) a.predictor[c] = x.quat[c];
      a.predictor[4] = x.rmsd;
    }
    return x.rmsd;
  };
  if (f.accurate) return accept(f);
  if (f.perturb <= 0.5 * FAST_MAX_ERROR) {
    // Again, rotated by the rotation just found, about the centres just found: d is the residual.
    pred.set(f.quat, false);
    const float ca[3] = {float(f.center[0]), float(f.center[1]), float(f.center[2])};
    const float cb[3] = {float(r.rsum[0] / r.wsum), float(r.rsum[1] / r.wsum), float(r.rsum[2] / r.wsum)};
    const FloatPass g = float_pass<L>(a, pred, ca, cb, false, 0);
    if (g.accurate) return accept(g);
  }
  // Double precision, no rotation: exact for any frame.
  bump(counters.double_passes);
  const double s[3] = {double(sa[0]) - sb[0], double(sa[1]) - sb[1], double(sa[2]) - sb[2]};
  double S[NACC];
  qcp_all_sums<L>(a, s, S);
  const double W = r.wsum;
  const double dc[3] = {S[SX] / W, S[SY] / W, S[SZ] / W};
  const double ga = S[SQ] - W * (dc[0] * dc[0] + dc[1] * dc[1] + dc[2] * dc[2]);
  double A[9];
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c) A[3 * i + c] = S[XX + 3 * i + c] - dc[c] * r.rsum[i];
  FloatPass d{};
  for (int c = 0; c < 3; ++c) d.center[c] = s[c] + dc[c];
  d.rmsd = solve_for<L>(A, 0.5 * (std::max(ga, 0.0) + r.gb), W, want ? d.rot : nullptr, want ? d.quat : nullptr);
  return accept(d);
}

WESTREAM_DISPATCH(double, qcp_dispatch, QcpArgs, qcp_body)

template <int L, bool Indexed, bool Weighted>
WESTREAM_INLINE void transformed_sums(const TransformedRmsdArgs& a, double* out) {
  using namespace vec;
  const float* __restrict p = a.positions;
  const int32_t* __restrict idx = a.index;
  const float* __restrict w = a.weights;
  const float R[9] = {float(a.rotation[0]), float(a.rotation[1]), float(a.rotation[2]), float(a.rotation[3]), float(a.rotation[4]),
                      float(a.rotation[5]), float(a.rotation[6]), float(a.rotation[7]), float(a.rotation[8])};
  const float cx = float(a.center[0]), cy = float(a.center[1]), cz = float(a.center[2]);
  const std::size_t n = a.n;
  std::size_t i = 0;
  double total = 0;
  while (i + L <= n) {
    vf<L> acc = vf<L>{};
    const std::size_t stop = std::min(n, i + FLUSH * L);
    for (; i + L <= stop; i += L) {
      vf<L> x, y, z;
      if (Indexed) gather_xyz<L>(p, idx + i, x, y, z);
      else load_xyz<L>(p + 3 * i, x, y, z);
      x -= cx, y -= cy, z -= cz;
      const vf<L> dx = R[0] * x + R[1] * y + R[2] * z - load<L>(a.rx + i);
      const vf<L> dy = R[3] * x + R[4] * y + R[5] * z - load<L>(a.ry + i);
      const vf<L> dz = R[6] * x + R[7] * y + R[8] * z - load<L>(a.rz + i);
      const vf<L> d2 = dx * dx + dy * dy + dz * dz;
      acc += Weighted ? load<L>(w + i) * d2 : d2;
    }
    for (int j = 0; j < L; ++j) total += acc[j];
  }
  for (; i < n; ++i) {
    const std::size_t k = Indexed ? static_cast<std::size_t>(idx[i]) : i;
    const float x = p[3 * k] - cx, y = p[3 * k + 1] - cy, z = p[3 * k + 2] - cz;
    const float dx = R[0] * x + R[1] * y + R[2] * z - a.rx[i];
    const float dy = R[3] * x + R[4] * y + R[5] * z - a.ry[i];
    const float dz = R[6] * x + R[7] * y + R[8] * z - a.rz[i];
    total += (Weighted ? w[i] : 1.0f) * double(dx * dx + dy * dy + dz * dz);
  }
  *out = total;
}

template <int L>
WESTREAM_INLINE double transformed_body(const TransformedRmsdArgs& a) {
  double sum = 0;
  if (a.index) {
    if (a.weights) transformed_sums<L, true, true>(a, &sum);
    else transformed_sums<L, true, false>(a, &sum);
  } else {
    if (a.weights) transformed_sums<L, false, true>(a, &sum);
    else transformed_sums<L, false, false>(a, &sum);
  }
  return sum;
}

WESTREAM_DISPATCH(double, transformed_dispatch, TransformedRmsdArgs, transformed_body)

}  // namespace

QcpReference qcp_reference(const float* x, const float* y, const float* z, std::size_t n, const float* w) {
  QcpReference r{};
  r.wx = x, r.wy = y, r.wz = z, r.n = n;
  double best = INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = w ? double(w[i]) : 1.0;
    const double X = x[i], Y = y[i], Z = z[i];
    r.wsum += wi;
    r.w2sum += wi * wi;
    r.rsum[0] += wi * X, r.rsum[1] += wi * Y, r.rsum[2] += wi * Z;
    r.syy[0] += wi * X * X, r.syy[1] += wi * X * Y, r.syy[2] += wi * X * Z;
    r.syy[3] += wi * Y * Y, r.syy[4] += wi * Y * Z, r.syy[5] += wi * Z * Z;
    const double d2 = X * X + Y * Y + Z * Z;
    if (d2 < best) best = d2, r.shift = i;
    for (int j = 0; j < QCP_CHECKPOINTS; ++j)
      if (i + 1 == QCP_CHECKPOINT_ATOMS[j]) r.prefix[j] = QcpPrefix{r.wsum, r.w2sum, {r.rsum[0], r.rsum[1], r.rsum[2]}, {r.syy[0], r.syy[1], r.syy[2], r.syy[3], r.syy[4], r.syy[5]}};
  }
  r.gb = r.syy[0] + r.syy[3] + r.syy[5];
  return r;
}

double qcp_rmsd(const QcpArgs& a) {
  if (a.ref.n == 0) throw std::invalid_argument("qcp_rmsd: the selection is empty");
  if (!a.ref.wx || !a.ref.wy || !a.ref.wz || !a.positions) throw std::invalid_argument("qcp_rmsd: null array");
  if (!(a.ref.wsum > 0)) throw std::invalid_argument("qcp_rmsd: the weights must sum to a positive number");
  if (a.index) {
    if (a.max_index < 0 || std::size_t(a.max_index) >= a.natoms) check_indices(a.index, a.ref.n, a.natoms, "qcp_rmsd");
  } else if (a.ref.n > a.natoms) {
    throw std::out_of_range("qcp_rmsd: the reference has more atoms than the frame");
  }
  return qcp_dispatch(a);
}

double transformed_rmsd(const TransformedRmsdArgs& a) {
  if (a.n == 0) throw std::invalid_argument("transformed_rmsd: the selection is empty");
  if (!a.rx || !a.ry || !a.rz || !a.positions || !a.rotation || !a.center) throw std::invalid_argument("transformed_rmsd: null array");
  if (a.index) check_indices(a.index, a.n, a.natoms, "transformed_rmsd");
  else if (a.n > a.natoms) throw std::out_of_range("transformed_rmsd: the group has more atoms than the frame");
  double wsum = 0;
  if (a.weights) {
    for (std::size_t i = 0; i < a.n; ++i) wsum += a.weights[i];
  } else {
    wsum = double(a.n);
  }
  if (!(wsum > 0)) throw std::invalid_argument("transformed_rmsd: the weights must sum to a positive number");
  return std::sqrt(std::max(0.0, transformed_dispatch(a)) / wsum);
}

QcpCounters qcp_counters() {
  return QcpCounters{counters.calls.load(std::memory_order_relaxed), counters.float_passes.load(std::memory_order_relaxed),
                     counters.double_passes.load(std::memory_order_relaxed), counters.refinements.load(std::memory_order_relaxed)};
}

double qcp_solve(const double A[9], double e0, double wsum, double* rot) { return solve_q(A, e0, wsum, rot, nullptr); }

namespace {

WESTREAM_INLINE double solve_q_body(const double A[9], double e0, double wsum, double* rot, double* quat) {
  const double Sxx = A[0], Sxy = A[1], Sxz = A[2];
  const double Syx = A[3], Syy = A[4], Syz = A[5];
  const double Szx = A[6], Szy = A[7], Szz = A[8];
  const double Sxx2 = Sxx * Sxx, Syy2 = Syy * Syy, Szz2 = Szz * Szz;
  const double Sxy2 = Sxy * Sxy, Syz2 = Syz * Syz, Sxz2 = Sxz * Sxz;
  const double Syx2 = Syx * Syx, Szy2 = Szy * Szy, Szx2 = Szx * Szx;
  const double SyzSzymSyySzz2 = 2.0 * (Syz * Szy - Syy * Szz);
  const double Sxx2Syy2Szz2Syz2Szy2 = Syy2 + Szz2 - Sxx2 + Syz2 + Szy2;
  const double C2 = -2.0 * (Sxx2 + Syy2 + Szz2 + Sxy2 + Syx2 + Sxz2 + Szx2 + Syz2 + Szy2);
  const double C1 = 8.0 * (Sxx * Syz * Szy + Syy * Szx * Sxz + Szz * Sxy * Syx - Sxx * Syy * Szz - Syz * Szx * Sxy - Szy * Syx * Sxz);
  const double SxzpSzx = Sxz + Szx, SyzpSzy = Syz + Szy, SxypSyx = Sxy + Syx;
  const double SyzmSzy = Syz - Szy, SxzmSzx = Sxz - Szx, SxymSyx = Sxy - Syx;
  const double SxxpSyy = Sxx + Syy, SxxmSyy = Sxx - Syy;
  const double Sxy2Sxz2Syx2Szx2 = Sxy2 + Sxz2 - Syx2 - Szx2;
  const double C0 = Sxy2Sxz2Syx2Szx2 * Sxy2Sxz2Syx2Szx2 +
                    (Sxx2Syy2Szz2Syz2Szy2 + SyzSzymSyySzz2) * (Sxx2Syy2Szz2Syz2Szy2 - SyzSzymSyySzz2) +
                    (-(SxzpSzx) * (SyzmSzy) + (SxymSyx) * (SxxmSyy - Szz)) * (-(SxzmSzx) * (SyzpSzy) + (SxymSyx) * (SxxmSyy + Szz)) +
                    (-(SxzpSzx) * (SyzpSzy) - (SxypSyx) * (SxxpSyy - Szz)) * (-(SxzmSzx) * (SyzmSzy) - (SxypSyx) * (SxxpSyy + Szz)) +
                    (+(SxypSyx) * (SyzpSzy) + (SxzpSzx) * (SxxmSyy + Szz)) * (-(SxymSyx) * (SyzmSzy) + (SxzpSzx) * (SxxpSyy + Szz)) +
                    (+(SxypSyx) * (SyzmSzy) + (SxzmSzx) * (SxxmSyy - Szz)) * (-(SxymSyx) * (SyzpSzy) + (SxzmSzx) * (SxxpSyy - Szz));

  // Newton-Raphson for the largest root, from the upper bound E0.
  double lambda = e0;
  for (int it = 0; it < 50; ++it) {
    const double x2 = lambda * lambda;
    const double b = (x2 + C2) * lambda;
    const double a = b + C1;
    const double denom = 2.0 * x2 * lambda + b + a;
    if (denom == 0) break;
    const double step = (a * lambda + C0) / denom;
    lambda -= step;
    if (std::fabs(step) < std::fabs(1e-11 * lambda)) break;
    // From above the largest root P' > 0 and P'' rises, so the error left is at most P''/(2 P') step^2:
    // once that is below 1e-12 of E0 - lambda (~ W rmsd^2 / 2), the step that would only confirm it is skipped.
    if ((6.0 * x2 + C2) * step * step < 1e-12 * (e0 - lambda) * denom) break;
  }
  const double rmsd = std::sqrt(std::fabs(2.0 * (e0 - lambda) / wsum));
  if (!rot && !quat) return rmsd;

  const double a11 = SxxpSyy + Szz - lambda, a12 = SyzmSzy, a13 = -SxzmSzx, a14 = SxymSyx;
  const double a21 = SyzmSzy, a22 = SxxmSyy - Szz - lambda, a23 = SxypSyx, a24 = SxzpSzx;
  const double a31 = a13, a32 = a23, a33 = Syy - Sxx - Szz - lambda, a34 = SyzpSzy;
  const double a41 = a14, a42 = a24, a43 = a34, a44 = Szz - SxxpSyy - lambda;
  const double a3344_4334 = a33 * a44 - a43 * a34, a3244_4234 = a32 * a44 - a42 * a34;
  const double a3243_4233 = a32 * a43 - a42 * a33, a3143_4133 = a31 * a43 - a41 * a33;
  const double a3144_4134 = a31 * a44 - a41 * a34, a3142_4132 = a31 * a42 - a41 * a32;
  double q1 = a22 * a3344_4334 - a23 * a3244_4234 + a24 * a3243_4233;
  double q2 = -a21 * a3344_4334 + a23 * a3144_4134 - a24 * a3143_4133;
  double q3 = a21 * a3244_4234 - a22 * a3144_4134 + a24 * a3142_4132;
  double q4 = -a21 * a3243_4233 + a22 * a3143_4133 - a23 * a3142_4132;
  double qsqr = q1 * q1 + q2 * q2 + q3 * q3 + q4 * q4;
  // When a column of the adjoint is (nearly) zero, try the others.
  const double evecprec = 1e-6;
  if (qsqr < evecprec) {
    q1 = a12 * a3344_4334 - a13 * a3244_4234 + a14 * a3243_4233;
    q2 = -a11 * a3344_4334 + a13 * a3144_4134 - a14 * a3143_4133;
    q3 = a11 * a3244_4234 - a12 * a3144_4134 + a14 * a3142_4132;
    q4 = -a11 * a3243_4233 + a12 * a3143_4133 - a13 * a3142_4132;
    qsqr = q1 * q1 + q2 * q2 + q3 * q3 + q4 * q4;
    if (qsqr < evecprec) {
      const double a1324_1423 = a13 * a24 - a14 * a23, a1224_1422 = a12 * a24 - a14 * a22;
      const double a1223_1322 = a12 * a23 - a13 * a22, a1124_1421 = a11 * a24 - a14 * a21;
      const double a1123_1321 = a11 * a23 - a13 * a21, a1122_1221 = a11 * a22 - a12 * a21;
      q1 = a42 * a1324_1423 - a43 * a1224_1422 + a44 * a1223_1322;
      q2 = -a41 * a1324_1423 + a43 * a1124_1421 - a44 * a1123_1321;
      q3 = a41 * a1224_1422 - a42 * a1124_1421 + a44 * a1122_1221;
      q4 = -a41 * a1223_1322 + a42 * a1123_1321 - a43 * a1122_1221;
      qsqr = q1 * q1 + q2 * q2 + q3 * q3 + q4 * q4;
      if (qsqr < evecprec) {
        q1 = a32 * a1324_1423 - a33 * a1224_1422 + a34 * a1223_1322;
        q2 = -a31 * a1324_1423 + a33 * a1124_1421 - a34 * a1123_1321;
        q3 = a31 * a1224_1422 - a32 * a1124_1421 + a34 * a1122_1221;
        q4 = -a31 * a1223_1322 + a32 * a1123_1321 - a33 * a1122_1221;
        qsqr = q1 * q1 + q2 * q2 + q3 * q3 + q4 * q4;
        if (qsqr < evecprec) {
          const double identity[4] = {1, 0, 0, 0};
          if (quat)
            for (int c = 0; c < 4; ++c) quat[c] = identity[c];
          if (rot) quat_to_rot(identity, rot);
          return rmsd;
        }
      }
    }
  }
  const double normq = std::sqrt(qsqr);
  const double q[4] = {q1 / normq, q2 / normq, q3 / normq, q4 / normq};
  if (quat)
    for (int c = 0; c < 4; ++c) quat[c] = q[c];
  if (rot) quat_to_rot(q, rot);
  return rmsd;
}

double solve_q(const double A[9], double e0, double wsum, double* rot, double* quat) { return solve_q_body(A, e0, wsum, rot, quat); }
#ifdef WESTREAM_X86_DISPATCH
WESTREAM_TARGET_AVX512 double solve_q_avx512(const double A[9], double e0, double wsum, double* rot, double* quat) {
  return solve_q_body(A, e0, wsum, rot, quat);
}
WESTREAM_TARGET_AVX2 double solve_q_avx2(const double A[9], double e0, double wsum, double* rot, double* quat) {
  return solve_q_body(A, e0, wsum, rot, quat);
}
#endif

}  // namespace

}  // namespace westream::kernels
