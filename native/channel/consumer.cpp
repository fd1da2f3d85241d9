// westream consumer implementation. See consumer.h and westream_wire.h.
#include "consumer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "address.h"
#include "westream.h"

namespace westream {

namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + strerror(errno); }

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

std::string RandomName() {
  std::random_device rd;
  char buf[32];
  snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

// A private 0700 directory for the socket file.
bool MakePrivateDir(std::string* dir, std::string* error) {
  const char* base = getenv("XDG_RUNTIME_DIR");
  struct stat st;
  if (!base || !*base || stat(base, &st) != 0 || !S_ISDIR(st.st_mode) || access(base, W_OK) != 0) base = getenv("TMPDIR");
  if (!base || !*base || stat(base, &st) != 0 || !S_ISDIR(st.st_mode) || access(base, W_OK) != 0) base = "/tmp";
  std::string tmpl = std::string(base) + "/westream-XXXXXX";
  if (!mkdtemp(&tmpl[0])) {  // mkdtemp creates it with mode 0700
    *error = Errno(("creating a private directory under " + std::string(base)).c_str());
    return false;
  }
  *dir = tmpl;
  return true;
}

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kListening: return "listening";
    case State::kHandshake: return "handshake";
    case State::kStreaming: return "streaming";
    case State::kEnded: return "ended";
    case State::kFailed: return "failed";
    case State::kClosed: return "closed";
  }
  return "?";
}

Consumer* Consumer::Listen(const ConsumerOptions& options, std::string* error) {
  Consumer* c = new Consumer();
  c->options_ = options;
  std::string address = options.address;
  if (address.empty()) {
    if (options.abstract) {
      address = "@westream-" + std::to_string(getpid()) + "-" + RandomName();
    } else {
      if (!MakePrivateDir(&c->private_dir_, error)) {
        delete c;
        return nullptr;
      }
      address = c->private_dir_ + "/channel.sock";
    }
  }
  struct sockaddr_un sa;
  socklen_t salen;
  char why[256];
  if (!westream_parse_address(address.c_str(), &sa, &salen, why, sizeof why)) {
    *error = why;
    delete c;
    return nullptr;
  }
  c->listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (c->listen_fd_ < 0) {
    *error = Errno("socket");
    delete c;
    return nullptr;
  }
  if (bind(c->listen_fd_, reinterpret_cast<sockaddr*>(&sa), salen) != 0) {
    const int err = errno;
    *error = Errno(("binding channel socket " + address).c_str());
    if (err == EADDRINUSE) {
      struct stat st;
      const bool not_socket = address[0] != '@' && stat(address.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode);
      *error += not_socket ? " (a file that is not a socket is there: pick another address)"
                           : " (another westream is using this address; pick another or remove a stale socket file)";
    }
    delete c;
    return nullptr;
  }
  if (address[0] != '@') c->socket_path_ = address;
  // Backlog > 1 so foreign peers that we refuse cannot starve the real one.
  if (listen(c->listen_fd_, 8) != 0) {
    *error = Errno("listen");
    delete c;
    return nullptr;
  }
  c->address_ = address;
  c->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (c->epoll_fd_ < 0) {
    *error = Errno("epoll_create1");
    delete c;
    return nullptr;
  }
  c->Watch(c->listen_fd_);
  return c;
}

Consumer::~Consumer() {
  Close();
  if (ring_) munmap(ring_, ring_bytes_);
}

std::string Consumer::TakeWarnings() {
  std::string w;
  w.swap(warnings_);
  return w;
}

