/* westream-synthetic: a producer of synthetic frames for tests and benchmarks.
 *
 *   westream-synthetic --atoms 1000 --frames 50 [--address A] [--delay-us 100]
 *       [--velocities] [--forces] [--nslots 4] [--seed 7] [--checksums FILE]
 *       [--crash-after K] [--no-end] [--corrupt published|seq|natoms|flags]
 *       [--fast] [--tag T]
 *
 * Frame k's data is a deterministic function of (seed, k), so any consumer
 * can check it. --checksums writes "k fnv1a32" lines (FNV-1a over the 32-bit
 * words of positions, velocities, forces, then box) for bit-exact checks.
 * --crash-after K writes half of frame K and then dies (SIGKILL to itself).
 * --fast reuses two pre-generated frames (benchmarks); --tag T puts T into
 * every frame's step so parallel streams can be told apart.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring_layout.h"
#include "westream.h"

static uint32_t fnv1a_words(uint32_t h, const void *data, size_t nwords) {
  const uint32_t *w = (const uint32_t *)data;
  for (size_t i = 0; i < nwords; i++) {
    h ^= w[i];
    h *= 16777619u;
  }
  return h;
}

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Values in [-50, 50) Å with full float32 mantissas. */
static void fill(float *a, size_t n, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < n; i++) a[i] = (float)((double)(splitmix(&s) >> 11) * (100.0 / 9007199254740992.0) - 50.0);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(void) {
  fprintf(stderr,
          "usage: westream-synthetic --atoms N --frames F [--address A] [--delay-us D] [--velocities] [--forces]\n"
          "       [--nslots S] [--seed X] [--checksums FILE] [--crash-after K] [--no-end]\n"
          "       [--corrupt published|seq|natoms|flags] [--fast] [--tag T]\n");
}

