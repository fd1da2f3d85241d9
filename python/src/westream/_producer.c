/*
 * westream._producer: CPython wrapper around the C producer API
 * (include/westream.h, native/channel/producer.c).
 *
 * One type, Channel, owns a westream_producer. Slot memory is handed out as
 * memoryviews over a small exporter type (_SlotBuffer) that counts its live
 * exports, so that closing a channel while Python still holds a view of a
 * slot can never leave that view pointing at unmapped memory (see
 * channel_release below).
 *
 * The GIL is released while connect waits for the consumer's SETUP and while
 * acquire (or send) waits for a free slot. A Channel is not thread-safe (the C
 * producer is not): a call made while another thread is blocked inside the
 * same Channel raises RuntimeError instead of racing. send(wait=False) hands
 * the frame to the channel's own background thread (_sender.c); every other
 * call first waits for that frame, and raises if it failed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <sys/mman.h>

#include "_sender.h"
#include "ring_layout.h"
#include "westream.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) {
  Py_INCREF(o);
  return o;
}
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* ------------------------------------------------------------------ errors */

static PyObject *ChannelError;  /* westream.ChannelError(Exception) */
static PyObject *ConsumerGone;  /* consumer closed, died or stopped the stream */
static PyObject *Refused;       /* consumer refused the stream at set-up */
static PyObject *ProtocolError; /* consumer spoke something unexpected */
static PyObject *ConnectError;  /* could not connect / no answer */

/* Raises the Python exception for a westream status with `message`. */
static PyObject *raise_status(int status, const char *message) {
  PyObject *type;
  switch (status) {
    case WESTREAM_E_ARGUMENT: type = PyExc_ValueError; break;
    case WESTREAM_E_CONNECT: type = ConnectError; break;
    case WESTREAM_E_REFUSED: type = Refused; break;
    case WESTREAM_E_PROTOCOL: type = ProtocolError; break;
    case WESTREAM_E_CONSUMER_GONE: type = ConsumerGone; break;
    default: type = ChannelError; break; /* NO_ADDRESS, SYSTEM, unknown */
  }
  PyObject *exc = PyObject_CallFunction(type, "s", message ? message : "unknown westream error");
  if (!exc) return NULL;
  if (type != PyExc_ValueError) {
    PyObject *code = PyLong_FromLong(status);
    PyObject *name = PyUnicode_FromString(westream_status_name(status));
    if (!code || !name || PyObject_SetAttrString(exc, "status", code) < 0 ||
        PyObject_SetAttrString(exc, "status_name", name) < 0) {
      Py_XDECREF(code);
      Py_XDECREF(name);
      Py_DECREF(exc);
      return NULL;
    }
    Py_DECREF(code);
    Py_DECREF(name);
  }
  PyErr_SetObject(type, exc);
  Py_DECREF(exc);
  return NULL;
}

/* ----------------------------------------------------------------- Channel */

typedef struct {
  PyObject_HEAD
  westream_producer *p;
  uint32_t natoms, content;
  int busy;           /* a call with the GIL released is in progress */
  int has_frame;      /* `frame` is acquired and not yet published */
  westream_frame frame;
  Py_ssize_t exports; /* live buffer exports of slot memory */
  uint8_t *ring_base; /* start of the ring mapping, known after the first acquire */
  size_t ring_bytes;
  void *zombie;       /* anonymous stand-in mapping kept while exports outlive close */
  size_t zombie_bytes;
  ws_sender *sender;  /* background thread of send(wait=False), started on first use */
  Py_buffer held[3];  /* arrays of the frame in flight, kept alive until it is sent */
  int holding[3];
  int deferred;       /* status of a failed background send, raised by the next call */
  char deferred_msg[512];
} Channel;

static PyTypeObject ChannelType;
static PyTypeObject SlotBufferType;

static void release_held(Channel *self) {
  for (int k = 0; k < 3; k++)
    if (self->holding[k]) {
      PyBuffer_Release(&self->held[k]);
      self->holding[k] = 0;
    }
}

/* Waits (GIL released) for the frame in flight on the background thread and
 * keeps its failure, if any, for raise_deferred. With `interruptible`, a
 * signal whose Python handler raises (Ctrl-C) ends the wait with -1, the
 * frame still in flight, as a blocked send(wait=True) does. */