void Consumer::SendError(int fd, int code, const std::string& text) {
  westream_msg_error m;
  memset(&m, 0, sizeof m);
  m.h.magic = WESTREAM_MSG_MAGIC;
  m.h.version = WESTREAM_PROTOCOL_VERSION;
  m.h.type = WESTREAM_MSG_ERROR;
  m.code = code;
  snprintf(m.text, sizeof m.text, "%s", text.c_str());
  (void)send(fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Consumer::Fail(const std::string& message) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  error_ = message;
  state_ = State::kFailed;
  if (conn_fd_ >= 0) SendError(conn_fd_, WESTREAM_E_CONSUMER_GONE, message);
}

bool Consumer::Pump() {
  const State before = state_;
  const size_t warned = warnings_.size();
  if (listen_fd_ >= 0) Accept();
  if (state_ == State::kHandshake) ReadHello();
  if (state_ == State::kStreaming) ReadControl();
  return state_ != before || warnings_.size() != warned;
}

void Consumer::Accept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED) Fail(Errno("accept"));
      return;
    }
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      warnings_ += "refused a connection whose credentials could not be read: " + std::string(strerror(errno)) + "\n";
      close(fd);
      continue;
    }
    if (cred.uid != geteuid()) {
      std::string why = "refused: process " + std::to_string(cred.pid) + " runs as uid " + std::to_string(cred.uid) +
                        ", this channel accepts only uid " + std::to_string(geteuid());
      SendError(fd, WESTREAM_E_REFUSED, why);
      warnings_ += "channel " + address_ + " " + why + "\n";
      close(fd);
      continue;
    }
    if (conn_fd_ >= 0) {
      SendError(fd, WESTREAM_E_REFUSED, "channel already has a producer");
      warnings_ += "refused a second producer (pid " + std::to_string(cred.pid) + ") on " + address_ + "\n";
      close(fd);
      continue;
    }
    conn_fd_ = fd;
    Watch(conn_fd_);
    producer_pid_ = cred.pid;
    state_ = State::kHandshake;
  }
}

void Consumer::ReadHello() {
  union {
    westream_msg_hello hello;
    char raw[256];
  } m;
  ssize_t n = recv(conn_fd_, &m, sizeof m, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n < 0) return Fail(Errno("reading the producer's hello"));
  if (n == 0) return Fail("producer (pid " + std::to_string(producer_pid_) + ") hung up before saying hello");
  if (n != static_cast<ssize_t>(sizeof(westream_msg_hello)) || m.hello.h.magic != WESTREAM_MSG_MAGIC ||
      m.hello.h.type != WESTREAM_MSG_HELLO) {
    return Fail("garbage on channel " + address_ + ": expected a " + std::to_string(sizeof(westream_msg_hello)) +
                "-byte westream hello from pid " + std::to_string(producer_pid_) + ", got " + std::to_string(n) +
                " bytes (is the peer a westream producer?)");
  }
  if (m.hello.h.version != WESTREAM_PROTOCOL_VERSION) {
    return Fail("producer speaks westream protocol " + std::to_string(m.hello.h.version) + ", this consumer speaks " +
                std::to_string(WESTREAM_PROTOCOL_VERSION) + "; use matching westream versions");
  }
  Setup(m.hello);
}

