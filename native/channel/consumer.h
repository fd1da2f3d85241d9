// westream consumer: listens for one producer, owns the ring, hands out frames.
//
// Event-driven and free of any runtime: the owner polls wait_fd() (an epoll
// set of the listening socket, the producer's socket and the data eventfd,
// stable for the consumer's lifetime, so fds that come and go never confuse
// the owner's event loop), calls Pump() when it is readable, then drains
// frames with NextFrame()/Release(). The Node addon drives it from libuv;
// tests and benchmarks drive it with Wait().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ring_layout.h"
#include "westream_wire.h"

namespace westream {

struct ConsumerOptions {
  std::string address;       // "" = make a private one; "@name" = abstract namespace
  bool abstract = false;     // with an empty address: use the abstract namespace
  uint32_t nslots = 0;       // 0 = producer's hint, else WESTREAM_DEFAULT_SLOTS (capped by ring_budget)
  uint32_t expect_natoms = 0;  // 0 = any
  uint64_t ring_budget = 1ull << 30;  // cap on ring memory when choosing nslots
};

// A validated frame, pointing into the ring. Valid until Release().
struct FrameView {
  uint64_t index;
  int64_t step;
  double time;
  uint32_t flags;
  uint32_t slot;
  const float* box;  // 6 floats
  const float* arrays[3];  // positions, velocities, forces (nullptr if absent)
};

enum class State { kListening, kHandshake, kStreaming, kEnded, kFailed, kClosed };

class Consumer {
 public:
  // Creates the listening socket. On failure returns nullptr and sets *error.
  static Consumer* Listen(const ConsumerOptions& options, std::string* error);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  const std::string& address() const { return address_; }
  State state() const { return state_; }
  const std::string& error() const { return error_; }
  // Non-fatal notices (refused peers); Pump() appends, owner clears.
  std::string TakeWarnings();

  int wait_fd() const { return epoll_fd_; }

  // Handles whatever is readable: new connections, hello, end, hang-up.
  // Never blocks. Returns true when state or warnings may have changed.
  bool Pump();

  // Next published frame, validated against the negotiated geometry; false
  // when none is ready or the ring is corrupt (then state() == kFailed).
  bool NextFrame(FrameView* out);
  // Gives the slot of the last NextFrame() back to the producer.
  void Release();
  // Announces that we are about to sleep. Returns false when frames arrived
  // meanwhile (drain again instead of sleeping).
  bool PrepareSleep();
  // After draining: moves to kEnded / kFailed once the stream's fate is known.
  void Settle();

  // Negotiated geometry (valid from kStreaming on).
  uint32_t natoms() const { return natoms_; }
  uint32_t content() const { return content_; }
  uint32_t nslots() const { return nslots_; }
  int producer_pid() const { return producer_pid_; }
  uint64_t delivered() const { return delivered_; }
  // Slot memory, for zero-copy views: base of slot 0 and the stride.
  uint8_t* slots_base() const { return ring_ ? ring_ + WESTREAM_RING_HEADER_BYTES : nullptr; }
  uint64_t slot_stride() const { return layout_.slot_stride; }
  uint64_t slots_bytes() const { return layout_.slot_stride * nslots_; }
  const westream_layout& layout() const { return layout_; }

  // Replaces the ring mapping by anonymous memory at the same address, so
  // views handed out stay readable (as zeros) while the shared memory is
  // freed; the caller then owns [ptr, ptr+bytes) and must munmap it.
  void DetachRing(void** ptr, size_t* bytes);

  // Closes sockets and eventfds, removes the socket file and private dir.
  void Close();

  // Blocks up to timeout_ms for any fd to become readable (tests/benchmarks).
  void Wait(int timeout_ms);

  // Stops the stream and tells the producer why (best effort).
  void Fail(const std::string& message);

 private:
  Consumer() = default;
  void Accept();
  void ReadHello();
  void ReadControl();
  bool Setup(const westream_msg_hello& hello);
  void SendError(int fd, int code, const std::string& text);
  void CloseConnectionFds();
  void Watch(int fd);

  ConsumerOptions options_;
  std::string address_;
  std::string socket_path_;  // non-empty for path sockets we created
  std::string private_dir_;  // non-empty if we created it
  std::string error_;
  std::string warnings_;
  State state_ = State::kListening;

  int epoll_fd_ = -1;
  int listen_fd_ = -1;
  int conn_fd_ = -1;
  int data_fd_ = -1;   // producer -> us
  int space_fd_ = -1;  // us -> producer

  uint8_t* ring_ = nullptr;
  size_t ring_bytes_ = 0;
  westream_layout layout_{};
  uint32_t natoms_ = 0, content_ = 0, nslots_ = 0;
  int producer_pid_ = 0;

  uint64_t delivered_ = 0;  // frames handed out by NextFrame
  bool holding_ = false;    // a frame is out and not released
  bool end_received_ = false;
  uint64_t end_frames_ = 0;
  bool hung_up_ = false;
};

const char* StateName(State s);

}  // namespace westream