static int settle(Channel *self, int interruptible) {
  if (!self->sender) return 0;
  int status;
  char msg[sizeof self->deferred_msg];
  for (;;) {
    Py_BEGIN_ALLOW_THREADS
    status = ws_sender_wait(self->sender, interruptible ? 50 : -1, msg, sizeof msg);
    Py_END_ALLOW_THREADS
    if (status != WS_IN_FLIGHT) break;
    if (PyErr_CheckSignals() < 0) return -1;
  }
  release_held(self);
  if (status != WESTREAM_OK && self->deferred == WESTREAM_OK) {
    self->deferred = status;
    memcpy(self->deferred_msg, msg, sizeof msg);
  }
  return 0;
}

/* settle, then raises the failure of an earlier send(wait=False). */
static int raise_deferred(Channel *self) {
  if (settle(self, 1) < 0) return -1;
  if (self->deferred == WESTREAM_OK) return 0;
  int status = self->deferred;
  self->deferred = WESTREAM_OK;
  raise_status(status, self->deferred_msg);
  return -1;
}

static int check_usable(Channel *self) {
  if (self->busy) {
    PyErr_SetString(PyExc_RuntimeError,
                    "westream producer is in use by another thread (a producer is not thread-safe)");
    return -1;
  }
  if (!self->p) {
    PyErr_SetString(PyExc_ValueError, "westream producer is closed");
    return -1;
  }
  return 0;
}

/* Closes the C producer. Slot views that are still alive are pointed at an
 * anonymous private mapping placed exactly where the ring was, so touching
 * them afterwards reads zeros instead of crashing; it is unmapped when the
 * last view goes away. */
static void channel_release(Channel *self) {
  settle(self, 0);
  ws_sender_stop(self->sender);
  self->sender = NULL;
  if (!self->p) return;
  westream_producer *p = self->p;
  self->p = NULL;
  self->has_frame = 0;
  westream_close(p);
  if (self->exports > 0 && self->ring_base && !self->zombie) {
    void *m = mmap(self->ring_base, self->ring_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m == (void *)self->ring_base) {
      self->zombie = m;
      self->zombie_bytes = self->ring_bytes;
    } else if (m != MAP_FAILED) {
      munmap(m, self->ring_bytes); /* kernel without MAP_FIXED_NOREPLACE put it elsewhere */
    }
  }
}

static void drop_zombie(Channel *self) {
  if (self->zombie && self->exports == 0) {
    munmap(self->zombie, self->zombie_bytes);
    self->zombie = NULL;
  }
}

static int Channel_init(Channel *self, PyObject *args, PyObject *kwds) {
  static char *kwlist[] = {"natoms", "address", "content", "nslots", NULL};
  Py_ssize_t natoms, nslots = 0;
  PyObject *address = Py_None;
  unsigned int content = WESTREAM_POSITIONS;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|OIn:Channel", kwlist, &natoms, &address, &content, &nslots))
    return -1;
  if (self->p || self->busy) {
    PyErr_SetString(PyExc_RuntimeError, "Channel is already connected");
    return -1;
  }
  if (natoms < 1 || natoms > (Py_ssize_t)WESTREAM_MAX_ATOMS) {
    PyErr_Format(PyExc_ValueError, "natoms must be between 1 and %u, got %zd", WESTREAM_MAX_ATOMS, natoms);
    return -1;
  }
  if (nslots < 0 || nslots > (Py_ssize_t)WESTREAM_MAX_SLOTS) {
    PyErr_Format(PyExc_ValueError, "nslots must be between 0 (consumer's choice) and %u, got %zd", WESTREAM_MAX_SLOTS,
                 nslots);
    return -1;
  }
  PyObject *encoded = NULL;
  const char *addr = NULL;
  if (address != Py_None) {
    if (!PyUnicode_FSConverter(address, &encoded)) return -1;
    addr = PyBytes_AS_STRING(encoded);
    if ((Py_ssize_t)strlen(addr) != PyBytes_GET_SIZE(encoded)) {
      Py_DECREF(encoded);
      PyErr_SetString(PyExc_ValueError, "channel address contains a NUL byte");
      return -1;
    }
  }
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = (uint32_t)natoms;
  o.content = content;
  o.nslots = (uint32_t)nslots;
  westream_producer *p = NULL;
  int status;
  char message[400];
  self->busy = 1;
  Py_BEGIN_ALLOW_THREADS
  status = westream_connect(&p, addr, &o);
  /* The failure text is thread-local: read it on this thread, before
   * anything else can run here. */
  if (status != WESTREAM_OK) snprintf(message, sizeof message, "%s", westream_last_error(NULL));
  Py_END_ALLOW_THREADS
  self->busy = 0;
  Py_XDECREF(encoded);
  if (status != WESTREAM_OK) {
    raise_status(status, message);
    return -1;
  }
  self->p = p;
  self->natoms = (uint32_t)natoms;
  self->content = content | WESTREAM_POSITIONS;
  return 0;
}

