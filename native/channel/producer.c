/* westream producer: connects to a consumer, maps its ring, writes frames. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "ring_layout.h"
#include "westream.h"

/* How long connect waits for the consumer's SETUP. Overridable for slow
 * start-ups with WESTREAM_CONNECT_TIMEOUT (seconds). */
#define DEFAULT_CONNECT_TIMEOUT_MS 30000
/* How often a producer with room in the ring looks for a dead consumer. */
#define LIVENESS_CHECK_MS 50
/* Spin this many times on a full ring before sleeping on the eventfd. */
#define SPIN_BEFORE_SLEEP 2000

struct westream_producer {
  int sock;
  int data_fd;  /* we signal: frames published */
  int space_fd; /* consumer signals: slots released */
  uint8_t *base;
  size_t ring_bytes;
  westream_ring_header *ring;
  westream_layout layout;
  uint32_t natoms, content, nslots;
  uint64_t next;  /* index of the next frame to publish */
  int acquired;   /* a slot is acquired and not yet published */
  long long last_check_ms; /* when check_consumer last looked at the socket */
  int ended;
  int failed;     /* the consumer is gone or broke the protocol */
  int last_status;
  char error[320];
};

static __thread char thread_error[320];

static int fail(westream_producer *p, int status, const char *fmt, ...) {
  char *buf = p ? p->error : thread_error;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof thread_error, fmt, ap);
  va_end(ap);
  if (p) {
    p->last_status = status;
    if (status == WESTREAM_E_CONSUMER_GONE || status == WESTREAM_E_PROTOCOL) p->failed = 1;
  }
  return status;
}

const char *westream_last_error(const westream_producer *p) {
  if (p) return p->error[0] ? p->error : "no error";
  return thread_error[0] ? thread_error : "no error";
}

const char *westream_status_name(int status) {
  switch (status) {
    case WESTREAM_OK: return "WESTREAM_OK";
    case WESTREAM_E_ARGUMENT: return "WESTREAM_E_ARGUMENT";
    case WESTREAM_E_NO_ADDRESS: return "WESTREAM_E_NO_ADDRESS";
    case WESTREAM_E_CONNECT: return "WESTREAM_E_CONNECT";
    case WESTREAM_E_REFUSED: return "WESTREAM_E_REFUSED";
    case WESTREAM_E_PROTOCOL: return "WESTREAM_E_PROTOCOL";
    case WESTREAM_E_CONSUMER_GONE: return "WESTREAM_E_CONSUMER_GONE";
    case WESTREAM_E_SYSTEM: return "WESTREAM_E_SYSTEM";
    case WESTREAM_E_INTERRUPTED: return "WESTREAM_E_INTERRUPTED";
    default: return "WESTREAM_E_UNKNOWN";
  }
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_timeout_ms(void) {
  const char *s = getenv("WESTREAM_CONNECT_TIMEOUT");
  if (s && *s) {
    char *end = NULL;
    double v = strtod(s, &end);
    if (end && *end == '\0' && v > 0 && v < 86400) return (int)(v * 1000);
  }
  return DEFAULT_CONNECT_TIMEOUT_MS;
}

static void close_fds(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* Reads one control message. Returns bytes read, 0 on hang-up, -1 on error.
 * Any fds that arrive are stored in fds (up to 3), the rest closed. */
static ssize_t recv_message(int sock, void *buf, size_t size, int *fds, int *nfds) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 3)];
  } control;
  struct iovec iov = {buf, size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  /* A peer that closes with our messages unread (a consumer refusing us
   * before reading the hello) resets the connection, and the kernel reports
   * that ECONNRESET once, ahead of what the peer sent before closing: the
   * ERROR saying why. Look for that message. */
  if (n < 0 && errno == ECONNRESET) {
    msg.msg_controllen = sizeof control.buf;
    msg.msg_flags = 0;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
      n = -1;
      errno = ECONNRESET;
    }
  }
  if (nfds) *nfds = 0;
  /* On failure the kernel leaves msg_controllen as we set it: the control
   * buffer holds no fds and must not be walked. */
  if (n < 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    int *in = (int *)CMSG_DATA(c);
    for (int i = 0; i < count; i++) {
      if (fds && nfds && *nfds < 3) fds[(*nfds)++] = in[i];
      else close(in[i]);
    }
  }
  if (n >= 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
    errno = EMSGSIZE;
    return -1;
  }
  return n;
}

static int send_all(int sock, const void *buf, size_t size) {
  ssize_t n;
  do n = send(sock, buf, size, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)size ? 0 : -1;
}

