/* memcpy reference for `npm run bench:channel`: how fast one core can copy
 * frames when nothing else happens.
 *
 *   memcpy_ref --bytes B --frames F [--slots S]
 *
 * Copies F frames of B bytes from two alternating source frames into S
 * destination buffers in turn: the same working set and access pattern as
 * westream-synthetic --fast writing into an S-slot ring (S = 8, the channel's
 * default depth), minus every form of synchronisation. Prints "RESULT {json}"
 * like the other measurements.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t bytes = 0;
  long long frames = 0;
  int slots = 8;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--frames") && i + 1 < argc) frames = atoll(argv[++i]);
    else if (!strcmp(argv[i], "--slots") && i + 1 < argc) slots = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: memcpy_ref --bytes B --frames F [--slots S]\n");
      return 2;
    }
  }
  if (bytes < 4 || frames <= 0 || slots <= 0 || slots > 1024) {
    fprintf(stderr, "memcpy_ref: need --bytes >= 4, --frames > 0, 0 < --slots <= 1024\n");
    return 2;
  }
  unsigned char *src[2], *dst[1024];
  for (int k = 0; k < 2; k++) {
    src[k] = malloc(bytes);
    memset(src[k], 0x40 + k, bytes);
  }
  /* Touch every destination page first: the ring is faulted in once per
   * channel too, and page faults are not what this line is about. */
  for (int s = 0; s < slots; s++) {
    dst[s] = malloc(bytes);
    memset(dst[s], 0, bytes);
  }

  const double t0 = now_s();
  for (long long k = 0; k < frames; k++) {
    unsigned char *d = dst[k % slots];
    memcpy(d, src[k & 1], bytes);
    float tag = (float)k;
    memcpy(d, &tag, sizeof tag);
    /* The copies are never read; this stops the compiler dropping them. */
    __asm__ __volatile__("" : : "r"(d) : "memory");
  }
  const double elapsed = now_s() - t0;
  /* Timed around all F copies: F intervals. */
  printf("RESULT {\"frames\": %lld, \"intervals\": %lld, \"seconds\": %.9f}\n", frames, frames, elapsed);
  return 0;
}
