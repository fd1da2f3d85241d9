#include "qcp.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "bounds.h"
#include "simd.h"
#include "vec.h"

namespace westream::kernels {

namespace {

constexpr std::size_t FLUSH = 32;

// The inner products are accumulated in double lanes (float32 inputs are
// widened exactly): RMSD = sqrt(2 (E0 - lambda) / W) cancels almost all of E0
// when the structures are close, so float32 sums would limit the RMSD to
// ~1e-3 A; double sums keep it exact to ~1e-7 A like MDAnalysis.
enum Acc { SX, SY, SZ, SQ, XX, XY, XZ, YX, YY, YZ, ZX, ZY, ZZ, NACC };

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
    acc[XX] += X * wx;
    acc[XY] += X * wy;
    acc[XZ] += X * wz;
    acc[YX] += Y * wx;
    acc[YY] += Y * wy;
    acc[YZ] += Y * wz;
    acc[ZX] += Z * wx;
    acc[ZY] += Z * wy;
    acc[ZZ] += Z * wz;
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
    S[XX] += X * wx, S[XY] += X * wy, S[XZ] += X * wz;
    S[YX] += Y * wx, S[YY] += Y * wy, S[YZ] += Y * wz;
    S[ZX] += Z * wx, S[ZY] += Z * wy, S[ZZ] += Z * wz;
  }
}

// Fast path: one pass over the frame in float32 lanes, on the differences
// d = (m - s) - r between each mobile atom m (shifted by s) and its
// reference atom r; the sums of w d, w |d|^2 and w r d^T are flushed into
// double every FAST_FLUSH blocks, and qcp_finish() turns them into the sums
// over u = m - s = d + r exactly (with the reference's own sums, prepared
// once). The shift s = m_k - r_k uses the atom k nearest the reference centre,
// so d is about the deviation of the frame from the reference: for a frame
// near the reference (RMSD near 0, where E0 - lambda cancels most) the float
// sums are small and accurate. The float rounding of d is a perturbation of
// the frame by at most 6e-8 |u| per coordinate, used consistently by every sum.
//
// The rounding of the lane sums (relative 6e-8 per addition) enters
// RMSD = sqrt(2 (E0 - lambda) / W) as an error of about
// 6e-8 sqrt(FAST_FLUSH) dm (dm + rg) f / (sqrt(n) rmsd), with dm and rg the
// root-mean-square |d| and |r| and f = sqrt(n sum w^2) / sum w (1 unweighted);
// over random rotations, noise levels and masses at 100k atoms the error was
// at most twice that. When twice that exceeds FAST_MAX_ERROR the sums are
// redone in double precision: near-zero RMSDs of frames rotated far from the
// reference, and small groups spread far apart. Frames that are not rotated
// much (|d| small) stay on the fast path down to RMSD 0.
constexpr std::size_t FAST_FLUSH = 64;
constexpr double FAST_MAX_ERROR = 2e-5;  // Å

