/*
 * westream producer API (C, stable). Link with -lwestream.
 *
 *   westream_producer *p;
 *   westream_options o = WESTREAM_OPTIONS_INIT;
 *   o.natoms = n;
 *   if (westream_connect(&p, NULL, &o) != WESTREAM_OK) { puts(westream_last_error(NULL)); ... }
 *   for (...) {
 *     westream_frame f;
 *     if (westream_acquire(p, &f) != WESTREAM_OK) ...   // blocks while the ring is full
 *     memcpy(f.positions, xyz, 12 * n);                 // Å, x y z interleaved
 *     f.step = step; f.flags |= WESTREAM_HAS_STEP;
 *     westream_publish(p, &f);
 *   }
 *   westream_end(p);     // tells the consumer the stream is complete
 *   westream_close(p);
 *
 * Every call returns WESTREAM_OK (0) or a negative westream_status;
 * westream_last_error(p) says what happened in words. A producer is not
 * thread-safe: use it from one thread at a time.
 */
#ifndef WESTREAM_H
#define WESTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "westream_wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WESTREAM_VERSION_MAJOR 0
#define WESTREAM_VERSION_MINOR 1

typedef enum westream_status {
  WESTREAM_OK = 0,
  WESTREAM_E_ARGUMENT = -1,      /* bad argument or call order */
  WESTREAM_E_NO_ADDRESS = -2,    /* no address given and WESTREAM_ADDRESS unset */
  WESTREAM_E_CONNECT = -3,       /* could not connect to the consumer */
  WESTREAM_E_REFUSED = -4,       /* consumer refused us (uid, atom count, ...) */
  WESTREAM_E_PROTOCOL = -5,      /* consumer spoke something unexpected */
  WESTREAM_E_CONSUMER_GONE = -6, /* consumer closed or died */
  WESTREAM_E_SYSTEM = -7,        /* a system call failed */
  WESTREAM_E_INTERRUPTED = -8    /* a signal arrived while blocked: call again to keep waiting */
} westream_status;

typedef struct westream_options {
  uint32_t natoms;  /* required, > 0 */
  uint32_t content; /* WESTREAM_POSITIONS | optional VELOCITIES, FORCES */
  uint32_t nslots;  /* ring depth hint, 0 = consumer's choice */
} westream_options;

#define WESTREAM_OPTIONS_INIT {0u, WESTREAM_POSITIONS, 0u}

/* One acquired slot. Arrays are float32[3 * natoms]; absent ones are NULL. */
typedef struct westream_frame {
  uint64_t index; /* frame number, 0-based (read-only) */
  float *positions;
  float *velocities;
  float *forces;
  int64_t step;
  double time;     /* ps */
  float box[6];    /* Å, lower-triangular cell: ax, bx, by, cx, cy, cz */
  uint32_t flags;  /* WESTREAM_HAS_STEP | WESTREAM_HAS_TIME | WESTREAM_HAS_BOX */
} westream_frame;

typedef struct westream_producer westream_producer;

/* Connects to `address` (a socket path, or "@name" for the abstract
 * namespace); NULL reads WESTREAM_ADDRESS. On failure *out is NULL and
 * westream_last_error(NULL) describes the failure for this thread. */
int westream_connect(westream_producer **out, const char *address, const westream_options *options);

/* Waits for a free slot; fails with WESTREAM_E_CONSUMER_GONE as soon as the
 * consumer closes or dies (noticed within 50 ms of the next call, or at once
 * while blocked), and with WESTREAM_E_INTERRUPTED when a signal handler ran
 * while it was blocked (call again to keep waiting). The arrays of the
 * acquired slot hold whatever an earlier frame left there: write all of them. */
int westream_acquire(westream_producer *p, westream_frame *frame);

/* Makes the acquired frame visible to the consumer. An error after the
 * frame went out says so in its message; westream_frames() counts it. */
int westream_publish(westream_producer *p, westream_frame *frame);

/* Convenience: acquire, copy the arrays (NULL = zeros), publish. */
int westream_send(westream_producer *p, const float *positions, const float *velocities, const float *forces,
                  const float *box6, const int64_t *step, const double *time);

/* Declares the stream complete; the consumer checks the frame count. */
int westream_end(westream_producer *p);

/* Releases everything. Closing without westream_end tells the consumer the
 * stream is incomplete. NULL is allowed. */
void westream_close(westream_producer *p);

uint32_t westream_natoms(const westream_producer *p);
uint32_t westream_nslots(const westream_producer *p);
uint64_t westream_frames(const westream_producer *p);

const char *westream_last_error(const westream_producer *p);
const char *westream_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* WESTREAM_H */