static void fill_header(westream_msg_header *h, uint16_t type) {
  h->magic = WESTREAM_MSG_MAGIC;
  h->version = WESTREAM_PROTOCOL_VERSION;
  h->type = type;
}

/* Interprets a message from the consumer after SETUP: only ERROR is legal. */
static int consumer_message(westream_producer *p, const char *buf, ssize_t n) {
  const westream_msg_header *h = (const westream_msg_header *)buf;
  if (n >= (ssize_t)sizeof(westream_msg_error) && h->magic == WESTREAM_MSG_MAGIC && h->type == WESTREAM_MSG_ERROR) {
    const westream_msg_error *e = (const westream_msg_error *)buf;
    char text[WESTREAM_ERROR_TEXT];
    memcpy(text, e->text, sizeof text);
    text[sizeof text - 1] = '\0';
    return fail(p, WESTREAM_E_CONSUMER_GONE, "consumer stopped the stream: %s", text);
  }
  return fail(p, WESTREAM_E_PROTOCOL, "unexpected %zd-byte message from the consumer", n);
}

/* Non-blocking look at the socket: has the consumer gone or sent an error? */
static int check_consumer(westream_producer *p) {
  if (p->failed) return p->last_status;
  p->last_check_ms = now_ms();
  struct pollfd pfd = {p->sock, POLLIN, 0};
  int r;
  do r = poll(&pfd, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0) return WESTREAM_OK;
  char buf[sizeof(westream_msg_error) + 8];
  ssize_t n = recv_message(p->sock, buf, sizeof buf, NULL, NULL);
  if (n > 0) return consumer_message(p, buf, n);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    if (pfd.revents & (POLLHUP | POLLERR))
      return fail(p, WESTREAM_E_CONSUMER_GONE, "consumer closed the channel after %llu frames",
                  (unsigned long long)p->next);
    return WESTREAM_OK;
  }
  return fail(p, WESTREAM_E_CONSUMER_GONE, "consumer closed the channel after %llu frames",
              (unsigned long long)p->next);
}

static int validate_ring(westream_producer *p, const westream_msg_setup *s, int memfd) {
  if (s->natoms != p->natoms || s->content != p->content)
    return fail(p, WESTREAM_E_PROTOCOL, "consumer set up %u atoms / content %#x, we asked for %u / %#x", s->natoms,
                s->content, p->natoms, p->content);
  if (!westream_compute_layout(s->natoms, s->content, s->nslots, &p->layout) || p->layout.ring_bytes != s->ring_bytes)
    return fail(p, WESTREAM_E_PROTOCOL, "consumer's ring geometry is inconsistent (%u slots, %llu bytes)", s->nslots,
                (unsigned long long)s->ring_bytes);
  struct stat st;
  if (fstat(memfd, &st) != 0) return fail(p, WESTREAM_E_SYSTEM, "fstat of the ring memory: %s", strerror(errno));
  if ((uint64_t)st.st_size < s->ring_bytes)
    return fail(p, WESTREAM_E_PROTOCOL, "ring memory is %lld bytes, expected %llu", (long long)st.st_size,
                (unsigned long long)s->ring_bytes);
  /* The consumer sealed the memfd against shrinking; check, so a broken
   * consumer cannot make our writes fault. */
  int seals = fcntl(memfd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK))
    return fail(p, WESTREAM_E_PROTOCOL, "ring memory is not sealed against shrinking");
  void *base = mmap(NULL, s->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (base == MAP_FAILED) return fail(p, WESTREAM_E_SYSTEM, "mmap of %llu ring bytes: %s", (unsigned long long)s->ring_bytes, strerror(errno));
  p->base = (uint8_t *)base;
  p->ring_bytes = s->ring_bytes;
  p->ring = (westream_ring_header *)base;
  p->nslots = s->nslots;
  const westream_ring_header *r = p->ring;
  if (r->magic != WESTREAM_RING_MAGIC || r->version != WESTREAM_PROTOCOL_VERSION || r->natoms != s->natoms ||
      r->content != s->content || r->nslots != s->nslots || r->slot_stride != p->layout.slot_stride ||
      r->slots_offset != WESTREAM_RING_HEADER_BYTES)
    return fail(p, WESTREAM_E_PROTOCOL, "ring header does not match the setup message");
  for (int i = 0; i < 3; i++)
    if (r->array_offset[i] != p->layout.array_offset[i])
      return fail(p, WESTREAM_E_PROTOCOL, "ring array offsets do not match the setup message");
  return WESTREAM_OK;
}