static void Channel_dealloc(Channel *self) {
  /* Never ended: the consumer sees a hang-up without END, i.e. an
   * incomplete stream. Slot views keep a reference to us, so exports == 0. */
  channel_release(self);
  drop_zombie(self);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A writable view of `bytes` bytes at `ptr`, owned by this channel. */
static PyObject *slot_view(Channel *self, float *ptr, size_t bytes);

static PyObject *frame_tuple(Channel *self) {
  const size_t bytes = (size_t)self->natoms * 12u;
  PyObject *pos = NULL, *vel = NULL, *frc = NULL;
  pos = slot_view(self, self->frame.positions, bytes);
  if (!pos) goto fail;
  if (self->frame.velocities) {
    vel = slot_view(self, self->frame.velocities, bytes);
    if (!vel) goto fail;
  } else {
    vel = Py_NewRef(Py_None);
  }
  if (self->frame.forces) {
    frc = slot_view(self, self->frame.forces, bytes);
    if (!frc) goto fail;
  } else {
    frc = Py_NewRef(Py_None);
  }
  return Py_BuildValue("(KNNN)", (unsigned long long)self->frame.index, pos, vel, frc);
fail:
  Py_XDECREF(pos);
  Py_XDECREF(vel);
  Py_XDECREF(frc);
  return NULL;
}

/* Where the ring mapping starts, derived from a slot pointer and the
 * protocol's layout (the consumer's content equals ours: connect checks). */
static void note_ring(Channel *self) {
  if (self->ring_base) return;
  westream_layout l;
  const uint32_t nslots = westream_nslots(self->p);
  if (!westream_compute_layout(self->natoms, self->content, nslots, &l)) return;
  uint8_t *slot = (uint8_t *)self->frame.positions - l.array_offset[0];
  self->ring_base = slot - WESTREAM_RING_HEADER_BYTES - (self->frame.index % nslots) * l.slot_stride;
  self->ring_bytes = (size_t)l.ring_bytes;
}

static PyObject *Channel_acquire(Channel *self, PyObject *Py_UNUSED(ignored)) {
  if (check_usable(self) < 0 || raise_deferred(self) < 0) return NULL;
  if (!self->has_frame) {
    int status;
    westream_frame f;
    self->busy = 1;
    do {
      Py_BEGIN_ALLOW_THREADS
      status = westream_acquire(self->p, &f);
      Py_END_ALLOW_THREADS
      /* A signal woke us: let Python handlers run (Ctrl-C raises), then wait on. */
    } while (status == WESTREAM_E_INTERRUPTED && PyErr_CheckSignals() == 0);
    self->busy = 0;
    if (status == WESTREAM_E_INTERRUPTED) return NULL;
    if (status != WESTREAM_OK) return raise_status(status, westream_last_error(self->p));
    self->frame = f;
    self->has_frame = 1;
    note_ring(self);
  }
  /* Acquiring again before publishing hands back the same slot. */
  return frame_tuple(self);
}

/* Fills box6 from an optional buffer of exactly 6 float32. */
static int get_box(PyObject *obj, float box6[6], int *have) {
  *have = 0;
  if (obj == Py_None) return 0;
  Py_buffer b;
  if (PyObject_GetBuffer(obj, &b, PyBUF_C_CONTIGUOUS) < 0) return -1;
  if (b.len != (Py_ssize_t)(6 * sizeof(float))) {
    PyErr_Format(PyExc_ValueError, "box must be 6 float32 (24 bytes), got %zd bytes", b.len);
    PyBuffer_Release(&b);
    return -1;
  }
  memcpy(box6, b.buf, 6 * sizeof(float));
  PyBuffer_Release(&b);
  *have = 1;
  return 0;
}

static int get_step(PyObject *obj, int64_t *step, int *have) {
  *have = 0;
  if (obj == Py_None) return 0;
  long long v = PyLong_AsLongLong(obj);
  if (v == -1 && PyErr_Occurred()) return -1;
  *step = (int64_t)v;
  *have = 1;
  return 0;
}

static int get_time(PyObject *obj, double *time, int *have) {
  *have = 0;
  if (obj == Py_None) return 0;
  double v = PyFloat_AsDouble(obj);
  if (v == -1.0 && PyErr_Occurred()) return -1;
  *time = v;
  *have = 1;
  return 0;
}

static PyObject *Channel_publish(Channel *self, PyObject *args, PyObject *kwds) {
  static char *kwlist[] = {"step", "time", "box", NULL};
  PyObject *step_o = Py_None, *time_o = Py_None, *box_o = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO:publish", kwlist, &step_o, &time_o, &box_o)) return NULL;
  if (check_usable(self) < 0 || raise_deferred(self) < 0) return NULL;
  if (!self->has_frame) {
    PyErr_SetString(PyExc_ValueError, "publish without an acquired frame");
    return NULL;
  }
  float box6[6];
  int64_t step = 0;
  double time = 0.0;
  int have_box, have_step, have_time;
  if (get_box(box_o, box6, &have_box) < 0 || get_step(step_o, &step, &have_step) < 0 ||
      get_time(time_o, &time, &have_time) < 0)
    return NULL;
  westream_frame f = self->frame;
  f.flags = 0;
  if (have_box) {
    memcpy(f.box, box6, sizeof f.box);
    f.flags |= WESTREAM_HAS_BOX;
  }
  if (have_step) {
    f.step = step;
    f.flags |= WESTREAM_HAS_STEP;
  }
  if (have_time) {
    f.time = time;
    f.flags |= WESTREAM_HAS_TIME;
  }
  int status = westream_publish(self->p, &f);
  /* westream_publish can fail after the frame went out (signalling the
   * consumer failed): the slot is no longer ours either way then. */
  if (status == WESTREAM_OK || westream_frames(self->p) > f.index) self->has_frame = 0;
  if (status != WESTREAM_OK) return raise_status(status, westream_last_error(self->p));
  return PyLong_FromUnsignedLongLong((unsigned long long)f.index);
}

/* Gets an optional array argument: natoms*3 C-contiguous float32 or float64. */
static int get_array(Channel *self, PyObject *obj, const char *name, Py_buffer *b, int *have, int *is_f64) {
  *have = 0;
  if (obj == Py_None) return 0;
  if (PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
  const char *fmt = b->format ? b->format : "B";
  if (*fmt == '=' || *fmt == '<' || *fmt == '@') fmt++;
  *is_f64 = strcmp(fmt, "d") == 0;
  const Py_ssize_t want = (Py_ssize_t)self->natoms * 3;
  if ((!*is_f64 && strcmp(fmt, "f") != 0) || b->itemsize * want != b->len) {
    PyErr_Format(PyExc_ValueError, "%s must be %u x 3 float32 or float64 values (%zd or %zd bytes), got %zd bytes of '%s'",
                 name, self->natoms, want * 4, want * 8, b->len, b->format ? b->format : "B");
    PyBuffer_Release(b);
    return -1;
  }
  *have = 1;
  return 0;
}

static int get_factors(PyObject *obj, double factor[3]) {
  factor[0] = factor[1] = factor[2] = 1.0;
  if (obj == Py_None) return 0;
  if (!PyArg_ParseTuple(obj, "ddd:factors", &factor[0], &factor[1], &factor[2])) return -1;
  for (int k = 0; k < 3; k++)
    if (factor[k] != 1.0 && factor[k] != 10.0 && factor[k] != 0.1) {
      PyErr_Format(PyExc_ValueError, "factors must each be 1, 10 or 0.1, got %g", factor[k]);
      return -1;
    }
  return 0;
}

static PyObject *Channel_send(Channel *self, PyObject *args, PyObject *kwds) {
  static char *kwlist[] = {"positions", "velocities", "forces", "box", "step", "time", "factors", "wait", NULL};
  PyObject *arr_o[3] = {Py_None, Py_None, Py_None}, *box_o = Py_None, *step_o = Py_None, *time_o = Py_None,
           *factors_o = Py_None;
  int wait = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOOOOOp:send", kwlist, &arr_o[0], &arr_o[1], &arr_o[2], &box_o,
                                   &step_o, &time_o, &factors_o, &wait))
    return NULL;
  if (check_usable(self) < 0 || raise_deferred(self) < 0) return NULL;
  if (self->has_frame) {
    PyErr_SetString(PyExc_ValueError, "send while a frame is acquired and not published");
    return NULL;
  }
  if (arr_o[0] == Py_None) {
    PyErr_SetString(PyExc_ValueError, "positions are required");
    return NULL;
  }
  if ((arr_o[1] != Py_None && !(self->content & WESTREAM_VELOCITIES)) ||
      (arr_o[2] != Py_None && !(self->content & WESTREAM_FORCES))) {
    PyErr_SetString(PyExc_ValueError, "this stream was not opened with velocities/forces");
    return NULL;
  }
  ws_job job;
  memset(&job, 0, sizeof job);
  int have_box, have_step, have_time;
  if (get_box(box_o, job.box6, &have_box) < 0 || get_step(step_o, &job.step, &have_step) < 0 ||
      get_time(time_o, &job.time, &have_time) < 0 || get_factors(factors_o, job.factor) < 0)
    return NULL;
  job.flags = (have_box ? WESTREAM_HAS_BOX : 0u) | (have_step ? WESTREAM_HAS_STEP : 0u) |
              (have_time ? WESTREAM_HAS_TIME : 0u);
  static const char *names[3] = {"positions", "velocities", "forces"};
  Py_buffer buf[3];
  int have[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    if (get_array(self, arr_o[k], names[k], &buf[k], &have[k], &job.is_f64[k]) < 0) {
      for (int j = 0; j < k; j++)
        if (have[j]) PyBuffer_Release(&buf[j]);
      return NULL;
    }
    job.array[k] = have[k] ? buf[k].buf : NULL;
  }
  const unsigned long long index = (unsigned long long)westream_frames(self->p);
  if (!wait) {
    if (!self->sender && !(self->sender = ws_sender_start(self->p, self->natoms))) {
      for (int k = 0; k < 3; k++)
        if (have[k]) PyBuffer_Release(&buf[k]);
      return PyErr_SetFromErrno(PyExc_OSError);
    }
    for (int k = 0; k < 3; k++) {
      self->held[k] = buf[k];
      self->holding[k] = have[k];
    }
    ws_sender_post(self->sender, &job);
    return PyLong_FromUnsignedLongLong(index);
  }
  int status;
  char msg[sizeof self->deferred_msg];
  self->busy = 1;
  do {
    Py_BEGIN_ALLOW_THREADS
    status = ws_send_now(self->p, self->natoms, &job, msg, sizeof msg);
    Py_END_ALLOW_THREADS
  } while (status == WESTREAM_E_INTERRUPTED && PyErr_CheckSignals() == 0);
  self->busy = 0;
  for (int k = 0; k < 3; k++)
    if (have[k]) PyBuffer_Release(&buf[k]);
  if (status == WESTREAM_E_INTERRUPTED) return NULL;
  if (status != WESTREAM_OK) return raise_status(status, msg);
  return PyLong_FromUnsignedLongLong(index);
}