bool Consumer::Setup(const westream_msg_hello& hello) {
  const uint32_t content = hello.content;
  if (hello.natoms == 0 || hello.natoms > WESTREAM_MAX_ATOMS) {
    Fail("producer asked for " + std::to_string(hello.natoms) + " atoms; allowed is 1.." +
         std::to_string(WESTREAM_MAX_ATOMS));
    return false;
  }
  if (options_.expect_natoms && hello.natoms != options_.expect_natoms) {
    Fail("producer sends " + std::to_string(hello.natoms) + " atoms but " + std::to_string(options_.expect_natoms) +
         " were expected (does the topology match the simulation?)");
    return false;
  }
  if (!(content & WESTREAM_POSITIONS)) {
    Fail("producer's hello does not include positions (content " + std::to_string(content) + "); positions are required");
    return false;
  }
  if (content & ~static_cast<uint32_t>(WESTREAM_CONTENT_ALL)) {
    Fail("producer asked for unknown content bits " + std::to_string(content));
    return false;
  }
  if (hello.nslots > WESTREAM_MAX_SLOTS) {
    Fail("producer asked for " + std::to_string(hello.nslots) + " slots; the limit is " +
         std::to_string(WESTREAM_MAX_SLOTS));
    return false;
  }
  westream_layout one;
  westream_compute_layout(hello.natoms, content, 1, &one);
  uint32_t nslots =
      options_.nslots ? options_.nslots : (hello.nslots ? hello.nslots : westream_default_nslots(one.slot_stride));
  // Stay within the memory budget, but keep at least 2 slots so producer
  // and consumer can overlap.
  const uint64_t affordable = std::max<uint64_t>(2, options_.ring_budget / one.slot_stride);
  nslots = static_cast<uint32_t>(std::min<uint64_t>({nslots, affordable, WESTREAM_MAX_SLOTS}));
  nslots = std::max<uint32_t>(nslots, 1);
  westream_compute_layout(hello.natoms, content, nslots, &layout_);

  int memfd = memfd_create("westream-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memfd < 0) {
    Fail(Errno("memfd_create"));
    return false;
  }
  if (ftruncate(memfd, static_cast<off_t>(layout_.ring_bytes)) != 0) {
    Fail(Errno(("sizing the ring to " + std::to_string(layout_.ring_bytes) + " bytes").c_str()));
    close(memfd);
    return false;
  }
  // Sealed: the producer can neither shrink (which would SIGBUS us) nor grow it.
  if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    Fail(Errno("sealing the ring"));
    close(memfd);
    return false;
  }
  void* base = mmap(nullptr, layout_.ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (base == MAP_FAILED) {
    Fail(Errno("mapping the ring"));
    close(memfd);
    return false;
  }
  ring_ = static_cast<uint8_t*>(base);
  ring_bytes_ = layout_.ring_bytes;
  auto* r = reinterpret_cast<westream_ring_header*>(ring_);
  r->magic = WESTREAM_RING_MAGIC;
  r->version = WESTREAM_PROTOCOL_VERSION;
  r->natoms = hello.natoms;
  r->content = content;
  r->nslots = nslots;
  r->slot_stride = layout_.slot_stride;
  r->slots_offset = WESTREAM_RING_HEADER_BYTES;
  for (int i = 0; i < 3; i++) r->array_offset[i] = layout_.array_offset[i];

  data_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  space_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (data_fd_ < 0 || space_fd_ < 0) {
    Fail(Errno("eventfd"));
    close(memfd);
    return false;
  }

  Watch(data_fd_);

  westream_msg_setup s;
  memset(&s, 0, sizeof s);
  s.h.magic = WESTREAM_MSG_MAGIC;
  s.h.version = WESTREAM_PROTOCOL_VERSION;
  s.h.type = WESTREAM_MSG_SETUP;
  s.natoms = hello.natoms;
  s.content = content;
  s.nslots = nslots;
  s.ring_bytes = layout_.ring_bytes;

  int fds[3] = {memfd, data_fd_, space_fd_};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof fds)];
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {&s, sizeof s};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t sent;
  do sent = sendmsg(conn_fd_, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  close(memfd);  // the mapping keeps the memory alive on our side
  if (sent != static_cast<ssize_t>(sizeof s)) {
    Fail(Errno("sending the ring to the producer"));
    return false;
  }
  natoms_ = hello.natoms;
  content_ = content;
  nslots_ = nslots;
  if (hello.pid > 0 && producer_pid_ <= 0) producer_pid_ = hello.pid;
  // One producer per channel: stop listening and remove the socket file.
  CloseFd(&listen_fd_);
  if (!socket_path_.empty()) {
    unlink(socket_path_.c_str());
    socket_path_.clear();
  }
  state_ = State::kStreaming;
  return true;
}

