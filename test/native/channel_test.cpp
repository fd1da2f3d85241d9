// Consumer core + C producer, end to end: round trips, ring laps,
// backpressure, lifecycle (deaths, closes), addresses, many channels.
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <map>

#include "harness.h"

extern char** environ;

namespace wstest {
namespace {

// ------------------------------------------------------------------ round trip

struct SentFrame {
  int64_t step;
  double time;
  float box[6];
  uint32_t flags;
};

SentFrame FrameMeta(uint64_t k) {
  SentFrame s;
  s.step = -5 + static_cast<int64_t>(k) * 1000000007LL;
  s.time = 0.5 + 0.002 * static_cast<double>(k);
  for (int i = 0; i < 6; i++) s.box[i] = static_cast<float>(k) + 0.25f * static_cast<float>(i);
  s.flags = static_cast<uint32_t>(k % 8);  // every combination of step/time/box
  return s;
}

uint64_t ArraySeed(uint64_t k, int array) { return k * 3 + static_cast<uint64_t>(array) + 1; }

// Publishes `frames` frames with deterministic content; returns the first error.
int ProduceFrames(westream_producer* p, uint64_t frames, uint32_t natoms, bool end = true) {
  for (uint64_t k = 0; k < frames; k++) {
    westream_frame f;
    int s = westream_acquire(p, &f);
    if (s != WESTREAM_OK) return s;
    if (f.index != k) return 1000;
    float* arrays[3] = {f.positions, f.velocities, f.forces};
    for (int a = 0; a < 3; a++)
      if (arrays[a]) FillPattern(arrays[a], static_cast<size_t>(natoms) * 3, ArraySeed(k, a));
    const SentFrame m = FrameMeta(k);
    f.step = m.step;
    f.time = m.time;
    memcpy(f.box, m.box, sizeof f.box);
    f.flags = m.flags;
    s = westream_publish(p, &f);
    if (s != WESTREAM_OK) return s;
  }
  return end ? westream_end(p) : WESTREAM_OK;
}

// Checks a received frame against what ProduceFrames sent; counts mismatches.
struct FrameChecker {
  uint32_t natoms;
  uint32_t content;
  uint32_t nslots;
  uint64_t next = 0;
  uint64_t bad = 0;
  std::string first_problem;

  void Problem(const std::string& what) {
    if (bad++ == 0) first_problem = what;
  }
  void operator()(const FrameView& v) {
    if (v.index != next) Problem("frame " + std::to_string(v.index) + " arrived, expected " + std::to_string(next));
    const uint64_t k = v.index;
    if (v.slot != k % nslots) Problem("frame " + std::to_string(k) + " in slot " + std::to_string(v.slot));
    const SentFrame m = FrameMeta(k);
    if (v.flags != m.flags) Problem("frame " + std::to_string(k) + " flags");
    if ((m.flags & WESTREAM_HAS_STEP) && v.step != m.step) Problem("frame " + std::to_string(k) + " step");
    if ((m.flags & WESTREAM_HAS_TIME) && v.time != m.time) Problem("frame " + std::to_string(k) + " time");
    if ((m.flags & WESTREAM_HAS_BOX) && memcmp(v.box, m.box, sizeof m.box) != 0)
      Problem("frame " + std::to_string(k) + " box");
    const size_t nfloat = static_cast<size_t>(natoms) * 3;
    for (int a = 0; a < 3; a++) {
      const bool present = content & (1u << a);
      if (present != (v.arrays[a] != nullptr)) {
        Problem("frame " + std::to_string(k) + " array " + std::to_string(a) + " presence");
        continue;
      }
      if (!present) continue;
      const std::vector<float> want = Pattern(nfloat, ArraySeed(k, a));
      if (memcmp(v.arrays[a], want.data(), nfloat * sizeof(float)) != 0)
        Problem("frame " + std::to_string(k) + " array " + std::to_string(a) + " bytes differ");
    }
    next++;
  }
};

TEST_F(ChannelTest, RoundTripAllArraysEveryByteEqual) {
  const uint32_t natoms = 777, frames = 300;
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  o.content = WESTREAM_POSITIONS | WESTREAM_VELOCITIES | WESTREAM_FORCES;
  int status;
  std::string why;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o, &status, &why);
  ASSERT_NE(p, nullptr) << westream_status_name(status) << ": " << why;
  EXPECT_EQ(c->state(), State::kStreaming);
  EXPECT_EQ(c->natoms(), natoms);
  EXPECT_EQ(c->content(), static_cast<uint32_t>(WESTREAM_CONTENT_ALL));
  EXPECT_EQ(c->nslots(), westream_default_nslots(c->slot_stride()));
  EXPECT_EQ(c->nslots(), (4u << 20) / 28672u);  // 777 atoms × 3 arrays: 28 KiB slots in 4 MiB
  EXPECT_EQ(westream_nslots(p), c->nslots());
  EXPECT_EQ(westream_natoms(p), natoms);
  EXPECT_EQ(c->producer_pid(), getpid());