template <int L, bool Indexed, bool Weighted>
WESTREAM_INLINE void qcp_sums_fast(const QcpArgs& a, const float s[3], double S[NACC]) {
  using namespace vec;
  const float* __restrict p = a.positions;
  const int32_t* __restrict idx = a.index;
  const float* __restrict w = a.weights;
  const float* __restrict rx = a.ref.wx;
  const float* __restrict ry = a.ref.wy;
  const float* __restrict rz = a.ref.wz;
  const std::size_t n = a.ref.n;
  const vf<L> sx = s[0] + vf<L>{}, sy = s[1] + vf<L>{}, sz = s[2] + vf<L>{};
  vd<L / 2> wide[NACC];
  for (int c = 0; c < NACC; ++c) wide[c] = vd<L / 2>{};
  std::size_t i = 0;
  while (i + L <= n) {
    vf<L> acc[NACC];
    for (int c = 0; c < NACC; ++c) acc[c] = vf<L>{};
    const std::size_t stop = std::min(n, i + FAST_FLUSH * L);
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
      const vf<L> dx = (x - sx) - X, dy = (y - sy) - Y, dz = (z - sz) - Z;
      vf<L> wx = dx, wy = dy, wz = dz;
      if (Weighted) {
        const vf<L> wj = load<L>(w + i);
        wx = wj * dx, wy = wj * dy, wz = wj * dz;
      }
      acc[SX] += wx;
      acc[SY] += wy;
      acc[SZ] += wz;
      acc[SQ] += wx * dx + wy * dy + wz * dz;
      acc[XX] += X * wx;
      acc[XY] += X * wy;
      acc[XZ] += X * wz;
      acc[YX] += Y * wx;
      acc[YY] += Y * wy;
      acc[YZ] += Y * wz;
      acc[ZX] += Z * wx;
      acc[ZY] += Z * wy;
      acc[ZZ] += Z * wz;
    }
    for (int c = 0; c < NACC; ++c) accumulate_wide<L>(wide[c], acc[c]);
  }
  for (int c = 0; c < NACC; ++c) S[c] += hsum<L / 2>(wide[c]);
  for (; i < n; ++i) {  // tail: the same float differences, summed in double
    const std::size_t k = Indexed ? static_cast<std::size_t>(idx[i]) : i;
    const float fx = (p[3 * k] - s[0]) - rx[i], fy = (p[3 * k + 1] - s[1]) - ry[i], fz = (p[3 * k + 2] - s[2]) - rz[i];
    const double dx = fx, dy = fy, dz = fz;
    const double wj = Weighted ? double(w[i]) : 1.0;
    const double wx = wj * dx, wy = wj * dy, wz = wj * dz;
    const double X = rx[i], Y = ry[i], Z = rz[i];
    S[SX] += wx, S[SY] += wy, S[SZ] += wz;
    S[SQ] += wx * dx + wy * dy + wz * dz;
    S[XX] += X * wx, S[XY] += X * wy, S[XZ] += X * wz;
    S[YX] += Y * wx, S[YY] += Y * wy, S[YZ] += Y * wz;
    S[ZX] += Z * wx, S[ZY] += Z * wy, S[ZZ] += Z * wz;
  }
}

/** The d-form sums of the fast path → the sums over u = d + r that qcp_finish() takes. */
WESTREAM_INLINE void d_to_u(const QcpReference& r, double S[NACC]) {
  const double trace = S[XX] + S[YY] + S[ZZ];
  S[SQ] += 2 * trace + r.gb;
  for (int c = 0; c < 3; ++c) S[SX + c] += r.rsum[c];
  const double syy[9] = {r.syy[0], r.syy[1], r.syy[2], r.syy[1], r.syy[3], r.syy[4], r.syy[2], r.syy[4], r.syy[5]};
  for (int k = 0; k < 9; ++k) S[XX + k] += syy[k];
}

WESTREAM_INLINE bool fast_is_accurate(double rmsd, const QcpArgs& a, double dsq) {
  const QcpReference& r = a.ref;
  const double W = r.wsum, n = double(r.n);
  const double dm = std::sqrt(std::max(dsq, 0.0) / W), rg = std::sqrt(std::max(r.gb, 0.0) / W);
  const double f = a.weights ? (r.w2sum > 0 ? std::sqrt(n * r.w2sum) / W : 1e30) : 1.0;
  return 2 * 6e-8 * std::sqrt(double(FAST_FLUSH)) * dm * (dm + rg) * f <= FAST_MAX_ERROR * std::sqrt(n) * rmsd;
}

template <int L>
WESTREAM_INLINE double qcp_finish(const QcpArgs& a, const double s[3], const double S[NACC], double* e0) {
  const double W = a.ref.wsum;
  // u = m - s; centre c = s + sum(w u) / W.
  const double dc[3] = {S[SX] / W, S[SY] / W, S[SZ] / W};
  const double ga = S[SQ] - W * (dc[0] * dc[0] + dc[1] * dc[1] + dc[2] * dc[2]);
  // A_ij = sum w r_i (m_j - c_j) = sum r_i (w u_j) - (c_j - s_j) sum (w r_i)
  double A[9];
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) A[3 * r + c] = S[XX + 3 * r + c] - dc[c] * a.ref.rsum[r];
  if (a.center)
    for (int c = 0; c < 3; ++c) a.center[c] = s[c] + dc[c];
  *e0 = 0.5 * (std::max(ga, 0.0) + a.ref.gb);
  return qcp_solve(A, *e0, W, a.rotation);
}