static PyObject *Channel_end(Channel *self, PyObject *Py_UNUSED(ignored)) {
  if (check_usable(self) < 0 || raise_deferred(self) < 0) return NULL;
  if (self->has_frame) {
    PyErr_SetString(PyExc_ValueError,
                    "cannot end the stream: a frame was acquired and never published");
    return NULL;
  }
  int status = westream_end(self->p);
  if (status != WESTREAM_OK) return raise_status(status, westream_last_error(self->p));
  Py_RETURN_NONE;
}

static PyObject *Channel_close(Channel *self, PyObject *Py_UNUSED(ignored)) {
  if (self->busy) {
    PyErr_SetString(PyExc_RuntimeError, "cannot close: the producer is in use by another thread");
    return NULL;
  }
  channel_release(self);
  Py_RETURN_NONE;
}

static PyObject *Channel_get_natoms(Channel *self, void *Py_UNUSED(c)) {
  return PyLong_FromUnsignedLong(self->natoms);
}
static PyObject *Channel_get_nslots(Channel *self, void *Py_UNUSED(c)) {
  return PyLong_FromUnsignedLong(self->p ? westream_nslots(self->p) : 0);
}
static PyObject *Channel_get_frames(Channel *self, void *Py_UNUSED(c)) {
  settle(self, 0);
  return PyLong_FromUnsignedLongLong(self->p ? (unsigned long long)westream_frames(self->p) : 0ull);
}
static PyObject *Channel_get_content(Channel *self, void *Py_UNUSED(c)) {
  return PyLong_FromUnsignedLong(self->content);
}
static PyObject *Channel_get_closed(Channel *self, void *Py_UNUSED(c)) { return PyBool_FromLong(self->p == NULL); }
static PyObject *Channel_get_acquired(Channel *self, void *Py_UNUSED(c)) { return PyBool_FromLong(self->has_frame); }
static PyObject *Channel_get_exports(Channel *self, void *Py_UNUSED(c)) { return PyLong_FromSsize_t(self->exports); }