  int produced = -1;
  std::thread t([&] { produced = ProduceFrames(p, frames, natoms); });
  FrameChecker check{natoms, WESTREAM_CONTENT_ALL, c->nslots()};
  EXPECT_TRUE(DriveToEnd(c.get(), 20000, std::ref(check)));
  t.join();
  EXPECT_EQ(produced, WESTREAM_OK) << westream_last_error(p);
  EXPECT_EQ(westream_frames(p), frames);
  westream_close(p);

  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->error(), "");
  EXPECT_EQ(c->delivered(), frames);
  EXPECT_EQ(check.next, frames);
  EXPECT_EQ(check.bad, 0u) << check.first_problem;
  // Nothing more comes out of an ended stream.
  FrameView v;
  EXPECT_FALSE(c->NextFrame(&v));
}

TEST_F(ChannelTest, PositionsOnlyAndSendConvenience) {
  const uint32_t natoms = 5;
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  o.content = WESTREAM_VELOCITIES;  // positions are implied
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(c->content(), static_cast<uint32_t>(WESTREAM_POSITIONS | WESTREAM_VELOCITIES));

  const std::vector<float> pos = Pattern(natoms * 3, 99);
  const float box[6] = {10, 0, 11, 0, 0, 12};
  const int64_t step = 42;
  const double time = 1.5;
  ASSERT_EQ(westream_send(p, pos.data(), nullptr, nullptr, box, &step, &time), WESTREAM_OK);
  ASSERT_EQ(westream_send(p, pos.data(), pos.data(), nullptr, nullptr, nullptr, nullptr), WESTREAM_OK);
  ASSERT_EQ(westream_end(p), WESTREAM_OK);

  std::vector<FrameView> seen;
  std::vector<std::vector<float>> vel;
  EXPECT_TRUE(DriveToEnd(c.get(), 5000, [&](const FrameView& v) {
    seen.push_back(v);
    EXPECT_EQ(memcmp(v.arrays[0], pos.data(), pos.size() * 4), 0);
    ASSERT_NE(v.arrays[1], nullptr);
    EXPECT_EQ(v.arrays[2], nullptr);
    vel.emplace_back(v.arrays[1], v.arrays[1] + natoms * 3);
    if (v.index == 0) {
      EXPECT_EQ(v.flags, static_cast<uint32_t>(WESTREAM_HAS_BOX | WESTREAM_HAS_STEP | WESTREAM_HAS_TIME));
      EXPECT_EQ(v.step, 42);
      EXPECT_EQ(v.time, 1.5);
      EXPECT_EQ(memcmp(v.box, box, sizeof box), 0);
    } else {
      EXPECT_EQ(v.flags, 0u);
    }
  }));
  westream_close(p);
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(vel[0], std::vector<float>(natoms * 3, 0.0f));  // NULL velocities are sent as zeros
  EXPECT_EQ(memcmp(vel[1].data(), pos.data(), pos.size() * 4), 0);
}

TEST_F(ChannelTest, ZeroFrameStreamEnds) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 3;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(westream_end(p), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c.get(), 5000));
  westream_close(p);
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->delivered(), 0u);
}

// Many laps of a small ring; every slot reused many times, nothing lost.
class SlotReuseTest : public ChannelTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(SlotReuseTest, ManyLaps) {
  const uint32_t nslots = GetParam(), natoms = 100, frames = 400;
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  o.content = WESTREAM_POSITIONS | WESTREAM_FORCES;
  o.nslots = nslots;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(c->nslots(), nslots);
  ASSERT_EQ(westream_nslots(p), nslots);
  int produced = -1;
  std::thread t([&] { produced = ProduceFrames(p, frames, natoms); });
  FrameChecker check{natoms, o.content, nslots};
  std::vector<uint64_t> per_slot(nslots, 0);
  EXPECT_TRUE(DriveToEnd(c.get(), 20000, [&](const FrameView& v) {
    check(v);
    if (v.slot < nslots) per_slot[v.slot]++;
  }));
  t.join();
  westream_close(p);
  EXPECT_EQ(produced, WESTREAM_OK);
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->delivered(), frames);
  EXPECT_EQ(check.bad, 0u) << check.first_problem;
  for (uint32_t s = 0; s < nslots; s++) EXPECT_EQ(per_slot[s], (frames - s + nslots - 1) / nslots) << "slot " << s;
}

INSTANTIATE_TEST_SUITE_P(Slots, SlotReuseTest, ::testing::Values(1u, 2u, 3u, 4u));

