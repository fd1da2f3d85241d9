#include "simd.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace westream::kernels {

namespace {

Isa detect() {
#ifdef WESTREAM_X86_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq"))
    return Isa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Baseline;
}

Isa from_env(Isa best) {
  // WESTREAM_KERNEL_ISA=avx512|avx2|baseline caps the instruction set.
  const char* s = std::getenv("WESTREAM_KERNEL_ISA");
  if (!s || !*s) return best;
  Isa want = std::strcmp(s, "baseline") == 0 ? Isa::Baseline : std::strcmp(s, "avx2") == 0 ? Isa::Avx2 : Isa::Avx512;
  return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

std::atomic<int> chosen{-1};

}  // namespace

Isa isa() {
  int v = chosen.load(std::memory_order_relaxed);
  if (v < 0) {
    v = static_cast<int>(from_env(detect()));
    chosen.store(v, std::memory_order_relaxed);
  }
  return static_cast<Isa>(v);
}

void force_isa(Isa which) {
  Isa best = detect();
  chosen.store(static_cast<int>(static_cast<int>(which) < static_cast<int>(best) ? which : best), std::memory_order_relaxed);
}

const char* isa_name(Isa which) {
  switch (which) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "baseline";
  }
}

}  // namespace westream::kernels
