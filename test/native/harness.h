// Helpers for the native channel tests: driving a Consumer, raw wire-level
// clients and producers, fd-leak checks, deadlines.
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "address.h"
#include "consumer.h"
#include "ring_layout.h"
#include "westream.h"
#include "westream_wire.h"

namespace wstest {

using westream::Consumer;
using westream::ConsumerOptions;
using westream::FrameView;
using westream::State;
using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline bool Terminal(State s) { return s == State::kEnded || s == State::kFailed || s == State::kClosed; }

// ---------------------------------------------------------------- fd checks

inline std::set<int> OpenFds() {
  std::set<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return fds;
  const int self = dirfd(d);
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = atoi(e->d_name);
    if (fd != self) fds.insert(fd);
  }
  closedir(d);
  return fds;
}

inline std::string DescribeFd(int fd) {
  char path[64], target[512];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return std::to_string(fd) + " -> ?";
  target[n] = '\0';
  return std::to_string(fd) + " -> " + target;
}

// Base fixture: every test must leave exactly the fds it found.
class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = OpenFds(); }
  void TearDown() override {
    const std::set<int> after = OpenFds();
    std::string leaked, lost;
    for (int fd : after)
      if (!fds_before_.count(fd)) leaked += "  " + DescribeFd(fd) + "\n";
    for (int fd : fds_before_)
      if (!after.count(fd)) lost += "  " + std::to_string(fd) + "\n";
    EXPECT_TRUE(leaked.empty()) << "file descriptors leaked by this test:\n" << leaked;
    EXPECT_TRUE(lost.empty()) << "file descriptors closed by this test that it did not open:\n" << lost;
  }
  std::set<int> fds_before_;
};

// ---------------------------------------------------------- consumer driving

struct ConsumerDeleter {
  void operator()(Consumer* c) const { delete c; }
};
using ConsumerPtr = std::unique_ptr<Consumer, ConsumerDeleter>;

inline ConsumerPtr MakeConsumer(const ConsumerOptions& o = ConsumerOptions()) {
  std::string error;
  Consumer* c = Consumer::Listen(o, &error);
  EXPECT_NE(c, nullptr) << "Consumer::Listen failed: " << error;
  return ConsumerPtr(c);
}

using FrameFn = std::function<void(const FrameView&)>;

// The working half of an owner's event loop turn: handle control traffic,
// drain and release every ready frame, settle.
inline void Work(Consumer* c, const FrameFn& on_frame) {
  c->Pump();
  FrameView v;
  while (c->NextFrame(&v)) {
    if (on_frame) on_frame(v);
    c->Release();
  }
  c->Settle();
}

// The sleeping half: sleep (at most wait_ms) only when PrepareSleep() says
// nothing arrived meanwhile.
inline void Sleep(Consumer* c, int wait_ms) {
  if (Terminal(c->state())) return;
  if (c->PrepareSleep()) c->Wait(wait_ms);
}

// One whole turn of an owner's event loop.
inline void Turn(Consumer* c, const FrameFn& on_frame, int wait_ms) {
  Work(c, on_frame);
  Sleep(c, wait_ms);
}

// Drives `c` until pred() holds or timeout_ms passes; returns pred().
template <class Pred>
bool DriveUntil(Consumer* c, Pred pred, int timeout_ms, const FrameFn& on_frame = nullptr, int slice_ms = 50) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (pred()) return true;
    Work(c, on_frame);
    if (pred()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    Sleep(c, std::max(1, std::min(left, slice_ms)));
  }
}

// Drives `c` until it reaches a terminal state (kEnded/kFailed/kClosed).
inline bool DriveToEnd(Consumer* c, int timeout_ms, const FrameFn& on_frame = nullptr) {
  return DriveUntil(c, [c] { return Terminal(c->state()); }, timeout_ms, on_frame);
}

inline westream_ring_header* RingOf(Consumer* c) {
  uint8_t* slots = c->slots_base();
  return slots ? reinterpret_cast<westream_ring_header*>(slots - WESTREAM_RING_HEADER_BYTES) : nullptr;
}

// Runs westream_connect on a helper thread while this thread drives the
// consumer through the handshake. Returns the producer (nullptr on failure,
// with *status set and the thread's error text in *error).
inline westream_producer* ConnectProducer(Consumer* c, const std::string& address, const westream_options& o,
                                          int* status = nullptr, std::string* error = nullptr,
                                          int timeout_ms = 5000) {
  westream_producer* p = nullptr;
  int s = 1;
  std::string why;
  std::atomic<bool> done{false};
  std::thread t([&] {
    s = westream_connect(&p, address.empty() ? nullptr : address.c_str(), &o);
    if (s != WESTREAM_OK) why = westream_last_error(nullptr);
    done = true;
  });
  // The helper thread finishing does not wake the consumer: look often.
  DriveUntil(c, [&] { return done.load(); }, timeout_ms, nullptr, 2);
  t.join();
  if (status) *status = s;
  if (error) *error = why;
  return p;
}

// ------------------------------------------------------------ deterministic data

