/*
 * Converts a frame's arrays (float32 or float64, scaled to wire units) into a
 * ring slot and publishes it: inline on the caller's thread, or on one
 * background thread so that an engine's reporter returns to the engine while
 * the frame is copied (westream._producer.Channel.send(wait=False)).
 *
 * The background thread touches no Python object: the caller keeps the
 * arrays' buffers alive until ws_sender_wait() says the job is done.
 */
#ifndef WESTREAM_PY_SENDER_H
#define WESTREAM_PY_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "westream.h"

typedef struct {
  const void *array[3]; /* positions, velocities, forces; NULL: absent (zeros if the stream carries it) */
  int is_f64[3];        /* element type: float64 if set, else float32 */
  double factor[3];     /* 1 (cast), 10 (x 10 in float64) or 0.1 (/ 10 in float64), then rounded once */
  float box6[6];
  int64_t step;
  double time;
  uint32_t flags; /* WESTREAM_HAS_BOX | HAS_STEP | HAS_TIME */
} ws_job;

/* Runs `job` on this thread; returns a westream status, message in msg.
 * WESTREAM_E_INTERRUPTED: a signal arrived while waiting for a slot and
 * nothing was sent; call again after handling it. */
int ws_send_now(westream_producer *p, uint32_t natoms, const ws_job *job, char *msg, size_t cap);

typedef struct ws_sender ws_sender;

/* Starts the background thread (all signals blocked in it). NULL on failure, errno set. */
ws_sender *ws_sender_start(westream_producer *p, uint32_t natoms);
/* Hands `job` over; the previous one must have been waited for. */
void ws_sender_post(ws_sender *s, const ws_job *job);
/* Waits until no job is in flight, at most timeout_ms (< 0: no limit);
 * returns WS_IN_FLIGHT if the job is still running then, else the last job's
 * status (WESTREAM_OK when none failed since the previous wait), its message
 * in msg. */
#define WS_IN_FLIGHT 1
int ws_sender_wait(ws_sender *s, int timeout_ms, char *msg, size_t cap);
/* Waits for the job in flight, stops and frees the thread. */
void ws_sender_stop(ws_sender *s);

#endif