void Consumer::ReadControl() {
  for (;;) {
    union {
      westream_msg_end end;
      char raw[256];
    } m;
    ssize_t n = recv(conn_fd_, &m, sizeof m, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == ECONNRESET) {
        hung_up_ = true;
        return;
      }
      return Fail(Errno("reading the channel socket"));
    }
    if (n == 0) {
      hung_up_ = true;
      return;
    }
    if (n == static_cast<ssize_t>(sizeof(westream_msg_end)) && m.end.h.magic == WESTREAM_MSG_MAGIC &&
        m.end.h.version == WESTREAM_PROTOCOL_VERSION && m.end.h.type == WESTREAM_MSG_END) {
      if (end_received_) {
        return Fail("producer pid " + std::to_string(producer_pid_) + " sent a second end message on channel " +
                    address_ + " (" + std::to_string(m.end.frames) + " frames, the first said " +
                    std::to_string(end_frames_) + ")");
      }
      end_received_ = true;
      end_frames_ = m.end.frames;
      continue;
    }
    return Fail("garbage on channel " + address_ + " from producer pid " + std::to_string(producer_pid_) + ": " +
                std::to_string(n) + "-byte message that is not a westream end message");
  }
}

bool Consumer::NextFrame(FrameView* out) {
  if (state_ != State::kStreaming || holding_) return false;
  auto* r = reinterpret_cast<westream_ring_header*>(ring_);
  const uint64_t published = WS_LOAD_ACQUIRE(&r->published);
  if (published == delivered_) return false;
  // Nothing read from shared memory is trusted: the producer may be buggy
  // or hostile. The ring can hold at most nslots unreleased frames.
  if (published < delivered_ || published - delivered_ > nslots_) {
    Fail("ring corrupt: producer claims " + std::to_string(published) + " frames published, but " +
         std::to_string(delivered_) + " were consumed and the ring has " + std::to_string(nslots_) + " slots");
    return false;
  }
  if (end_received_ && published > end_frames_) {
    Fail("producer published frame " + std::to_string(published - 1) + " after ending the stream at " +
         std::to_string(end_frames_) + " frames");
    return false;
  }
  const uint32_t slot = static_cast<uint32_t>(delivered_ % nslots_);
  uint8_t* base = ring_ + WESTREAM_RING_HEADER_BYTES + slot * layout_.slot_stride;
  auto* h = reinterpret_cast<westream_slot_header*>(base);
  // Copy the header once so a racing writer cannot change it between check and use.
  westream_slot_header hdr;
  memcpy(&hdr, h, sizeof hdr);
  if (hdr.seq != delivered_) {
    Fail("ring corrupt: slot " + std::to_string(slot) + " holds frame " + std::to_string(hdr.seq) + ", expected frame " +
         std::to_string(delivered_));
    return false;
  }
  if (hdr.natoms != natoms_) {
    Fail("ring corrupt: frame " + std::to_string(delivered_) + " says " + std::to_string(hdr.natoms) +
         " atoms, the stream was set up for " + std::to_string(natoms_));
    return false;
  }
  if (hdr.flags & ~static_cast<uint32_t>(WESTREAM_FRAME_FLAGS_ALL)) {
    Fail("ring corrupt: frame " + std::to_string(delivered_) + " has unknown flags " + std::to_string(hdr.flags));
    return false;
  }
  if (hdr.flags & WESTREAM_HAS_BOX) {
    // NaN fails the comparisons too: a broken cell is an error, never "no box".
    bool cell = hdr.box[0] > 0 && hdr.box[2] > 0 && hdr.box[5] > 0;
    for (float v : hdr.box) cell = cell && std::isfinite(v);
    if (!cell) {
      char box[160];
      snprintf(box, sizeof box, "%g %g %g %g %g %g", hdr.box[0], hdr.box[1], hdr.box[2], hdr.box[3], hdr.box[4], hdr.box[5]);
      Fail("frame " + std::to_string(delivered_) + " has a box that is not a cell (ax bx by cx cy cz = " + box +
           " Å): ax, by and cz must be positive and every value finite; send no box for a non-periodic system");
      return false;
    }
  }
  out->index = delivered_;
  out->step = hdr.step;
  out->time = hdr.time;
  out->flags = hdr.flags;
  out->slot = slot;
  out->box = h->box;
  for (int i = 0; i < 3; i++)
    out->arrays[i] = layout_.array_offset[i] ? reinterpret_cast<const float*>(base + layout_.array_offset[i]) : nullptr;
  delivered_++;
  holding_ = true;
  return true;
}

