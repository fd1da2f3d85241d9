/* Ring geometry and atomics shared by the consumer (C++) and producer (C). */
#ifndef WESTREAM_RING_LAYOUT_H
#define WESTREAM_RING_LAYOUT_H

#include <stdint.h>

#include "westream_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct westream_layout {
  uint64_t array_offset[3]; /* within a slot; 0 = absent */
  uint64_t slot_stride;
  uint64_t ring_bytes;
} westream_layout;

static inline uint64_t westream_round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

/* Computes where everything lives for `natoms` atoms, `content` arrays and
 * `nslots` slots. Returns 0 when the request is out of the protocol's limits. */
static inline int westream_compute_layout(uint32_t natoms, uint32_t content, uint32_t nslots, westream_layout *out) {
  if (natoms == 0 || natoms > WESTREAM_MAX_ATOMS) return 0;
  if (nslots < 1 || nslots > WESTREAM_MAX_SLOTS) return 0;
  if ((content & WESTREAM_POSITIONS) == 0 || (content & ~(uint32_t)WESTREAM_CONTENT_ALL) != 0) return 0;
  const uint64_t array_bytes = westream_round_up((uint64_t)natoms * 12u, 64u);
  uint64_t offset = WESTREAM_SLOT_HEADER_BYTES;
  for (int i = 0; i < 3; i++) {
    if (content & (1u << i)) {
      out->array_offset[i] = offset;
      offset += array_bytes;
    } else {
      out->array_offset[i] = 0;
    }
  }
  out->slot_stride = westream_round_up(offset, WESTREAM_SLOT_ALIGN);
  out->ring_bytes = WESTREAM_RING_HEADER_BYTES + out->slot_stride * nslots;
  return 1;
}

/* Ring depth when neither side asks for one: about 4 MiB of slots, at least
 * WESTREAM_DEFAULT_SLOTS. Tiny frames get a deep ring, so producer and
 * consumer rarely wait on each other; big frames keep 8 slots. */
static inline uint32_t westream_default_nslots(uint64_t slot_stride) {
  uint64_t n = WESTREAM_DEFAULT_RING_BYTES / slot_stride;
  if (n < WESTREAM_DEFAULT_SLOTS) n = WESTREAM_DEFAULT_SLOTS;
  if (n > WESTREAM_MAX_SLOTS) n = WESTREAM_MAX_SLOTS;
  return (uint32_t)n;
}

/* GCC/Clang builtins work on plain integers from both C and C++. */
#define WS_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define WS_STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define WS_STORE_SEQ(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define WS_LOAD_SEQ(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define WS_EXCHANGE(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define WS_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#if defined(__x86_64__) || defined(__i386__)
#define WS_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define WS_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define WS_CPU_RELAX() ((void)0)
#endif

#ifdef __cplusplus
}
#endif

#endif