int westream_connect(westream_producer **out, const char *address, const westream_options *options) {
  thread_error[0] = '\0';
  if (!out) return fail(NULL, WESTREAM_E_ARGUMENT, "westream_connect: out is NULL");
  *out = NULL;
  if (!options) return fail(NULL, WESTREAM_E_ARGUMENT, "westream_connect: options is NULL");
  if (options->natoms == 0 || options->natoms > WESTREAM_MAX_ATOMS)
    return fail(NULL, WESTREAM_E_ARGUMENT, "natoms must be between 1 and %u, got %u", WESTREAM_MAX_ATOMS,
                options->natoms);
  const uint32_t content = options->content | WESTREAM_POSITIONS;
  if (content & ~(uint32_t)WESTREAM_CONTENT_ALL)
    return fail(NULL, WESTREAM_E_ARGUMENT, "unknown content bits %#x", content);
  if (options->nslots > WESTREAM_MAX_SLOTS)
    return fail(NULL, WESTREAM_E_ARGUMENT, "nslots must be at most %u, got %u", WESTREAM_MAX_SLOTS, options->nslots);
  if (!address || !*address) address = getenv("WESTREAM_ADDRESS");
  if (!address || !*address)
    return fail(NULL, WESTREAM_E_NO_ADDRESS,
                "no channel address: WESTREAM_ADDRESS is not set (run the engine under `westream run`)");

  struct sockaddr_un sa;
  socklen_t salen;
  char why[200];
  if (!westream_parse_address(address, &sa, &salen, why, sizeof why)) return fail(NULL, WESTREAM_E_ARGUMENT, "%s", why);

  westream_producer *p = calloc(1, sizeof *p);
  if (!p) return fail(NULL, WESTREAM_E_SYSTEM, "out of memory");
  p->sock = p->data_fd = p->space_fd = -1;
  p->natoms = options->natoms;
  p->content = content;

  p->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (p->sock < 0) {
    fail(NULL, WESTREAM_E_SYSTEM, "socket: %s", strerror(errno));
    westream_close(p);
    return WESTREAM_E_SYSTEM;
  }
  int r;
  do r = connect(p->sock, (struct sockaddr *)&sa, salen);
  while (r < 0 && errno == EINTR);
  if (r != 0) {
    int e = errno;
    fail(NULL, WESTREAM_E_CONNECT, "cannot connect to westream channel %s: %s%s", address, strerror(e),
         (e == ENOENT || e == ECONNREFUSED) ? " (is the consumer running, and is WESTREAM_ADDRESS current?)" : "");
    westream_close(p);
    return WESTREAM_E_CONNECT;
  }

  westream_msg_hello hello;
  memset(&hello, 0, sizeof hello);
  fill_header(&hello.h, WESTREAM_MSG_HELLO);
  hello.natoms = p->natoms;
  hello.content = p->content;
  hello.nslots = options->nslots;
  hello.pid = (int32_t)getpid();
  if (send_all(p->sock, &hello, sizeof hello) != 0) {
    /* A consumer that refuses us (wrong uid) may answer and hang up before
     * our hello goes out: its reason is still queued on our side. */
    const int e = errno;
    westream_msg_error refusal;
    ssize_t n = recv_message(p->sock, &refusal, sizeof refusal, NULL, NULL);
    if (n == (ssize_t)sizeof refusal && refusal.h.magic == WESTREAM_MSG_MAGIC && refusal.h.type == WESTREAM_MSG_ERROR) {
      refusal.text[WESTREAM_ERROR_TEXT - 1] = '\0';
      fail(NULL, WESTREAM_E_REFUSED, "consumer at %s refused the stream: %s", address, refusal.text);
      westream_close(p);
      return WESTREAM_E_REFUSED;
    }
    fail(NULL, WESTREAM_E_CONNECT, "sending hello to %s: %s", address, strerror(e));
    westream_close(p);
    return WESTREAM_E_CONNECT;
  }

  /* Wait for SETUP (or ERROR). */
  const long long deadline = now_ms() + connect_timeout_ms();
  union {
    westream_msg_setup setup;
    westream_msg_error error;
    char raw[sizeof(westream_msg_error) + 8];
  } reply;
  int fds[3] = {-1, -1, -1}, nfds = 0;
  ssize_t n;
  for (;;) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      fail(NULL, WESTREAM_E_CONNECT, "consumer at %s did not answer within %.3g s (WESTREAM_CONNECT_TIMEOUT)", address,
           connect_timeout_ms() / 1000.0);
      westream_close(p);
      return WESTREAM_E_CONNECT;
    }
    struct pollfd pfd = {p->sock, POLLIN, 0};
    r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    n = recv_message(p->sock, &reply, sizeof reply, fds, &nfds);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    break;
  }
  int status = WESTREAM_OK;
  if (n <= 0) {
    status = fail(NULL, WESTREAM_E_CONNECT, "consumer at %s closed the connection during set-up%s%s", address,
                  n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
  } else if (n >= (ssize_t)sizeof(westream_msg_header) && reply.setup.h.magic == WESTREAM_MSG_MAGIC &&
             reply.setup.h.type == WESTREAM_MSG_ERROR && n >= (ssize_t)sizeof(westream_msg_error)) {
    reply.error.text[WESTREAM_ERROR_TEXT - 1] = '\0';
    status = fail(NULL, WESTREAM_E_REFUSED, "consumer at %s refused the stream: %s", address, reply.error.text);
  } else if (n != (ssize_t)sizeof(westream_msg_setup) || reply.setup.h.magic != WESTREAM_MSG_MAGIC ||
             reply.setup.h.version != WESTREAM_PROTOCOL_VERSION || reply.setup.h.type != WESTREAM_MSG_SETUP) {
    status = fail(NULL, WESTREAM_E_PROTOCOL, "consumer at %s sent an invalid %zd-byte set-up message", address, n);
  } else if (nfds != 3) {
    status = fail(NULL, WESTREAM_E_PROTOCOL, "consumer at %s passed %d file descriptors, expected 3", address, nfds);
  } else {
    p->data_fd = fds[1];
    p->space_fd = fds[2];
    fds[1] = fds[2] = -1;
    status = validate_ring(p, &reply.setup, fds[0]);
    if (status != WESTREAM_OK) fail(NULL, status, "%s", p->error);
  }
  close_fds(fds, 3);
  if (status != WESTREAM_OK) {
    westream_close(p);
    return status;
  }
  *out = p;
  return WESTREAM_OK;
}