// A slow consumer: the producer must block on the full ring (and sleep on
// the eventfd), and nothing may be lost or reordered.
TEST_F(ChannelTest, BackpressureBlocksProducerNothingLost) {
  const uint32_t natoms = 64, frames = 60, nslots = 2;
  ConsumerOptions co;
  co.nslots = nslots;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  o.nslots = 7;  // the consumer's choice wins
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(westream_nslots(p), nslots);

  int produced = -1;
  std::thread t([&] { produced = ProduceFrames(p, frames, natoms); });
  westream_ring_header* r = RingOf(c.get());
  FrameChecker check{natoms, WESTREAM_POSITIONS, nslots};
  int full = 0, producer_slept = 0, overrun = 0;
  EXPECT_TRUE(DriveToEnd(c.get(), 20000, [&](const FrameView& v) {
    check(v);
    // Give the producer time to fill the ring and go to sleep on it.
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const uint64_t published = WS_LOAD_ACQUIRE(&r->published);
    if (published > v.index + nslots) overrun++;  // would overwrite the frame we hold
    if (published == v.index + nslots) full++;
    if (WS_LOAD_ACQUIRE(&r->producer_waiting)) producer_slept++;
  }));
  t.join();
  westream_close(p);
  EXPECT_EQ(produced, WESTREAM_OK);
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->delivered(), frames);
  EXPECT_EQ(check.bad, 0u) << check.first_problem;
  EXPECT_EQ(overrun, 0);
  // All but the last nslots frames were read with the ring full.
  // Most frames were read with the ring full and the producer asleep on it
  // (it had 3 ms to get there each time).
  EXPECT_GT(full, static_cast<int>(frames) / 2);
  EXPECT_GT(producer_slept, static_cast<int>(frames) / 4) << "producer (almost) never slept on the full ring";
}

// ------------------------------------------------------------ nslots negotiation

TEST_F(ChannelTest, SlotNegotiation) {
  struct Case {
    uint32_t consumer_nslots;
    uint64_t budget;
    uint32_t hint;
    uint32_t want;
  } cases[] = {
      {0, 1ull << 30, 3, 3},     // producer's hint
      {5, 1ull << 30, 3, 5},     // consumer's choice wins
      {0, 1ull << 30, 0, WESTREAM_MAX_SLOTS},  // 4 KiB slots: 4 MiB would be 1024
      {0, 4096 * 20, 0, 20},                   // ... within the budget
      {0, 1, 16, 2},             // tiny budget: still two slots to overlap
      {0, 4096 * 3, 16, 3},      // budget / slot stride
  };
  for (const Case& k : cases) {
    ConsumerOptions co;
    co.nslots = k.consumer_nslots;
    co.ring_budget = k.budget;
    ConsumerPtr c = MakeConsumer(co);
    ASSERT_TRUE(c);
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = 10;  // one 4 KiB slot
    o.nslots = k.hint;
    westream_producer* p = ConnectProducer(c.get(), c->address(), o);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(c->nslots(), k.want) << "consumer " << k.consumer_nslots << " budget " << k.budget << " hint " << k.hint;
    EXPECT_EQ(westream_nslots(p), k.want);
    EXPECT_EQ(c->slot_stride(), 4096u);
    EXPECT_EQ(c->slots_bytes(), 4096u * k.want);
    westream_close(p);
  }
}

TEST_F(ChannelTest, ExpectedAtomCountMismatchIsRefused) {
  ConsumerOptions co;
  co.expect_natoms = 100;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 99;
  int status;
  std::string why;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o, &status, &why);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(status, WESTREAM_E_REFUSED);
  EXPECT_NE(why.find("99 atoms but 100 were expected"), std::string::npos) << why;
  EXPECT_EQ(c->state(), State::kFailed);
  EXPECT_NE(c->error().find("99 atoms but 100 were expected"), std::string::npos) << c->error();
}

// ------------------------------------------------------------ producer deaths

TEST_F(ChannelTest, ProducerDiesMidFrame) {
  const uint32_t natoms = 50, before = 5;
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const std::string address = c->address();
  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(go[1]);
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = natoms;
    o.nslots = 8;
    westream_producer* p = nullptr;
    if (westream_connect(&p, address.c_str(), &o) != WESTREAM_OK) _exit(10);
    if (ProduceFrames(p, before, natoms, false) != WESTREAM_OK) _exit(11);
    westream_frame f;
    if (westream_acquire(p, &f) != WESTREAM_OK) _exit(12);
    char byte;
    if (read(go[0], &byte, 1) != 1) _exit(13);
    FillPattern(f.positions, natoms * 3 / 2, 7);  // half a frame, never published
    _exit(0);
  }
  close(go[0]);
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->delivered() == before || Terminal(c->state()); }, 10000));
  EXPECT_EQ(c->state(), State::kStreaming) << c->error();
  const auto t0 = Clock::now();
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  EXPECT_TRUE(DriveToEnd(c.get(), 5000));
  const double took = SecondsSince(t0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "child status " << wstatus;
  EXPECT_EQ(c->state(), State::kFailed);
  EXPECT_NE(c->error().find("without ending the stream"), std::string::npos) << c->error();
  EXPECT_NE(c->error().find("pid " + std::to_string(pid)), std::string::npos) << c->error();
  EXPECT_NE(c->error().find("after frame 4 (5 frames)"), std::string::npos) << c->error();
  EXPECT_EQ(c->delivered(), before);
  EXPECT_LT(took, 1.0);
}

