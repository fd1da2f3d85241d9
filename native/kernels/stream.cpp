#include "stream.h"

#include "simd.h"
#include "vec.h"

namespace westream::kernels {

namespace {

struct StreamArgs {
  const float* a;
  std::size_t na;
  const float* b;
  std::size_t nb;      // floats per part
  std::size_t parts;   // 1 to 3
};

template <int L>
WESTREAM_INLINE double stream_body(const StreamArgs& s) {
  using namespace vec;
  constexpr std::size_t CHUNK = 48;  // floats of a per step: 16 atoms, three cache lines when aligned
  vf<L> acc[6] = {vf<L>{}, vf<L>{}, vf<L>{}, vf<L>{}, vf<L>{}, vf<L>{}};
  const std::size_t chunks = s.na / CHUNK;
  // Each part of b in proportion, as far as a has got: CHUNK nb / na floats
  // per chunk of a, stepped without a division (whole floats per chunk, the
  // remainder carried over).
  const bool paced = s.b && s.na > 0;
  const std::size_t whole = paced ? CHUNK * s.nb / s.na : 0, rest = paced ? CHUNK * s.nb % s.na : 0;
  const std::size_t ahead = paced ? 3 * PREFETCH_ATOMS * s.nb / s.na : 0;  // b floats as far ahead as the a prefetch
  std::size_t ib = 0, due = 0, carry = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    const float* p = s.a + CHUNK * c;
    // the kernels' software prefetch, so that the floor reads as fast as they can
    if (CHUNK * c + 3 * PREFETCH_ATOMS + CHUNK <= s.na) {
      prefetch<CHUNK>(p + 3 * PREFETCH_ATOMS);
      for (std::size_t k = 0; k < whole && ib + ahead + k < s.nb; k += 16)
        for (std::size_t q = 0; q < s.parts; ++q) __builtin_prefetch(s.b + q * s.nb + ib + ahead + k, 0, 3);
    }
    // three accumulators for a (one add each per 16 floats at L = 16), three for the parts of b
    for (std::size_t k = 0; k < CHUNK; k += L) acc[(k / L) % 3] += load<L>(p + k);
    due += whole;
    carry += rest;
    if (carry >= s.na) carry -= s.na, ++due;
    for (; ib + L <= due; ib += L)
      for (std::size_t q = 0; q < s.parts; ++q) acc[3 + q] += load<L>(s.b + q * s.nb + ib);
  }
  double total = 0;
  for (int j = 0; j < 6; ++j)
    for (int l = 0; l < L; ++l) total += acc[j][l];
  for (std::size_t i = chunks * CHUNK; i < s.na; ++i) total += s.a[i];
  for (std::size_t q = 0; s.b && q < s.parts; ++q)
    for (std::size_t i = ib; i < s.nb; ++i) total += s.b[q * s.nb + i];
  return total;
}

WESTREAM_DISPATCH(double, stream_dispatch, StreamArgs, stream_body)

}  // namespace

double stream_sum(const float* a, std::size_t na, const float* b, std::size_t nb, std::size_t parts) {
  if (!a) na = 0;
  if (!b) nb = 0;
  if (parts < 1 || parts > 3 || nb % parts) parts = 1;
  return stream_dispatch(StreamArgs{a, na, nb ? b : nullptr, nb / parts, parts});
}

}  // namespace westream::kernels
