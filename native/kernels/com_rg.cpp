#include "com_rg.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bounds.h"
#include "simd.h"
#include "vec.h"

namespace westream::kernels {

namespace {

constexpr std::size_t FLUSH = 64;

// Sums of w, w d and w |d|^2 with d = r - s (s: the first atom, so that the
// single pass does not lose precision far from the origin): float lanes,
// flushed into double lanes every FLUSH blocks (a block sum of FLUSH positive
// terms is off by at most FLUSH 6e-8 of itself, and those errors average out
// over the blocks). One pass over the frame (and the masses): at 100k atoms
// the time is that of streaming 1.2 MB of coordinates from memory.
template <int L, bool Indexed, bool Weighted>
WESTREAM_INLINE void sums(const CenterArgs& a, const float s[3], double S[5]) {
  using namespace vec;
  const float* __restrict p = a.positions;
  const int32_t* __restrict idx = a.index;
  const float* __restrict w = a.weights;
  const vf<L> sx = s[0] + vf<L>{}, sy = s[1] + vf<L>{}, sz = s[2] + vf<L>{};
  const std::size_t n = a.n;
  vd<L / 2> wide[5];
  for (int c = 0; c < 5; ++c) wide[c] = vd<L / 2>{};
  std::size_t i = 0;
  while (i + L <= n) {
    vf<L> acc[5];
    for (int c = 0; c < 5; ++c) acc[c] = vf<L>{};
    const std::size_t stop = std::min(n, i + FLUSH * L);
    for (; i + L <= stop; i += L) {
      vf<L> x, y, z;
      if (Indexed) {
        gather_xyz<L>(p, idx + i, x, y, z);
      } else {
        if (i + PREFETCH_ATOMS + L <= n) {
          prefetch_xyz<L>(p + 3 * (i + PREFETCH_ATOMS));
          if (Weighted) prefetch<L>(w + i + PREFETCH_ATOMS);
        }
        load_xyz<L>(p + 3 * i, x, y, z);
      }
      x -= sx, y -= sy, z -= sz;
      const vf<L> r2 = x * x + y * y + z * z;
      if (Weighted) {
        const vf<L> wj = load<L>(w + i);
        acc[0] += wj;
        acc[1] += wj * x;
        acc[2] += wj * y;
        acc[3] += wj * z;
        acc[4] += wj * r2;
      } else {
        acc[1] += x;
        acc[2] += y;
        acc[3] += z;
        acc[4] += r2;
      }
    }
    for (int c = Weighted ? 0 : 1; c < 5; ++c) accumulate_wide<L>(wide[c], acc[c]);
  }
  for (int c = 0; c < 5; ++c) S[c] += hsum<L / 2>(wide[c]);
  if (!Weighted) S[0] = double(i);  // the count of the vector part
  for (; i < n; ++i) {
    const std::size_t k = Indexed ? static_cast<std::size_t>(idx[i]) : i;
    const float x = p[3 * k] - s[0], y = p[3 * k + 1] - s[1], z = p[3 * k + 2] - s[2];
    const double wj = Weighted ? w[i] : 1.0;
    S[0] += wj, S[1] += wj * x, S[2] += wj * y, S[3] += wj * z;
    S[4] += wj * (double(x) * x + double(y) * y + double(z) * z);
  }
}

template <int L>
WESTREAM_INLINE CenterResult center_body(const CenterArgs& a) {
  const std::size_t k0 = a.index ? static_cast<std::size_t>(a.index[0]) : 0;
  const float s[3] = {a.positions[3 * k0], a.positions[3 * k0 + 1], a.positions[3 * k0 + 2]};
  double S[5] = {0};
  if (a.index) {
    if (a.weights) sums<L, true, true>(a, s, S);
    else sums<L, true, false>(a, s, S);
  } else {
    if (a.weights) sums<L, false, true>(a, s, S);
    else sums<L, false, false>(a, s, S);
  }
  CenterResult r;
  r.wsum = S[0];
  if (!(S[0] > 0)) {
    r.center[0] = r.center[1] = r.center[2] = r.rg = NAN;
    return r;
  }
  const double d[3] = {S[1] / S[0], S[2] / S[0], S[3] / S[0]};
  for (int c = 0; c < 3; ++c) r.center[c] = s[c] + d[c];
  const double msd = S[4] / S[0] - (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  r.rg = std::sqrt(std::max(0.0, msd));
  return r;
}

WESTREAM_DISPATCH(CenterResult, center_dispatch, CenterArgs, center_body)

}  // namespace

CenterResult center_rg(const CenterArgs& a) {
  if (a.n == 0) throw std::invalid_argument("center_rg: the group is empty");
  if (!a.positions) throw std::invalid_argument("center_rg: null positions");
  if (a.index) check_indices(a.index, a.n, a.natoms, "center_rg");
  else if (a.n > a.natoms) throw std::out_of_range("center_rg: the group has more atoms than the frame");
  CenterResult r = center_dispatch(a);
  if (!(r.wsum > 0)) throw std::invalid_argument("center_rg: the weights (masses) of the group sum to zero");
  return r;
}

}  // namespace westream::kernels