// Blocked on a full ring when the consumer goes away: acquire must notice.
TEST_F(ChannelTest, ConsumerClosesWhileProducerBlocked) {
  for (bool destroy : {false, true}) {
    SCOPED_TRACE(destroy ? "consumer destroyed" : "consumer closed");
    ConsumerOptions co;
    co.nslots = 2;
    ConsumerPtr c = MakeConsumer(co);
    ASSERT_TRUE(c);
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = 32;
    westream_producer* p = ConnectProducer(c.get(), c->address(), o);
    ASSERT_NE(p, nullptr);
    int status = 1;
    std::atomic<bool> returned{false};
    Clock::time_point returned_at;
    std::thread t([&] {
      status = ProduceFrames(p, 1000, 32);
      returned_at = Clock::now();
      returned = true;
    });
    // Wait (without consuming) until the ring is full and the producer sleeps on it.
    westream_ring_header* r = RingOf(c.get());
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!(WS_LOAD_ACQUIRE(&r->published) == 2 && WS_LOAD_ACQUIRE(&r->producer_waiting) == 1) &&
           Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(WS_LOAD_ACQUIRE(&r->published), 2u);
    EXPECT_EQ(WS_LOAD_ACQUIRE(&r->producer_waiting), 1u);
    EXPECT_FALSE(returned.load());
    const auto t0 = Clock::now();
    if (destroy) c.reset();
    else c->Close();
    t.join();
    EXPECT_LT(std::chrono::duration<double>(returned_at - t0).count(), 1.0);
    EXPECT_EQ(status, WESTREAM_E_CONSUMER_GONE) << westream_status_name(status);
    EXPECT_NE(std::string(westream_last_error(p)).find("consumer closed the channel"), std::string::npos)
        << westream_last_error(p);
    // Stays failed; end reports the same.
    westream_frame f;
    EXPECT_EQ(westream_acquire(p, &f), WESTREAM_E_CONSUMER_GONE);
    EXPECT_EQ(westream_end(p), WESTREAM_E_CONSUMER_GONE);
    westream_close(p);
    if (c) {
      EXPECT_EQ(c->state(), State::kClosed);
    }
  }
}

// The consumer's process dies (no ERROR message, just a hang-up).
TEST_F(ChannelTest, ConsumerProcessDiesWhileProducerBlocked) {
  const std::string address = "@wstest-dying-consumer-" + std::to_string(getpid());
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    ConsumerOptions co;
    co.address = address;
    co.nslots = 2;
    std::string error;
    Consumer* c = Consumer::Listen(co, &error);
    if (!c) _exit(20);
    if (write(ready[1], "r", 1) != 1) _exit(21);
    for (;;) {  // accepts and sets up, never reads a frame
      c->Pump();
      c->Wait(100);
    }
  }
  close(ready[1]);
  char byte;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 8;
  westream_producer* p = nullptr;
  ASSERT_EQ(westream_connect(&p, address.c_str(), &o), WESTREAM_OK) << westream_last_error(nullptr);
  ASSERT_EQ(westream_nslots(p), 2u);
  std::atomic<uint64_t> published{0};
  int status = 1;
  Clock::time_point returned_at;
  std::thread t([&] {
    for (;;) {
      westream_frame f;
      status = westream_acquire(p, &f);
      if (status != WESTREAM_OK) break;
      status = westream_publish(p, &f);
      if (status != WESTREAM_OK) break;
      published++;
    }
    returned_at = Clock::now();
  });
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (published.load() < 2 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(published.load(), 2u);
  const auto t0 = Clock::now();
  kill(pid, SIGKILL);
  t.join();
  int wstatus;
  waitpid(pid, &wstatus, 0);
  EXPECT_LT(std::chrono::duration<double>(returned_at - t0).count(), 1.0);
  EXPECT_EQ(status, WESTREAM_E_CONSUMER_GONE) << westream_last_error(p);
  EXPECT_NE(std::string(westream_last_error(p)).find("after 2 frames"), std::string::npos) << westream_last_error(p);
  westream_close(p);
}

TEST_F(ChannelTest, ConsumerGoneBeforeProducerConnects) {
  for (bool abstract : {false, true}) {
    SCOPED_TRACE(abstract ? "abstract" : "path");
    ConsumerOptions co;
    co.abstract = abstract;
    ConsumerPtr c = MakeConsumer(co);
    ASSERT_TRUE(c);
    const std::string address = c->address();
    c.reset();
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = 10;
    westream_producer* p = reinterpret_cast<westream_producer*>(&o);  // must be overwritten with NULL
    const auto t0 = Clock::now();
    EXPECT_EQ(westream_connect(&p, address.c_str(), &o), WESTREAM_E_CONNECT);
    EXPECT_LT(SecondsSince(t0), 1.0);
    EXPECT_EQ(p, nullptr);
    const std::string why = westream_last_error(nullptr);
    EXPECT_NE(why.find("cannot connect"), std::string::npos) << why;
    EXPECT_NE(why.find(address), std::string::npos) << why;
  }
}

// Connected (in the backlog) but never set up: the consumer goes away.
TEST_F(ChannelTest, ConsumerGoneDuringHandshake) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 10;
  westream_producer* p = nullptr;
  int status = 1;
  std::string why;
  Clock::time_point returned_at;
  const std::string address = c->address();  // outlives the consumer
  std::thread t([&] {
    status = westream_connect(&p, address.c_str(), &o);
    why = westream_last_error(nullptr);
    returned_at = Clock::now();
  });
  // The pending connection makes the listening socket (and so wait_fd) readable.
  struct pollfd pfd = {c->wait_fd(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1);
  const auto t0 = Clock::now();
  c.reset();
  t.join();
  EXPECT_EQ(status, WESTREAM_E_CONNECT) << why;
  EXPECT_EQ(p, nullptr);
  // Depending on whether the hello was already queued when the consumer went away.
  EXPECT_TRUE(why.find("closed the connection during set-up") != std::string::npos ||
              why.find("sending hello") != std::string::npos)
      << why;
  EXPECT_LT(std::chrono::duration<double>(returned_at - t0).count(), 1.0);
}