template <int L, bool Fast>
WESTREAM_INLINE void qcp_all_sums(const QcpArgs& a, const float fs[3], const double s[3], double S[NACC]) {
  for (int c = 0; c < NACC; ++c) S[c] = 0;
  if (a.index) {
    if (a.weights) Fast ? qcp_sums_fast<L, true, true>(a, fs, S) : qcp_sums<L, true, true>(a, s, S);
    else Fast ? qcp_sums_fast<L, true, false>(a, fs, S) : qcp_sums<L, true, false>(a, s, S);
  } else {
    if (a.weights) Fast ? qcp_sums_fast<L, false, true>(a, fs, S) : qcp_sums<L, false, true>(a, s, S);
    else Fast ? qcp_sums_fast<L, false, false>(a, fs, S) : qcp_sums<L, false, false>(a, s, S);
  }
}

template <int L>
WESTREAM_INLINE double qcp_body(const QcpArgs& a) {
  // Shift by the atom nearest the reference centre minus its reference
  // position (float, so that both paths subtract the same value): m - s is
  // then about r, and the one-pass sums do not cancel.
  const std::size_t j = a.ref.shift < a.ref.n ? a.ref.shift : 0;
  const std::size_t k0 = a.index ? static_cast<std::size_t>(a.index[j]) : j;
  const float fs[3] = {a.positions[3 * k0] - a.ref.wx[j], a.positions[3 * k0 + 1] - a.ref.wy[j], a.positions[3 * k0 + 2] - a.ref.wz[j]};
  const double s[3] = {fs[0], fs[1], fs[2]};
  double S[NACC];
  double e0 = 0;
  qcp_all_sums<L, true>(a, fs, s, S);
  const double dsq = S[SQ];
  d_to_u(a.ref, S);
  const double fast = qcp_finish<L>(a, s, S, &e0);
  if (fast_is_accurate(fast, a, dsq)) return fast;
  qcp_all_sums<L, false>(a, fs, s, S);
  return qcp_finish<L>(a, s, S, &e0);
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
  }
  r.gb = r.syy[0] + r.syy[3] + r.syy[5];
  return r;
}

double qcp_rmsd(const QcpArgs& a) {
  if (a.ref.n == 0) throw std::invalid_argument("qcp_rmsd: the selection is empty");
  if (!a.ref.wx || !a.ref.wy || !a.ref.wz || !a.positions) throw std::invalid_argument("qcp_rmsd: null array");
  if (!(a.ref.wsum > 0)) throw std::invalid_argument("qcp_rmsd: the weights must sum to a positive number");
  if (a.index) check_indices(a.index, a.ref.n, a.natoms, "qcp_rmsd");
  else if (a.ref.n > a.natoms) throw std::out_of_range("qcp_rmsd: the reference has more atoms than the frame");
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

double qcp_solve(const double A[9], double e0, double wsum, double* rot) {
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
    const double old = lambda;
    const double x2 = lambda * lambda;
    const double b = (x2 + C2) * lambda;
    const double a = b + C1;
    const double denom = 2.0 * x2 * lambda + b + a;
    if (denom == 0) break;
    lambda -= (a * lambda + C0) / denom;
    if (std::fabs(lambda - old) < std::fabs(1e-11 * lambda)) break;
  }
  const double rmsd = std::sqrt(std::fabs(2.0 * (e0 - lambda) / wsum));
  if (!rot) return rmsd;

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
          rot[0] = rot[4] = rot[8] = 1.0;
          rot[1] = rot[2] = rot[3] = rot[5] = rot[6] = rot[7] = 0.0;
          return rmsd;
        }
      }
    }
  }
  const double normq = std::sqrt(qsqr);
  q1 /= normq, q2 /= normq, q3 /= normq, q4 /= normq;
  const double a2 = q1 * q1, x2 = q2 * q2, y2 = q3 * q3, z2 = q4 * q4;
  const double xy = q2 * q3, az = q1 * q4, zx = q4 * q2, ay = q1 * q3, yz = q3 * q4, ax = q1 * q2;
  rot[0] = a2 + x2 - y2 - z2;
  rot[1] = 2 * (xy + az);
  rot[2] = 2 * (zx - ay);
  rot[3] = 2 * (xy - az);
  rot[4] = a2 - x2 + y2 - z2;
  rot[5] = 2 * (yz + ax);
  rot[6] = 2 * (zx + ay);
  rot[7] = 2 * (yz - ax);
  rot[8] = a2 - x2 - y2 + z2;
  return rmsd;
}

}  // namespace westream::kernels
