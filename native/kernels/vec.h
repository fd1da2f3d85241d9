// Portable SIMD building blocks on GCC/Clang vector extensions (no
// intrinsics): the compiler maps them to the instruction set of the
// function they are inlined into (AVX-512, AVX2 or the baseline), so one
// source serves every dispatch target in simd.h.
#pragma once

// The helpers are always inlined, so the ABI of vector arguments never matters.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpsabi"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#include <cstddef>
#include <cstring>
#include <utility>

#include "simd.h"

namespace westream::kernels::vec {

/** D floats / D doubles (D = 2, 4 or 8). */
template <int D>
using vf __attribute__((vector_size(4 * D), aligned(4))) = float;
template <int D>
using vd __attribute__((vector_size(8 * D))) = double;

// Two-input shuffles with constant indices: __builtin_shufflevector (Clang,
// GCC >= 12) or __builtin_shuffle with an index vector (GCC >= 4.7).
template <int D>
using vi __attribute__((vector_size(4 * D))) = int;

#if defined(__clang__)
#define WESTREAM_SHUFFLE(A, B, D, ...) __builtin_shufflevector(A, B, __VA_ARGS__)
#else
#define WESTREAM_SHUFFLE(A, B, D, ...) __builtin_shuffle(A, B, vi<D>{__VA_ARGS__})
#endif

template <int D>
WESTREAM_INLINE vf<D> load(const float* p) {
  vf<D> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int D>
WESTREAM_INLINE vd<D> widen(const vf<D>& v) {
  return __builtin_convertvector(v, vd<D>);
}

template <int D, std::size_t... J>
WESTREAM_INLINE vd<D / 2> widen_low(const vf<D>& v, std::index_sequence<J...>) {
  const vf<D> s = WESTREAM_SHUFFLE(v, v, D, int(J)..., int(J)...);
  vf<D / 2> h;
  std::memcpy(&h, &s, sizeof h);
  return __builtin_convertvector(h, vd<D / 2>);
}
template <int D, std::size_t... J>
WESTREAM_INLINE vd<D / 2> widen_high(const vf<D>& v, std::index_sequence<J...>) {
  const vf<D> s = WESTREAM_SHUFFLE(v, v, D, int(J + D / 2)..., int(J + D / 2)...);
  vf<D / 2> h;
  std::memcpy(&h, &s, sizeof h);
  return __builtin_convertvector(h, vd<D / 2>);
}

/** Adds the D float lanes of v into D/2 double lanes (both halves, widened). */
template <int D>
WESTREAM_INLINE void accumulate_wide(vd<D / 2>& acc, const vf<D>& v) {
  acc += widen_low<D>(v, std::make_index_sequence<D / 2>{}) + widen_high<D>(v, std::make_index_sequence<D / 2>{});
}

template <int D>
WESTREAM_INLINE double hsum(const vd<D>& v) {
  double s = 0;
  for (int j = 0; j < D; ++j) s += v[j];
  return s;
}

/** The same sum, halves added pairwise (log2 D vector adds instead of D scalar ones). */
template <int D>
WESTREAM_INLINE double hsum_tree(const vd<D>& v) {
  if constexpr (D == 1) {
    return v[0];
  } else {
    vd<D / 2> lo, hi;
    std::memcpy(&lo, &v, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
    return hsum_tree<D / 2>(lo + hi);
  }
}

// Element 3j + c of the concatenation a|b|c, for j < D: one coordinate of D
// interleaved xyz atoms, with two two-input shuffles.
constexpr int first_index(int j, int c, int D) { return 3 * j + c < 2 * D ? 3 * j + c : -1; }
constexpr int second_index(int j, int c, int D) { return 3 * j + c < 2 * D ? j : D + (3 * j + c - 2 * D); }

constexpr int valid(int i) { return i < 0 ? 0 : i; }

template <int D, int C, std::size_t... J>
WESTREAM_INLINE vf<D> deinterleave(const vf<D>& a, const vf<D>& b, const vf<D>& c, std::index_sequence<J...>) {
  const vf<D> ab = WESTREAM_SHUFFLE(a, b, D, valid(first_index(int(J), C, D))...);
  return WESTREAM_SHUFFLE(ab, c, D, second_index(int(J), C, D)...);
}

/** x, y, z of D consecutive atoms starting at p (3D floats). */
template <int D>
WESTREAM_INLINE void load_xyz(const float* p, vf<D>& x, vf<D>& y, vf<D>& z) {
  const vf<D> a = load<D>(p), b = load<D>(p + D), c = load<D>(p + 2 * D);
  x = deinterleave<D, 0>(a, b, c, std::make_index_sequence<D>{});
  y = deinterleave<D, 1>(a, b, c, std::make_index_sequence<D>{});
  z = deinterleave<D, 2>(a, b, c, std::make_index_sequence<D>{});
}

/**
 * Software prefetch (into all cache levels) of the cache lines of D floats
 * at p / of D interleaved atoms at p: the kernels ask for the frame some
 * hundred atoms ahead, which keeps more lines in flight from L3 or memory
 * than the hardware prefetchers alone (about 5% at 100k atoms). Prefetches
 * never fault; callers still keep p inside the arrays.
 */
template <int D>
WESTREAM_INLINE void prefetch(const float* p) {
  for (int k = 0; k < D; k += 16) __builtin_prefetch(p + k, 0, 3);
}
template <int D>
WESTREAM_INLINE void prefetch_xyz(const float* p) {
  for (int k = 0; k < 3 * D; k += 16) __builtin_prefetch(p + k, 0, 3);
}

/** How far ahead (atoms) the streaming kernels prefetch: 3 KB of frame. */
constexpr std::size_t PREFETCH_ATOMS = 256;

/** x, y, z of D atoms picked by an index array. */
template <int D>
WESTREAM_INLINE void gather_xyz(const float* p, const int* idx, vf<D>& x, vf<D>& y, vf<D>& z) {
  float t[3][D];
  for (int j = 0; j < D; ++j) {
    const std::size_t k = 3 * static_cast<std::size_t>(idx[j]);
    t[0][j] = p[k], t[1][j] = p[k + 1], t[2][j] = p[k + 2];
  }
  x = load<D>(t[0]), y = load<D>(t[1]), z = load<D>(t[2]);
}

}  // namespace westream::kernels::vec