TEST_F(ChannelTest, SecondProducerIsRefused) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  // A first peer connects but has not said hello yet.
  int first = RawConnect(c->address());
  ASSERT_GE(first, 0);
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kHandshake; }, 2000));
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 10;
  int status;
  std::string why;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o, &status, &why);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(status, WESTREAM_E_REFUSED);
  EXPECT_NE(why.find("already has a producer"), std::string::npos) << why;
  const std::string warnings = c->TakeWarnings();
  EXPECT_NE(warnings.find("refused a second producer"), std::string::npos) << warnings;
  EXPECT_EQ(c->TakeWarnings(), "");
  EXPECT_EQ(c->state(), State::kHandshake);  // the first peer is unaffected

  // The first peer completes its hello; afterwards nobody else can connect.
  const westream_msg_hello hello = Hello(10);
  ASSERT_TRUE(SendMsg(first, &hello, sizeof hello));
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kStreaming; }, 2000)) << c->error();
  EXPECT_EQ(westream_connect(&p, c->address().c_str(), &o), WESTREAM_E_CONNECT);
  std::vector<int> fds;
  westream_msg_setup setup;
  EXPECT_EQ(RecvMsg(first, &setup, sizeof setup, &fds, 2000), static_cast<ssize_t>(sizeof setup));
  EXPECT_EQ(fds.size(), 3u);
  for (int fd : fds) close(fd);
  close(first);
}

// Blocks until thread `tid` of this process sits in poll/ppoll (or the deadline passes).
bool WaitUntilInPoll(pid_t tid, int timeout_ms) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/syscall";
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    std::ifstream in(path);
    long nr = -1;
    if (in >> nr) {
#ifdef SYS_poll
      if (nr == SYS_poll) return true;
#endif
      if (nr == SYS_ppoll) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Regression: the refusal must reach a producer whose hello the consumer
// never read. Closing a Unix socket with unread data resets the peer
// (ECONNRESET), and the kernel reports that before the queued ERROR message.
TEST_F(ChannelTest, RefusalReachesProducerWithUnreadHello) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  int first = RawConnect(c->address());
  ASSERT_GE(first, 0);
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kHandshake; }, 2000));
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 10;
  std::atomic<pid_t> tid{0};
  int status = 1;
  std::string why;
  westream_producer* p = nullptr;
  const std::string address = c->address();
  std::thread t([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    status = westream_connect(&p, address.c_str(), &o);
    why = westream_last_error(nullptr);
  });
  while (tid.load() == 0) std::this_thread::yield();
  // The producer has connected and sent its hello once it waits for the answer.
  EXPECT_TRUE(WaitUntilInPoll(tid.load(), 5000));
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return !c->TakeWarnings().empty(); }, 2000));
  t.join();
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(status, WESTREAM_E_REFUSED) << why;
  EXPECT_NE(why.find("already has a producer"), std::string::npos) << why;
  close(first);
}