/* Blocks until the slot for frame `p->next` is free. */
static int wait_for_space(westream_producer *p) {
  westream_ring_header *r = p->ring;
  int spins = 0;
  for (;;) {
    uint64_t released = WS_LOAD_ACQUIRE(&r->released);
    if (released > p->next)
      return fail(p, WESTREAM_E_PROTOCOL, "ring corrupt: consumer released %llu frames, only %llu published",
                  (unsigned long long)released, (unsigned long long)p->next);
    if (p->next - released < p->nslots) return WESTREAM_OK;
    if (++spins < SPIN_BEFORE_SLEEP) {
      WS_CPU_RELAX();
      continue;
    }
    /* Announce we are about to sleep, then look once more (pairs with the
     * consumer's release-then-check). */
    WS_STORE_SEQ(&r->producer_waiting, 1u);
    WS_FENCE();
    released = WS_LOAD_SEQ(&r->released);
    if (p->next - released < p->nslots && released <= p->next) {
      WS_STORE_SEQ(&r->producer_waiting, 0u);
      continue;
    }
    struct pollfd pfd[2] = {{p->space_fd, POLLIN, 0}, {p->sock, POLLIN, 0}};
    int n = poll(pfd, 2, -1);
    if (n < 0 && errno == EINTR) {
      WS_STORE_SEQ(&r->producer_waiting, 0u);
      return fail(p, WESTREAM_E_INTERRUPTED, "interrupted by a signal while waiting for a free slot; call again to keep waiting");
    }
    if (n < 0) return fail(p, WESTREAM_E_SYSTEM, "poll: %s", strerror(errno));
    if (pfd[0].revents & POLLIN) {
      uint64_t v;
      ssize_t rd = read(p->space_fd, &v, sizeof v);
      (void)rd;
    }
    if (pfd[1].revents) {
      int s = check_consumer(p);
      if (s != WESTREAM_OK) return s;
    }
    spins = 0;
  }
}

int westream_acquire(westream_producer *p, westream_frame *f) {
  if (!p || !f) return fail(p, WESTREAM_E_ARGUMENT, "westream_acquire: NULL argument");
  if (p->ended) return fail(p, WESTREAM_E_ARGUMENT, "westream_acquire after westream_end");
  if (p->acquired) return fail(p, WESTREAM_E_ARGUMENT, "westream_acquire twice without westream_publish");
  /* A dead consumer is noticed within LIVENESS_CHECK_MS even while the ring
   * has room; in between, acquiring costs no system call. */
  int s = WESTREAM_OK;
  if (p->failed || now_ms() - p->last_check_ms >= LIVENESS_CHECK_MS) s = check_consumer(p);
  if (s != WESTREAM_OK) return s;
  s = wait_for_space(p);
  if (s != WESTREAM_OK) return s;
  uint8_t *slot = p->base + WESTREAM_RING_HEADER_BYTES + (p->next % p->nslots) * p->layout.slot_stride;
  memset(f, 0, sizeof *f);
  f->index = p->next;
  f->positions = (float *)(slot + p->layout.array_offset[0]);
  f->velocities = p->layout.array_offset[1] ? (float *)(slot + p->layout.array_offset[1]) : NULL;
  f->forces = p->layout.array_offset[2] ? (float *)(slot + p->layout.array_offset[2]) : NULL;
  p->acquired = 1;
  return WESTREAM_OK;
}

