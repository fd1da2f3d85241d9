#include "_sender.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One array into a float32 slot array. The scaling is done in float64 and
 * rounded once, like numpy's multiply(src, 10.0, dtype=float64) into a
 * float32 array, so every path gives the same bits. */
static void convert(float *dst, const void *src, int is_f64, double factor, size_t n) {
  if (!src) {
    memset(dst, 0, n * sizeof *dst);
  } else if (is_f64) {
    const double *s = (const double *)src;
    if (factor == 1.0)
      for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
    else if (factor == 0.1)
      for (size_t i = 0; i < n; i++) dst[i] = (float)(s[i] / 10.0);
    else
      for (size_t i = 0; i < n; i++) dst[i] = (float)(s[i] * factor);
  } else {
    const float *s = (const float *)src;
    if (factor == 1.0)
      memcpy(dst, s, n * sizeof *dst);
    else if (factor == 0.1)
      for (size_t i = 0; i < n; i++) dst[i] = (float)((double)s[i] / 10.0);
    else
      for (size_t i = 0; i < n; i++) dst[i] = (float)((double)s[i] * factor);
  }
}

int ws_send_now(westream_producer *p, uint32_t natoms, const ws_job *job, char *msg, size_t cap) {
  westream_frame f;
  int status = westream_acquire(p, &f);
  if (status == WESTREAM_E_INTERRUPTED) return status; /* nothing acquired: the caller runs handlers, calls again */
  if (status == WESTREAM_OK) {
    const size_t n = (size_t)natoms * 3u;
    float *dst[3] = {f.positions, f.velocities, f.forces};
    for (int k = 0; k < 3; k++)
      if (dst[k]) convert(dst[k], job->array[k], job->is_f64[k], job->factor[k], n);
    memcpy(f.box, job->box6, sizeof f.box);
    f.step = job->step;
    f.time = job->time;
    f.flags = job->flags;
    status = westream_publish(p, &f);
  }
  if (status != WESTREAM_OK && msg) snprintf(msg, cap, "%s", westream_last_error(p));
  return status;
}

struct ws_sender {
  westream_producer *p;
  uint32_t natoms;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  ws_job job;
  int pending, stop, status;
  char msg[512];
};

static void *run(void *arg) {
  ws_sender *s = arg;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->pending && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
    if (!s->pending) break; /* stop with nothing left to send */
    ws_job job = s->job;
    pthread_mutex_unlock(&s->mu);
    char msg[sizeof s->msg];
    int status;
    do status = ws_send_now(s->p, s->natoms, &job, msg, sizeof msg);
    while (status == WESTREAM_E_INTERRUPTED); /* signals are blocked here; kept for safety */
    pthread_mutex_lock(&s->mu);
    if (status != WESTREAM_OK && s->status == WESTREAM_OK) {
      s->status = status;
      memcpy(s->msg, msg, sizeof s->msg);
    }
    s->pending = 0;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

ws_sender *ws_sender_start(westream_producer *p, uint32_t natoms) {
  ws_sender *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->p = p;
  s->natoms = natoms;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  /* Signals belong to Python's main thread: the new thread inherits a full mask. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int e = pthread_create(&s->thread, NULL, run, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e) {
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    errno = e;
    return NULL;
  }
  return s;
}

void ws_sender_post(ws_sender *s, const ws_job *job) {
  pthread_mutex_lock(&s->mu);
  s->job = *job;
  s->pending = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

int ws_sender_wait(ws_sender *s, int timeout_ms, char *msg, size_t cap) {
  struct timespec deadline;
  if (timeout_ms >= 0) {
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&s->mu);
  while (s->pending) {
    if (timeout_ms < 0)
      pthread_cond_wait(&s->cv, &s->mu);
    else if (pthread_cond_timedwait(&s->cv, &s->mu, &deadline) == ETIMEDOUT && s->pending) {
      pthread_mutex_unlock(&s->mu);
      return WS_IN_FLIGHT;
    }
  }
  int status = s->status;
  if (status != WESTREAM_OK && msg) snprintf(msg, cap, "%s", s->msg);
  s->status = WESTREAM_OK;
  pthread_mutex_unlock(&s->mu);
  return status;
}

void ws_sender_stop(ws_sender *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}