// With room in the ring the producer makes no system call per frame, but it
// still looks for a dead consumer every 50 ms.
TEST_F(ChannelTest, ConsumerGoneNoticedWhileRingHasRoom) {
  ConsumerOptions co;
  co.nslots = 256;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 4;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  const float pos[12] = {};
  ASSERT_EQ(westream_send(p, pos, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_OK);
  c->Close();
  const auto t0 = Clock::now();
  int status = WESTREAM_OK, after = 0;
  while (after < 200 && status == WESTREAM_OK) {
    status = westream_send(p, pos, nullptr, nullptr, nullptr, nullptr, nullptr);
    if (status == WESTREAM_OK) after++;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a slow MD step
  }
  EXPECT_EQ(status, WESTREAM_E_CONSUMER_GONE) << westream_last_error(p);
  EXPECT_LT(after, 200) << "the ring had room for 255 more";
  EXPECT_LT(SecondsSince(t0), 0.5);
  westream_close(p);
}

void NoopHandler(int) {}

// A signal while blocked on a full ring: WESTREAM_E_INTERRUPTED, and calling
// again keeps waiting without losing anything.
TEST_F(ChannelTest, SignalWhileBlockedIsInterrupted) {
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = NoopHandler;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);

  ConsumerOptions co;
  co.nslots = 2;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 10;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  std::atomic<pid_t> tid{0};
  std::atomic<int> interrupted{0};
  std::vector<int> statuses;
  int final_status = 1;
  std::thread t([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    for (uint64_t k = 0; k < 3; k++) {
      westream_frame f;
      int s;
      while ((s = westream_acquire(p, &f)) == WESTREAM_E_INTERRUPTED) interrupted++;
      statuses.push_back(s);
      if (s != WESTREAM_OK) break;
      for (int i = 0; i < 30; i++) f.positions[i] = static_cast<float>(k);
      f.step = static_cast<int64_t>(k);
      f.flags = WESTREAM_HAS_STEP;
      if (westream_publish(p, &f) != WESTREAM_OK) break;
    }
    final_status = westream_end(p);
  });
  while (tid.load() == 0) std::this_thread::yield();
  westream_ring_header* r = RingOf(c.get());
  EXPECT_TRUE(WaitUntilInPoll(tid.load(), 5000));
  EXPECT_EQ(WS_LOAD_ACQUIRE(&r->published), 2u);
  ASSERT_EQ(pthread_kill(t.native_handle(), SIGUSR1), 0);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (interrupted.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(interrupted.load(), 1);
  // Called again, it waits again (and says so to the consumer).
  EXPECT_TRUE(WaitUntilInPoll(tid.load(), 5000));
  EXPECT_EQ(WS_LOAD_ACQUIRE(&r->published), 2u);
  std::vector<int64_t> steps;
  EXPECT_TRUE(DriveToEnd(c.get(), 5000, [&](const FrameView& v) { steps.push_back(v.step); }));
  t.join();
  westream_close(p);
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(final_status, WESTREAM_OK);
  EXPECT_EQ(statuses, std::vector<int>({WESTREAM_OK, WESTREAM_OK, WESTREAM_OK}));
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(steps, std::vector<int64_t>({0, 1, 2}));
  EXPECT_STREQ(westream_status_name(WESTREAM_E_INTERRUPTED), "WESTREAM_E_INTERRUPTED");
}

// ------------------------------------------------------------ the synthetic tool

std::string SyntheticPath() {
  const char* env = getenv("WESTREAM_SYNTHETIC");
  if (env && *env) return env;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  const std::string guess = DirName(self) + "/westream-synthetic";
  return access(guess.c_str(), X_OK) == 0 ? guess : "";
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

uint32_t Fnv1a(uint32_t h, const float* data, size_t nwords) {
  for (size_t i = 0; i < nwords; i++) {
    uint32_t w;
    memcpy(&w, &data[i], sizeof w);
    h ^= w;
    h *= 16777619u;
  }
  return h;
}

TEST_F(ChannelTest, SyntheticProducerChecksums) {
  const std::string tool = SyntheticPath();
  if (tool.empty()) GTEST_SKIP() << "WESTREAM_SYNTHETIC not set";
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  char sums_path[] = "/tmp/wstest-sums-XXXXXX";
  const int sums_fd = mkstemp(sums_path);
  ASSERT_GE(sums_fd, 0);
  close(sums_fd);
  const uint32_t natoms = 500, frames = 40;
  const pid_t pid = Spawn({tool, "--atoms", std::to_string(natoms), "--frames", std::to_string(frames), "--address",
                           c->address(), "--velocities", "--forces", "--nslots", "3", "--seed", "11",
                           "--checksums", sums_path});
  ASSERT_GT(pid, 0);
  std::vector<uint32_t> got;
  int bad_meta = 0;
  EXPECT_TRUE(DriveToEnd(c.get(), 20000, [&](const FrameView& v) {
    uint32_t h = 2166136261u;
    for (int a = 0; a < 3; a++) h = Fnv1a(h, v.arrays[a], natoms * 3);
    h = Fnv1a(h, v.box, 6);
    got.push_back(h);
    const uint64_t k = v.index;
    if (v.step != static_cast<int64_t>(k) * 10 || v.time != static_cast<double>(k) * 0.02 ||
        v.box[5] != 30.0f + static_cast<float>(k) || v.flags != static_cast<uint32_t>(WESTREAM_FRAME_FLAGS_ALL))
      bad_meta++;
  }));
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->nslots(), 3u);
  EXPECT_EQ(bad_meta, 0);
  std::ifstream in(sums_path);
  std::vector<uint32_t> want;
  long long k;
  uint32_t h;
  while (in >> k >> h) {
    EXPECT_EQ(k, static_cast<long long>(want.size()));
    want.push_back(h);
  }
  unlink(sums_path);
  EXPECT_EQ(want.size(), frames);
  EXPECT_EQ(got, want);
}

TEST_F(ChannelTest, SyntheticProducerKilledMidFrame) {
  const std::string tool = SyntheticPath();
  if (tool.empty()) GTEST_SKIP() << "WESTREAM_SYNTHETIC not set";
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const pid_t pid = Spawn({tool, "--atoms", "1000", "--frames", "50", "--address", c->address(), "--crash-after", "7"});
  ASSERT_GT(pid, 0);
  bool reaped = false;
  int wstatus = 0;
  Clock::time_point died, failed;
  bool saw_terminal = false;
  EXPECT_TRUE(DriveUntil(
      c.get(),
      [&] {
        if (!saw_terminal && Terminal(c->state())) {
          saw_terminal = true;
          failed = Clock::now();
        }
        if (!reaped && waitpid(pid, &wstatus, WNOHANG) == pid) {
          reaped = true;
          died = Clock::now();
        }
        return reaped && saw_terminal;
      },
      20000));
  if (!reaped) {
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
  }
  ASSERT_TRUE(reaped);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
  EXPECT_EQ(c->state(), State::kFailed);
  EXPECT_NE(c->error().find("without ending the stream"), std::string::npos) << c->error();
  EXPECT_EQ(c->delivered(), 7u);
  EXPECT_LT(std::chrono::duration<double>(failed - died).count(), 1.0);
}

class SyntheticCorruptTest : public ChannelTest,
                             public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(SyntheticCorruptTest, ReportsCorruptionNotExit) {
  const std::string tool = SyntheticPath();
  if (tool.empty()) GTEST_SKIP() << "WESTREAM_SYNTHETIC not set";
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const pid_t pid = Spawn({tool, "--atoms", "20", "--frames", "6", "--nslots", "4", "--address", c->address(),
                           "--corrupt", GetParam().first});
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(DriveToEnd(c.get(), 10000));
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 3) << wstatus;
  EXPECT_EQ(c->state(), State::kFailed);
  EXPECT_NE(c->error().find("ring corrupt"), std::string::npos) << c->error();
  EXPECT_NE(c->error().find(GetParam().second), std::string::npos) << c->error();
  // Frames 0..3 are good; a forged `published` may be seen before they are all read.
  if (std::string(GetParam().first) == "published") {
    EXPECT_LE(c->delivered(), 4u);
  } else {
    EXPECT_EQ(c->delivered(), 4u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, SyntheticCorruptTest,
    ::testing::Values(std::make_pair("published", "claims 1099511627776 frames published"),
                      std::make_pair("seq", "holds frame 999999, expected frame 4"),
                      std::make_pair("natoms", "says 4294967295 atoms"),
                      std::make_pair("flags", "unknown flags 65280")),
    [](const ::testing::TestParamInfo<std::pair<const char*, const char*>>& info) {
      return std::string(info.param.first);
    });

// ------------------------------------------------------------ addresses, files

TEST_F(ChannelTest, PrivateDirectoryAndSocketFileRemoved) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const std::string address = c->address();
  const std::string dir = DirName(address);
  ASSERT_NE(address[0], '@');
  EXPECT_NE(address.find("/westream-"), std::string::npos) << address;
  struct stat st;
  ASSERT_EQ(stat(address.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 4;
  westream_producer* p = ConnectProducer(c.get(), address, o);
  ASSERT_NE(p, nullptr);
  // One producer per channel: the socket file goes as soon as it is set up.
  EXPECT_FALSE(PathExists(address));
  EXPECT_TRUE(PathExists(dir));
  ASSERT_EQ(ProduceFrames(p, 3, 4), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c.get(), 5000));
  EXPECT_EQ(c->state(), State::kEnded);
  westream_close(p);
  c->Close();
  EXPECT_EQ(c->state(), State::kClosed);
  EXPECT_FALSE(PathExists(dir));
  c->Close();  // idempotent
  c.reset();

  // Never connected: both go on Close() too.
  c = MakeConsumer();
  ASSERT_TRUE(c);
  const std::string a2 = c->address();
  EXPECT_TRUE(PathExists(a2));
  c.reset();
  EXPECT_FALSE(PathExists(a2));
  EXPECT_FALSE(PathExists(DirName(a2)));
}

TEST_F(ChannelTest, ExplicitPathAddress) {
  char dir_tmpl[] = "/tmp/wstest-dir-XXXXXX";
  ASSERT_NE(mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl;
  const std::string address = dir + "/my.sock";
  ConsumerOptions co;
  co.address = address;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->address(), address);
  EXPECT_TRUE(PathExists(address));
  // The address is taken while this consumer lives.
  std::string error;
  Consumer* second = Consumer::Listen(co, &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find("another westream is using this address"), std::string::npos) << error;
  delete second;
  c.reset();
  EXPECT_FALSE(PathExists(address));
  EXPECT_TRUE(PathExists(dir));  // not ours to remove
  EXPECT_EQ(rmdir(dir.c_str()), 0);
}

TEST_F(ChannelTest, AbstractAddress) {
  for (int variant = 0; variant < 2; variant++) {
    ConsumerOptions co;
    if (variant == 0) co.abstract = true;
    else co.address = "@wstest-abstract-" + std::to_string(getpid());
    ConsumerPtr c = MakeConsumer(co);
    ASSERT_TRUE(c);
    ASSERT_EQ(c->address()[0], '@') << c->address();
    if (variant == 1) {
      EXPECT_EQ(c->address(), co.address);
      std::string error;
      Consumer* dup = Consumer::Listen(co, &error);
      EXPECT_EQ(dup, nullptr);
      EXPECT_NE(error.find("another westream is using this address"), std::string::npos) << error;
      delete dup;
    }
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = 16;
    o.content = WESTREAM_CONTENT_ALL;
    westream_producer* p = ConnectProducer(c.get(), c->address(), o);
    ASSERT_NE(p, nullptr);
    int produced = -1;
    std::thread t([&] { produced = ProduceFrames(p, 50, 16); });
    FrameChecker check{16, WESTREAM_CONTENT_ALL, c->nslots()};
    EXPECT_TRUE(DriveToEnd(c.get(), 10000, std::ref(check)));
    t.join();
    westream_close(p);
    EXPECT_EQ(produced, WESTREAM_OK);
    EXPECT_EQ(c->state(), State::kEnded) << c->error();
    EXPECT_EQ(check.next, 50u);
    EXPECT_EQ(check.bad, 0u) << check.first_problem;
  }
}

TEST_F(ChannelTest, ListenRejectsBadAddresses) {
  for (const std::string& address : {std::string("/tmp/") + std::string(200, 'x'), std::string("@"),
                                     std::string("/nonexistent-dir-wstest/x.sock")}) {
    ConsumerOptions co;
    co.address = address;
    std::string error;
    Consumer* c = Consumer::Listen(co, &error);
    EXPECT_EQ(c, nullptr) << address;
    EXPECT_FALSE(error.empty()) << address;
    delete c;
  }
}

TEST_F(ChannelTest, DetachRingKeepsViewsReadable) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 1000;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(ProduceFrames(p, 2, 1000), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c.get(), 5000));
  const float* pos = reinterpret_cast<const float*>(c->slots_base() + c->layout().array_offset[0]);
  void* ptr = nullptr;
  size_t bytes = 0;
  c->DetachRing(&ptr, &bytes);
  EXPECT_NE(ptr, nullptr);
  EXPECT_EQ(bytes, WESTREAM_RING_HEADER_BYTES + c->slots_bytes());
  EXPECT_EQ(c->slots_base(), nullptr);
  EXPECT_EQ(pos[0], 0.0f);  // still mapped, now private zeros
  EXPECT_EQ(pos[2999], 0.0f);
  c.reset();
  munmap(ptr, bytes);
  westream_close(p);
}