int westream_publish(westream_producer *p, westream_frame *f) {
  if (!p || !f) return fail(p, WESTREAM_E_ARGUMENT, "westream_publish: NULL argument");
  if (!p->acquired || f->index != p->next)
    return fail(p, WESTREAM_E_ARGUMENT, "westream_publish without a matching westream_acquire");
  if (f->flags & ~(uint32_t)WESTREAM_FRAME_FLAGS_ALL)
    return fail(p, WESTREAM_E_ARGUMENT, "unknown frame flags %#x", f->flags);
  westream_ring_header *r = p->ring;
  westream_slot_header *h =
      (westream_slot_header *)(p->base + WESTREAM_RING_HEADER_BYTES + (p->next % p->nslots) * p->layout.slot_stride);
  h->seq = p->next;
  h->step = f->step;
  h->time = f->time;
  h->flags = f->flags;
  h->natoms = p->natoms;
  memcpy(h->box, f->box, sizeof h->box);
  p->acquired = 0;
  p->next++;
  WS_STORE_RELEASE(&r->published, p->next);
  WS_FENCE();
  if (WS_EXCHANGE(&r->consumer_waiting, 0u)) {
    const uint64_t one = 1;
    if (write(p->data_fd, &one, sizeof one) < 0 && errno != EAGAIN)
      return fail(p, WESTREAM_E_SYSTEM, "frame %llu was published but the consumer could not be woken: %s",
                  (unsigned long long)(p->next - 1), strerror(errno));
  }
  return WESTREAM_OK;
}

int westream_send(westream_producer *p, const float *positions, const float *velocities, const float *forces,
                  const float *box6, const int64_t *step, const double *time) {
  westream_frame f;
  int s = westream_acquire(p, &f);
  if (s != WESTREAM_OK) return s;
  const size_t bytes = (size_t)p->natoms * 12u;
  positions ? memcpy(f.positions, positions, bytes) : memset(f.positions, 0, bytes);
  if (f.velocities) velocities ? memcpy(f.velocities, velocities, bytes) : memset(f.velocities, 0, bytes);
  if (f.forces) forces ? memcpy(f.forces, forces, bytes) : memset(f.forces, 0, bytes);
  if (box6) {
    memcpy(f.box, box6, sizeof f.box);
    f.flags |= WESTREAM_HAS_BOX;
  }
  if (step) {
    f.step = *step;
    f.flags |= WESTREAM_HAS_STEP;
  }
  if (time) {
    f.time = *time;
    f.flags |= WESTREAM_HAS_TIME;
  }
  return westream_publish(p, &f);
}

int westream_end(westream_producer *p) {
  if (!p) return fail(NULL, WESTREAM_E_ARGUMENT, "westream_end: NULL producer");
  if (p->ended) return WESTREAM_OK;
  if (p->acquired) return fail(p, WESTREAM_E_ARGUMENT, "westream_end with an acquired, unpublished frame");
  int s = check_consumer(p);
  if (s != WESTREAM_OK) return s;
  westream_msg_end end;
  memset(&end, 0, sizeof end);
  fill_header(&end.h, WESTREAM_MSG_END);
  end.frames = p->next;
  if (send_all(p->sock, &end, sizeof end) != 0)
    return fail(p, WESTREAM_E_CONSUMER_GONE, "consumer closed the channel before the end of the stream: %s",
                strerror(errno));
  p->ended = 1;
  return WESTREAM_OK;
}

void westream_close(westream_producer *p) {
  if (!p) return;
  if (p->base) munmap(p->base, p->ring_bytes);
  int fds[3] = {p->sock, p->data_fd, p->space_fd};
  close_fds(fds, 3);
  free(p);
}

uint32_t westream_natoms(const westream_producer *p) { return p ? p->natoms : 0; }
uint32_t westream_nslots(const westream_producer *p) { return p ? p->nslots : 0; }
uint64_t westream_frames(const westream_producer *p) { return p ? p->next : 0; }