inline uint64_t SplitMix(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Arbitrary 32-bit patterns (NaNs, denormals and all): the channel must move
// bytes, not numbers.
inline void FillPattern(float* a, size_t nfloat, uint64_t seed) {
  uint64_t s = seed;
  for (size_t i = 0; i < nfloat; i++) {
    const uint32_t w = static_cast<uint32_t>(SplitMix(&s));
    memcpy(&a[i], &w, sizeof w);
  }
}

inline std::vector<float> Pattern(size_t nfloat, uint64_t seed) {
  std::vector<float> v(nfloat);
  FillPattern(v.data(), nfloat, seed);
  return v;
}

// ------------------------------------------------------------ raw wire peers

inline void FillHeader(westream_msg_header* h, uint16_t type) {
  h->magic = WESTREAM_MSG_MAGIC;
  h->version = WESTREAM_PROTOCOL_VERSION;
  h->type = type;
}

inline westream_msg_hello Hello(uint32_t natoms, uint32_t content = WESTREAM_POSITIONS, uint32_t nslots = 0) {
  westream_msg_hello m;
  memset(&m, 0, sizeof m);
  FillHeader(&m.h, WESTREAM_MSG_HELLO);
  m.natoms = natoms;
  m.content = content;
  m.nslots = nslots;
  m.pid = static_cast<int32_t>(getpid());
  return m;
}

inline westream_msg_end End(uint64_t frames) {
  westream_msg_end m;
  memset(&m, 0, sizeof m);
  FillHeader(&m.h, WESTREAM_MSG_END);
  m.frames = frames;
  return m;
}

// Connects a socket of `type` to `address`; returns the fd or -1 (errno set).
inline int RawConnect(const std::string& address, int type = SOCK_SEQPACKET) {
  struct sockaddr_un sa;
  socklen_t len = 0;
  char why[256];
  if (!westream_parse_address(address.c_str(), &sa, &len, why, sizeof why)) {
    errno = EINVAL;
    return -1;
  }
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

// Sends one message, optionally with fds attached.
inline bool SendMsg(int sock, const void* buf, size_t size, const int* fds = nullptr, int nfds = 0) {
  struct iovec iov = {const_cast<void*>(buf), size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 8)];
  } control;
  memset(&control, 0, sizeof control);
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(size);
}

// Receives one message with up to 8 fds; waits up to timeout_ms. Returns the
// byte count, 0 on hang-up, -1 on error/timeout.
inline ssize_t RecvMsg(int sock, void* buf, size_t size, std::vector<int>* fds, int timeout_ms) {
  struct pollfd p = {sock, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r <= 0) return -1;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * 8)];
  } control;
  struct iovec iov = {buf, size};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); n >= 0 && c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const int count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    const int* in = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (int i = 0; i < count; i++) {
      if (fds) fds->push_back(in[i]);
      else close(in[i]);
    }
  }
  return n;
}

// A producer written against the wire structs only: it maps the ring itself
// and can forge anything a buggy or hostile producer could.
struct RawProducer {
  int sock = -1, memfd = -1, data_fd = -1, space_fd = -1;
  uint8_t* base = nullptr;
  size_t bytes = 0;
  westream_msg_setup setup{};
  westream_layout layout{};

  RawProducer() = default;
  RawProducer(const RawProducer&) = delete;
  RawProducer& operator=(const RawProducer&) = delete;
  ~RawProducer() { Close(); }

  bool Connect(const std::string& address) {
    sock = RawConnect(address);
    return sock >= 0;
  }
  bool Send(const void* buf, size_t size) { return SendMsg(sock, buf, size); }
  template <class T>
  bool Send(const T& m) {
    return SendMsg(sock, &m, sizeof m);
  }

  // Reads SETUP (the consumer must have been pumped past the hello) and maps the ring.
  bool ReceiveSetup(int timeout_ms = 2000) {
    std::vector<int> fds;
    const ssize_t n = RecvMsg(sock, &setup, sizeof setup, &fds, timeout_ms);
    if (n != static_cast<ssize_t>(sizeof setup) || fds.size() != 3 || setup.h.type != WESTREAM_MSG_SETUP) {
      for (int fd : fds) close(fd);
      return false;
    }
    memfd = fds[0];
    data_fd = fds[1];
    space_fd = fds[2];
    if (!westream_compute_layout(setup.natoms, setup.content, setup.nslots, &layout)) return false;
    bytes = setup.ring_bytes;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (p == MAP_FAILED) return false;
    base = static_cast<uint8_t*>(p);
    return true;
  }

  westream_ring_header* ring() { return reinterpret_cast<westream_ring_header*>(base); }
  uint8_t* slot_base(uint64_t index) {
    return base + WESTREAM_RING_HEADER_BYTES + (index % setup.nslots) * layout.slot_stride;
  }
  westream_slot_header* slot(uint64_t index) { return reinterpret_cast<westream_slot_header*>(slot_base(index)); }

  // Writes a well-formed frame `index` (without publishing it).
  void WriteFrame(uint64_t index, uint32_t flags = WESTREAM_HAS_STEP) {
    westream_slot_header* h = slot(index);
    h->seq = index;
    h->step = static_cast<int64_t>(index) * 10;
    h->time = 0;
    h->flags = flags;
    h->natoms = setup.natoms;
    float* pos = reinterpret_cast<float*>(slot_base(index) + layout.array_offset[0]);
    FillPattern(pos, static_cast<size_t>(setup.natoms) * 3, index);
  }

  // Stores `published` and wakes the consumer if it announced sleeping.
  void Publish(uint64_t published) {
    WS_STORE_RELEASE(&ring()->published, published);
    WS_FENCE();
    if (WS_EXCHANGE(&ring()->consumer_waiting, 0u)) {
      const uint64_t one = 1;
      ssize_t w = write(data_fd, &one, sizeof one);
      (void)w;
    }
  }

  void Close() {
    if (base) munmap(base, bytes);
    base = nullptr;
    for (int* fd : {&sock, &memfd, &data_fd, &space_fd}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
};

// ------------------------------------------------------------ misc

inline bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

inline std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Restores an environment variable when it goes out of scope.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    const char* v = getenv(name);
    had_ = v != nullptr;
    if (had_) value_ = v;
  }
  ~EnvGuard() {
    if (had_) setenv(name_.c_str(), value_.c_str(), 1);
    else unsetenv(name_.c_str());
  }

 private:
  std::string name_, value_;
  bool had_ = false;
};

}  // namespace wstest
