// Helpers for the kernel tests: random structures, naive double-precision
// references, and running a check under every instruction set.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "simd.h"

namespace kt {

inline std::vector<float> random_positions(std::size_t n, unsigned seed, float lo = -20.f, float hi = 40.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> p(3 * n);
  for (auto& v : p) v = d(g);
  return p;
}

/** A proper rotation matrix from a random unit quaternion. */
inline void random_rotation(unsigned seed, double R[9]) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d;
  double q[4] = {d(g), d(g), d(g), d(g)};
  const double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  for (double& v : q) v /= n;
  const double a = q[0], b = q[1], c = q[2], e = q[3];
  const double M[9] = {1 - 2 * (c * c + e * e), 2 * (b * c - a * e),     2 * (b * e + a * c),
                       2 * (b * c + a * e),     1 - 2 * (b * b + e * e), 2 * (c * e - a * b),
                       2 * (b * e - a * c),     2 * (c * e + a * b),     1 - 2 * (b * b + c * c)};
  for (int i = 0; i < 9; ++i) R[i] = M[i];
}

/** Runs `check` once per instruction set the CPU has (and restores the best). */
inline void for_each_isa(const std::function<void(westream::kernels::Isa)>& check) {
  using westream::kernels::Isa;
  const Isa best = westream::kernels::isa();
  for (Isa i : {Isa::Baseline, Isa::Avx2, Isa::Avx512}) {
    westream::kernels::force_isa(i);
    if (westream::kernels::isa() != i) continue;  // not on this CPU
    SCOPED_TRACE(westream::kernels::isa_name(i));
    check(i);
  }
  westream::kernels::force_isa(best);
}

}  // namespace kt