// ------------------------------------------------------------ many channels

TEST_F(ChannelTest, SixtyFourChannelsAtOnce) {
  const int kChannels = 64;
  const uint32_t natoms = 128, frames = 300;
  std::vector<ConsumerPtr> consumers;
  for (int i = 0; i < kChannels; i++) {
    ConsumerOptions co;
    co.abstract = (i % 2) == 1;  // mix both address kinds
    co.nslots = 2 + static_cast<uint32_t>(i % 3);
    consumers.push_back(MakeConsumer(co));
    ASSERT_TRUE(consumers.back());
  }
  const int master = epoll_create1(EPOLL_CLOEXEC);
  ASSERT_GE(master, 0);
  for (int i = 0; i < kChannels; i++) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ASSERT_EQ(epoll_ctl(master, EPOLL_CTL_ADD, consumers[i]->wait_fd(), &ev), 0);
  }

  std::vector<int> results(kChannels, 1);
  std::vector<std::thread> producers;
  for (int i = 0; i < kChannels; i++) {
    const std::string address = consumers[i]->address();
    producers.emplace_back([&results, i, address, natoms, frames] {
      westream_options o = WESTREAM_OPTIONS_INIT;
      o.natoms = natoms;
      westream_producer* p = nullptr;
      int s = westream_connect(&p, address.c_str(), &o);
      for (uint64_t k = 0; s == WESTREAM_OK && k < frames; k++) {
        westream_frame f;
        s = westream_acquire(p, &f);
        if (s != WESTREAM_OK) break;
        for (uint32_t a = 0; a < natoms * 3; a++) f.positions[a] = static_cast<float>(i * 100000 + a);
        f.positions[0] = static_cast<float>(k);
        f.step = i;  // the tag
        f.flags = WESTREAM_HAS_STEP;
        s = westream_publish(p, &f);
      }
      if (s == WESTREAM_OK) s = westream_end(p);
      westream_close(p);
      results[i] = s;
    });
  }

  std::vector<uint64_t> next(kChannels, 0);
  std::vector<int> wrong(kChannels, 0);
  const auto deadline = Clock::now() + std::chrono::seconds(45);
  for (;;) {
    bool all_done = true, may_sleep = true;
    for (int i = 0; i < kChannels; i++) {
      Consumer* c = consumers[i].get();
      if (Terminal(c->state())) continue;
      all_done = false;
      c->Pump();
      FrameView v;
      while (c->NextFrame(&v)) {
        bool ok = v.step == i && v.index == next[i] && v.arrays[0][0] == static_cast<float>(v.index);
        for (uint32_t a = 1; ok && a < natoms * 3; a++) ok = v.arrays[0][a] == static_cast<float>(i * 100000 + a);
        if (!ok) wrong[i]++;
        next[i]++;
        c->Release();
      }
      c->Settle();
      if (!Terminal(c->state()) && !c->PrepareSleep()) may_sleep = false;
    }
    if (all_done || Clock::now() > deadline) break;
    if (may_sleep) {
      struct epoll_event evs[64];
      epoll_wait(master, evs, 64, 50);
    }
  }
  for (std::thread& t : producers) t.join();
  close(master);
  for (int i = 0; i < kChannels; i++) {
    EXPECT_EQ(results[i], WESTREAM_OK) << "channel " << i;
    EXPECT_EQ(consumers[i]->state(), State::kEnded) << "channel " << i << ": " << consumers[i]->error();
    EXPECT_EQ(consumers[i]->delivered(), frames) << "channel " << i;
    EXPECT_EQ(next[i], frames) << "channel " << i;
    EXPECT_EQ(wrong[i], 0) << "channel " << i << " got foreign or disordered frames";
  }
}

}  // namespace
}  // namespace wstest