static PyMethodDef Channel_methods[] = {
    {"acquire", (PyCFunction)Channel_acquire, METH_NOARGS,
     "acquire() -> (index, positions, velocities, forces)\n\nWaits (GIL released) for a free slot and returns "
     "writable memoryviews of its float32[3*natoms] arrays (None for arrays the stream does not carry). Calling it "
     "again before publish() returns the same slot."},
    {"publish", (PyCFunction)(void (*)(void))Channel_publish, METH_VARARGS | METH_KEYWORDS,
     "publish(step=None, time=None, box=None) -> index\n\nPublishes the acquired slot. box: buffer of 6 float32 "
     "(ax, bx, by, cx, cy, cz) in Angstrom."},
    {"send", (PyCFunction)(void (*)(void))Channel_send, METH_VARARGS | METH_KEYWORDS,
     "send(positions, velocities=None, forces=None, box=None, step=None, time=None, factors=None, wait=True) -> index\n\n"
     "Each array a C-contiguous buffer of natoms*3 float32 or float64, multiplied by its factor (1, 10 or 0.1: "
     "(factor_pos, factor_vel, factor_frc)) in float64 and rounded once; absent velocities/forces are zeros. "
     "wait=False returns once the frame is handed to the channel's background thread: the arrays must stay "
     "unchanged until the next call on this channel, which also raises if that frame failed."},
    {"end", (PyCFunction)Channel_end, METH_NOARGS, "Declares the stream complete (sends END)."},
    {"close", (PyCFunction)Channel_close, METH_NOARGS, "Releases the channel; without end() the stream is incomplete."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Channel_getset[] = {
    {"natoms", (getter)Channel_get_natoms, NULL, "atoms per frame", NULL},
    {"nslots", (getter)Channel_get_nslots, NULL, "ring depth chosen by the consumer (0 once closed)", NULL},
    {"frames", (getter)Channel_get_frames, NULL, "frames published so far (0 once closed)", NULL},
    {"content", (getter)Channel_get_content, NULL, "westream_content bits", NULL},
    {"closed", (getter)Channel_get_closed, NULL, "True once closed", NULL},
    {"acquired", (getter)Channel_get_acquired, NULL, "True while a slot is acquired and not published", NULL},
    {"exports", (getter)Channel_get_exports, NULL, "live views of slot memory (for tests)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject ChannelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "westream._producer.Channel",
    .tp_basicsize = sizeof(Channel),
    .tp_dealloc = (destructor)Channel_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Channel(natoms, address=None, content=1, nslots=0)\n\nA connected westream producer (westream_connect).",
    .tp_methods = Channel_methods,
    .tp_getset = Channel_getset,
    .tp_init = (initproc)Channel_init,
    .tp_new = PyType_GenericNew,
};

/* -------------------------------------------------------------- SlotBuffer */

typedef struct {
  PyObject_HEAD
  Channel *owner;
  void *ptr;
  Py_ssize_t len;
} SlotBuffer;

static int SlotBuffer_getbuffer(SlotBuffer *self, Py_buffer *view, int flags) {
  if (!self->owner->p && !self->owner->zombie) {
    PyErr_SetString(PyExc_BufferError, "westream producer is closed");
    view->obj = NULL;
    return -1;
  }
  if (PyBuffer_FillInfo(view, (PyObject *)self, self->ptr, self->len, 0, flags) < 0) return -1;
  self->owner->exports++;
  return 0;
}

static void SlotBuffer_releasebuffer(SlotBuffer *self, Py_buffer *Py_UNUSED(view)) {
  self->owner->exports--;
  drop_zombie(self->owner);
}

static void SlotBuffer_dealloc(SlotBuffer *self) {
  Py_XDECREF(self->owner);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs SlotBuffer_as_buffer = {
    (getbufferproc)SlotBuffer_getbuffer,
    (releasebufferproc)SlotBuffer_releasebuffer,
};

static PyTypeObject SlotBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "westream._producer._SlotBuffer",
    .tp_basicsize = sizeof(SlotBuffer),
    .tp_dealloc = (destructor)SlotBuffer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Slot memory of a westream ring (internal).",
    .tp_as_buffer = &SlotBuffer_as_buffer,
};

static PyObject *slot_view(Channel *self, float *ptr, size_t bytes) {
  SlotBuffer *b = PyObject_New(SlotBuffer, &SlotBufferType);
  if (!b) return NULL;
  b->owner = (Channel *)Py_NewRef((PyObject *)self);
  b->ptr = ptr;
  b->len = (Py_ssize_t)bytes;
  PyObject *mv = PyMemoryView_FromObject((PyObject *)b);
  Py_DECREF(b);
  return mv;
}

/* ------------------------------------------------------------------ module */

static PyObject *mod_status_name(PyObject *Py_UNUSED(m), PyObject *arg) {
  long s = PyLong_AsLong(arg);
  if (s == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(westream_status_name((int)s));
}

static PyMethodDef module_methods[] = {
    {"status_name", mod_status_name, METH_O, "status_name(code) -> 'WESTREAM_E_...'"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "westream._producer", "CPython binding of the westream C producer.", -1, module_methods,
    NULL, NULL, NULL, NULL};

static int add_exception(PyObject *m, PyObject **slot, const char *name, PyObject *base, const char *doc) {
  char full[64];
  snprintf(full, sizeof full, "westream.%s", name);
  *slot = PyErr_NewExceptionWithDoc(full, doc, base, NULL);
  if (!*slot) return -1;
  Py_INCREF(*slot);
  if (PyModule_AddObject(m, name, *slot) < 0) {
    Py_DECREF(*slot);
    return -1;
  }
  return 0;
}

PyMODINIT_FUNC PyInit__producer(void) {
  if (PyType_Ready(&ChannelType) < 0 || PyType_Ready(&SlotBufferType) < 0) return NULL;
  PyObject *m = PyModule_Create(&moduledef);
  if (!m) return NULL;
  if (add_exception(m, &ChannelError, "ChannelError", PyExc_Exception,
                    "A westream channel failed. `status` holds the westream_status code, `status_name` its name.") <
          0 ||
      add_exception(m, &ConsumerGone, "ConsumerGone", ChannelError,
                    "The consumer closed, died, or stopped the stream.") < 0 ||
      add_exception(m, &Refused, "Refused", ChannelError,
                    "The consumer refused the stream at set-up (atom count, user, ...).") < 0 ||
      add_exception(m, &ProtocolError, "ProtocolError", ChannelError,
                    "The consumer spoke something unexpected.") < 0 ||
      add_exception(m, &ConnectError, "ConnectError", ChannelError,
                    "Could not connect to the consumer, or it did not answer.") < 0)
    goto fail;
  Py_INCREF(&ChannelType);
  if (PyModule_AddObject(m, "Channel", (PyObject *)&ChannelType) < 0) {
    Py_DECREF(&ChannelType);
    goto fail;
  }
  if (PyModule_AddIntConstant(m, "POSITIONS", WESTREAM_POSITIONS) < 0 ||
      PyModule_AddIntConstant(m, "VELOCITIES", WESTREAM_VELOCITIES) < 0 ||
      PyModule_AddIntConstant(m, "FORCES", WESTREAM_FORCES) < 0 ||
      PyModule_AddIntConstant(m, "MAX_ATOMS", WESTREAM_MAX_ATOMS) < 0 ||
      PyModule_AddIntConstant(m, "MAX_SLOTS", WESTREAM_MAX_SLOTS) < 0 ||
      PyModule_AddIntConstant(m, "PROTOCOL_VERSION", WESTREAM_PROTOCOL_VERSION) < 0)
    goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
