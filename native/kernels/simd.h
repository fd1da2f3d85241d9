// Instruction-set dispatch for the analysis kernels.
//
// Kernel bodies are plain C++ loops over contiguous float32 data, written so
// the compiler vectorises them (independent per-lane accumulators, no
// reductions that need -ffast-math). Each body is a template over the number
// of lanes L and is compiled three times: for AVX-512 (L = 16), AVX2+FMA
// (L = 8) and the baseline ISA (L = 4); the best one the CPU supports is
// picked at run time, so one binary is fast on any x86-64 node and still
// runs on the oldest. Other architectures get the baseline build.
#pragma once

#include <cstddef>
#include <cstdint>

#define WESTREAM_INLINE inline __attribute__((always_inline))

namespace westream::kernels {

enum class Isa { Baseline = 0, Avx2 = 1, Avx512 = 2 };

/** The instruction set the kernels use (the best supported, or the forced one). */
Isa isa();
/** Forces an instruction set (tests, benchmarks); one the CPU lacks is lowered to what it has. */
void force_isa(Isa which);
/** "avx512", "avx2" or "baseline". */
const char* isa_name(Isa which);

}  // namespace westream::kernels

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define WESTREAM_X86_DISPATCH 1
#define WESTREAM_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,bmi2,popcnt")))
#define WESTREAM_TARGET_AVX2 __attribute__((target("avx2,fma,bmi2,popcnt")))
// RET NAME(const ARGS&): calls BODY<L>(args) built for the best instruction set.
#define WESTREAM_DISPATCH(RET, NAME, ARGS, BODY)                                                      \
  WESTREAM_TARGET_AVX512 static RET NAME##_avx512(const ARGS& a) { return BODY<16>(a); }            \
  WESTREAM_TARGET_AVX2 static RET NAME##_avx2(const ARGS& a) { return BODY<8>(a); }                 \
  static RET NAME##_baseline(const ARGS& a) { return BODY<4>(a); }                                   \
  RET NAME(const ARGS& a) {                                                                         \
    switch (::westream::kernels::isa()) {                                                           \
      case ::westream::kernels::Isa::Avx512: return NAME##_avx512(a);                               \
      case ::westream::kernels::Isa::Avx2: return NAME##_avx2(a);                                   \
      default: return NAME##_baseline(a);                                                           \
    }                                                                                               \
  }
#else
#define WESTREAM_DISPATCH(RET, NAME, ARGS, BODY) \
  RET NAME(const ARGS& a) { return BODY<4>(a); }
#endif