void Consumer::Release() {
  if (!holding_ || !ring_) return;
  holding_ = false;
  auto* r = reinterpret_cast<westream_ring_header*>(ring_);
  WS_STORE_RELEASE(&r->released, delivered_);
  WS_FENCE();
  if (WS_EXCHANGE(&r->producer_waiting, 0u) && space_fd_ >= 0) {
    const uint64_t one = 1;
    if (write(space_fd_, &one, sizeof one) < 0 && errno != EAGAIN) Fail(Errno("waking the producer"));
  }
}

bool Consumer::PrepareSleep() {
  if (state_ != State::kStreaming) return true;
  if (data_fd_ >= 0) {
    uint64_t v;
    while (read(data_fd_, &v, sizeof v) > 0) {
    }
  }
  auto* r = reinterpret_cast<westream_ring_header*>(ring_);
  WS_STORE_SEQ(&r->consumer_waiting, 1u);
  WS_FENCE();
  if (WS_LOAD_SEQ(&r->published) != delivered_) {
    WS_STORE_SEQ(&r->consumer_waiting, 0u);
    return false;
  }
  return true;
}

void Consumer::Settle() {
  if (state_ != State::kStreaming || holding_) return;
  auto* r = reinterpret_cast<westream_ring_header*>(ring_);
  const uint64_t published = WS_LOAD_ACQUIRE(&r->published);
  if (published != delivered_) return;  // more to drain first
  if (end_received_) {
    if (end_frames_ != delivered_) {
      Fail("producer ended the stream claiming " + std::to_string(end_frames_) + " frames, but published " +
           std::to_string(delivered_));
      return;
    }
    state_ = State::kEnded;
    CloseConnectionFds();
    return;
  }
  if (hung_up_) {
    error_ = "producer (pid " + std::to_string(producer_pid_) + ") exited after frame " +
             (delivered_ ? std::to_string(delivered_ - 1) : std::string("-")) + " (" + std::to_string(delivered_) +
             " frames) without ending the stream";
    state_ = State::kFailed;
    CloseConnectionFds();
  }
}

// Closing an fd removes it from the epoll set (we never dup them).
void Consumer::Watch(int fd) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) Fail(Errno("epoll_ctl"));
}

void Consumer::CloseConnectionFds() {
  CloseFd(&conn_fd_);
  CloseFd(&data_fd_);
  CloseFd(&space_fd_);
}

void Consumer::DetachRing(void** ptr, size_t* bytes) {
  *ptr = ring_;
  *bytes = ring_bytes_;
  if (ring_) {
    // Same addresses, private zero pages: the shared memory is released now.
    void* p = mmap(ring_, ring_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    (void)p;
  }
  ring_ = nullptr;
  ring_bytes_ = 0;
}

void Consumer::Close() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kStreaming || state_ == State::kHandshake) {
    if (conn_fd_ >= 0) SendError(conn_fd_, WESTREAM_E_CONSUMER_GONE, "consumer closed the channel");
  }
  CloseFd(&listen_fd_);
  CloseConnectionFds();
  if (!socket_path_.empty()) unlink(socket_path_.c_str());
  socket_path_.clear();
  if (!private_dir_.empty()) rmdir(private_dir_.c_str());
  private_dir_.clear();
  CloseFd(&epoll_fd_);
  state_ = State::kClosed;
}

void Consumer::Wait(int timeout_ms) {
  if (epoll_fd_ < 0) return;
  struct pollfd p = {epoll_fd_, POLLIN, 0};
  poll(&p, 1, timeout_ms);
}

}  // namespace westream
