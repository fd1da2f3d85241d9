// Periodic boxes and the minimum-image convention, shared by the kernels.
//
// A box is westream's lower-triangular cell (ax, bx, by, cx, cy, cz), Å:
// a = (ax, 0, 0), b = (bx, by, 0), c = (cx, cy, cz).
#pragma once

#include <cmath>
#include <stdexcept>

#include "simd.h"

namespace westream::kernels {

enum class BoxKind { None, Orthorhombic, Triclinic };

struct Box {
  BoxKind kind = BoxKind::None;
  double ax = 0, bx = 0, by = 0, cx = 0, cy = 0, cz = 0;
  double inv_ax = 0, inv_by = 0, inv_cz = 0;

  Box() = default;
  /** From a 6-float cell; nullptr (or a zero-volume cell) means no periodicity. */
  explicit Box(const float* cell) {
    if (!cell) return;
    ax = cell[0], bx = cell[1], by = cell[2], cx = cell[3], cy = cell[4], cz = cell[5];
    if (!(ax > 0 && by > 0 && cz > 0) || !std::isfinite(ax + bx + by + cx + cy + cz)) {
      if (ax == 0 && by == 0 && cz == 0) {
        ax = bx = by = cx = cy = cz = 0;
        return;  // no box
      }
      throw std::invalid_argument("box must have positive ax, by, cz (lower-triangular cell ax bx by cx cy cz)");
    }
    inv_ax = 1.0 / ax, inv_by = 1.0 / by, inv_cz = 1.0 / cz;
    kind = (bx == 0 && cx == 0 && cy == 0) ? BoxKind::Orthorhombic : BoxKind::Triclinic;
  }
};

// Round to nearest without a library call, so that loops vectorise
// (|x| < 2^22: a separation of millions of box lengths is not a frame).
WESTREAM_INLINE float round_near(float x) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return (x + magic) - magic;
}
WESTREAM_INLINE double round_near(double x) {
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  return (x + magic) - magic;
}

/** Squared minimum-image length of (dx, dy, dz) in an orthorhombic box. */
template <class T>
WESTREAM_INLINE T min_image_sq_ortho(T dx, T dy, T dz, T lx, T ly, T lz, T ilx, T ily, T ilz) {
  dx -= lx * round_near(dx * ilx);
  dy -= ly * round_near(dy * ily);
  dz -= lz * round_near(dz * ilz);
  return dx * dx + dy * dy + dz * dz;
}

/**
 * Squared minimum-image length in a triclinic box: reduce by c, b, a, then
 * search the 27 neighbouring images (as MDAnalysis and LAMMPS do).
 */
template <class T>
WESTREAM_INLINE T min_image_sq_triclinic(T dx, T dy, T dz, const T* b) {
  // b: ax bx by cx cy cz, 1/ax 1/by 1/cz
  T s = round_near(dz * b[8]);
  dx -= s * b[3], dy -= s * b[4], dz -= s * b[5];
  s = round_near(dy * b[7]);
  dx -= s * b[1], dy -= s * b[2];
  s = round_near(dx * b[6]);
  dx -= s * b[0];
  T best = dx * dx + dy * dy + dz * dz;
#pragma GCC unroll 3
  for (int k = -1; k <= 1; ++k) {
#pragma GCC unroll 3
    for (int j = -1; j <= 1; ++j) {
#pragma GCC unroll 3
      for (int i = -1; i <= 1; ++i) {
        T x = dx + T(i) * b[0] + T(j) * b[1] + T(k) * b[3];
        T y = dy + T(j) * b[2] + T(k) * b[4];
        T z = dz + T(k) * b[5];
        T d = x * x + y * y + z * z;
        best = d < best ? d : best;
      }
    }
  }
  return best;
}

/** Minimum-image separation vector (in place), any box. Scalar; for a handful of atoms. */
inline void min_image_vector(double& dx, double& dy, double& dz, const Box& box) {
  if (box.kind == BoxKind::None) return;
  double s = std::nearbyint(dz * box.inv_cz);
  dx -= s * box.cx, dy -= s * box.cy, dz -= s * box.cz;
  s = std::nearbyint(dy * box.inv_by);
  dx -= s * box.bx, dy -= s * box.by;
  s = std::nearbyint(dx * box.inv_ax);
  dx -= s * box.ax;
  if (box.kind == BoxKind::Orthorhombic) return;
  double bx = dx, by = dy, bz = dz, best = dx * dx + dy * dy + dz * dz;
  for (int k = -1; k <= 1; ++k)
    for (int j = -1; j <= 1; ++j)
      for (int i = -1; i <= 1; ++i) {
        double x = dx + i * box.ax + j * box.bx + k * box.cx, y = dy + j * box.by + k * box.cy, z = dz + k * box.cz;
        double d = x * x + y * y + z * z;
        if (d < best) best = d, bx = x, by = y, bz = z;
      }
  dx = bx, dy = by, dz = bz;
}

}  // namespace westream::kernels