int main(int argc, char **argv) {
  westream_options o = WESTREAM_OPTIONS_INIT;
  long long frames = 10, crash_after = -1, delay_us = 0, tag = -1;
  unsigned long long seed = 1;
  const char *address = NULL, *checksums = NULL, *corrupt = NULL;
  int no_end = 0, fast = 0;
  o.natoms = 10;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() \
  do {               \
    if (!v) {        \
      usage();       \
      return 2;      \
    }                \
    i++;             \
  } while (0)
    if (!strcmp(a, "--atoms")) { NEED_VALUE(); o.natoms = (uint32_t)strtoul(v, NULL, 10); }
    else if (!strcmp(a, "--frames")) { NEED_VALUE(); frames = atoll(v); }
    else if (!strcmp(a, "--address")) { NEED_VALUE(); address = v; }
    else if (!strcmp(a, "--delay-us")) { NEED_VALUE(); delay_us = atoll(v); }
    else if (!strcmp(a, "--nslots")) { NEED_VALUE(); o.nslots = (uint32_t)strtoul(v, NULL, 10); }
    else if (!strcmp(a, "--seed")) { NEED_VALUE(); seed = strtoull(v, NULL, 10); }
    else if (!strcmp(a, "--checksums")) { NEED_VALUE(); checksums = v; }
    else if (!strcmp(a, "--crash-after")) { NEED_VALUE(); crash_after = atoll(v); }
    else if (!strcmp(a, "--corrupt")) { NEED_VALUE(); corrupt = v; }
    else if (!strcmp(a, "--tag")) { NEED_VALUE(); tag = atoll(v); }
    else if (!strcmp(a, "--velocities")) o.content |= WESTREAM_VELOCITIES;
    else if (!strcmp(a, "--forces")) o.content |= WESTREAM_FORCES;
    else if (!strcmp(a, "--no-end")) no_end = 1;
    else if (!strcmp(a, "--fast")) fast = 1;
    else { usage(); return 2; }
  }

  westream_producer *p = NULL;
  int s = westream_connect(&p, address, &o);
  if (s != WESTREAM_OK) {
    fprintf(stderr, "westream-synthetic: %s (%s)\n", westream_last_error(NULL), westream_status_name(s));
    return 1;
  }
  FILE *sums = checksums ? fopen(checksums, "w") : NULL;
  const size_t nfloat = (size_t)o.natoms * 3;
  float *scratch[2] = {NULL, NULL};
  if (fast) {
    for (int k = 0; k < 2; k++) {
      scratch[k] = malloc(nfloat * sizeof(float));
      fill(scratch[k], nfloat, seed * 1000003ull + (uint64_t)k);
    }
  }
  westream_layout layout = {{0, 0, 0}, 0, 0};
  if (!westream_compute_layout(o.natoms, o.content | WESTREAM_POSITIONS, westream_nslots(p), &layout)) return 1;

  const double t0 = now_s();
  for (long long k = 0; k < frames; k++) {
    westream_frame f;
    s = westream_acquire(p, &f);
    if (s != WESTREAM_OK) {
      fprintf(stderr, "westream-synthetic: frame %lld: %s (%s)\n", k, westream_last_error(p), westream_status_name(s));
      return 1;
    }
    const uint64_t fs = seed * 1000003ull + (uint64_t)k * 7919ull;
    if (k == crash_after) {
      fill(f.positions, nfloat / 2, fs);
      fflush(NULL);
      kill(getpid(), SIGKILL);
    }
    if (fast) {
      memcpy(f.positions, scratch[k & 1], nfloat * sizeof(float));
      f.positions[0] = (float)k;
    } else {
      fill(f.positions, nfloat, fs);
      if (f.velocities) fill(f.velocities, nfloat, fs + 1);
      if (f.forces) fill(f.forces, nfloat, fs + 2);
    }
    f.step = tag >= 0 ? tag : k * 10;
    f.time = (double)k * 0.02;
    f.box[0] = 30.0f; f.box[1] = 0.0f; f.box[2] = 30.0f; f.box[3] = 0.0f; f.box[4] = 0.0f; f.box[5] = 30.0f + (float)k;
    f.flags = WESTREAM_HAS_STEP | WESTREAM_HAS_TIME | WESTREAM_HAS_BOX;
    if (sums) {
      uint32_t h = 2166136261u;
      h = fnv1a_words(h, f.positions, nfloat);
      if (f.velocities) h = fnv1a_words(h, f.velocities, nfloat);
      if (f.forces) h = fnv1a_words(h, f.forces, nfloat);
      h = fnv1a_words(h, f.box, 6);
      fprintf(sums, "%lld %u\n", k, h);
    }
    s = westream_publish(p, &f);
    if (s != WESTREAM_OK) {
      fprintf(stderr, "westream-synthetic: frame %lld: %s (%s)\n", k, westream_last_error(p), westream_status_name(s));
      return 1;
    }
    if (corrupt && k == frames / 2) {
      /* Test hook: forge frame k+1 the way a buggy or hostile producer
       * could, bump the published counter by hand, then die without ending
       * the stream. The consumer must report the corruption, not the exit. */
      westream_frame g;
      if (westream_acquire(p, &g) != WESTREAM_OK) return 1;
      uint8_t *slot = (uint8_t *)g.positions - layout.array_offset[0];
      westream_slot_header *h = (westream_slot_header *)slot;
      westream_ring_header *r = (westream_ring_header *)(slot - ((uint64_t)(k + 1) % westream_nslots(p)) * layout.slot_stride -
                                                         WESTREAM_RING_HEADER_BYTES);
      h->seq = (uint64_t)k + 1;
      h->natoms = o.natoms;
      h->flags = 0;
      uint64_t published = (uint64_t)k + 2;
      if (!strcmp(corrupt, "published")) published = (uint64_t)1 << 40;
      else if (!strcmp(corrupt, "seq")) h->seq = 999999;
      else if (!strcmp(corrupt, "natoms")) h->natoms = 0xffffffffu;
      else if (!strcmp(corrupt, "flags")) h->flags = 0xff00u;
      else { fprintf(stderr, "westream-synthetic: unknown --corrupt %s\n", corrupt); return 2; }
      __atomic_store_n(&r->published, published, __ATOMIC_RELEASE);
      usleep(200000);
      _exit(3);
    }
    if (delay_us > 0) usleep((useconds_t)delay_us);
  }
  const double elapsed = now_s() - t0;
  if (sums) fclose(sums);
  if (!no_end) {
    s = westream_end(p);
    if (s != WESTREAM_OK) {
      fprintf(stderr, "westream-synthetic: end: %s (%s)\n", westream_last_error(p), westream_status_name(s));
      return 1;
    }
  }
  fprintf(stderr, "westream-synthetic: %lld frames of %u atoms in %.6f s\n", frames, o.natoms, elapsed);
  westream_close(p);
  free(scratch[0]);
  free(scratch[1]);
  return 0;
}
