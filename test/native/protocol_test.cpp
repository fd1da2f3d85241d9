// Hostile and broken peers: garbage on the control socket, forged shared
// memory, and fake consumers that answer the C producer wrongly. Every case
// must end in a clear error, never a crash or an out-of-bounds access.
#include <cmath>
#include <random>

#include "harness.h"

namespace wstest {
namespace {

// Reads the ERROR message the consumer sends a peer it gives up on.
std::string ErrorSentTo(int sock) {
  westream_msg_error e;
  memset(&e, 0, sizeof e);
  const ssize_t n = RecvMsg(sock, &e, sizeof e, nullptr, 1000);
  if (n != static_cast<ssize_t>(sizeof e) || e.h.magic != WESTREAM_MSG_MAGIC || e.h.type != WESTREAM_MSG_ERROR)
    return "<no error message, got " + std::to_string(n) + " bytes>";
  e.text[sizeof e.text - 1] = '\0';
  return e.text;
}

void ExpectFailed(Consumer* c, std::initializer_list<const char*> words) {
  EXPECT_EQ(c->state(), State::kFailed) << StateName(c->state());
  for (const char* w : words) EXPECT_NE(c->error().find(w), std::string::npos) << "missing \"" << w << "\" in: " << c->error();
  FrameView v;
  EXPECT_FALSE(c->NextFrame(&v));
}

// ------------------------------------------------------------ garbage on the socket

struct GarbageCase {
  const char* name;
  std::function<std::string()> message;  // what the raw client sends first
  std::vector<const char*> words;        // expected in the consumer's error
};

void PrintTo(const GarbageCase& c, std::ostream* os) { *os << c.name; }

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& ch : s) ch = static_cast<char>(rng());
  return s;
}

std::string HelloWith(std::function<void(westream_msg_hello*)> edit) {
  westream_msg_hello h = Hello(10);
  edit(&h);
  return Bytes(&h, sizeof h);
}

std::vector<GarbageCase> GarbageCases() {
  return {
      {"RandomBytes", [] { return RandomBytes(100, 1); }, {"garbage on channel", "24-byte westream hello", "got 100 bytes"}},
      {"RandomHelloSized", [] { return RandomBytes(sizeof(westream_msg_hello), 2); }, {"garbage on channel", "got 24 bytes"}},
      {"HugeMessage", [] { return RandomBytes(5000, 4); }, {"garbage on channel"}},
      {"ShortHello", [] { return RandomBytes(3, 3); }, {"garbage on channel", "got 3 bytes"}},
      {"OneByteTooLong", [] { return HelloWith([](westream_msg_hello*) {}) + "x"; }, {"garbage", "got 25 bytes"}},
      {"WrongMagic", [] { return HelloWith([](westream_msg_hello* h) { h->h.magic = 0x12345678; }); },
       {"garbage on channel", "westream producer?"}},
      {"WrongType", [] { return HelloWith([](westream_msg_hello* h) { h->h.type = WESTREAM_MSG_END; }); },
       {"garbage on channel"}},
      {"WrongVersion", [] { return HelloWith([](westream_msg_hello* h) { h->h.version = 2; }); },
       {"protocol 2", "speaks 1", "matching westream versions"}},
      {"ZeroAtoms", [] { return HelloWith([](westream_msg_hello* h) { h->natoms = 0; }); },
       {"asked for 0 atoms", "allowed is 1..67108864"}},
      {"TooManyAtoms", [] { return HelloWith([](westream_msg_hello* h) { h->natoms = WESTREAM_MAX_ATOMS + 1; }); },
       {"asked for 67108865 atoms"}},
      {"MaxAtomsUint", [] { return HelloWith([](westream_msg_hello* h) { h->natoms = 0xffffffffu; }); },
       {"asked for 4294967295 atoms"}},
      {"UnknownContentBits", [] { return HelloWith([](westream_msg_hello* h) { h->content = WESTREAM_POSITIONS | 8u; }); },
       {"content bits 9"}},
      {"NoPositions", [] { return HelloWith([](westream_msg_hello* h) { h->content = WESTREAM_VELOCITIES; }); },
       {"does not include positions"}},
      {"TooManySlots", [] { return HelloWith([](westream_msg_hello* h) { h->nslots = WESTREAM_MAX_SLOTS + 1; }); },
       {"asked for 1025 slots", "limit is 1024"}},
      {"HugeSlots", [] { return HelloWith([](westream_msg_hello* h) { h->nslots = 0xffffffffu; }); },
       {"asked for 4294967295 slots"}},
  };
}

class GarbageHelloTest : public ChannelTest, public ::testing::WithParamInterface<GarbageCase> {};

TEST_P(GarbageHelloTest, FailsCleanly) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const int sock = RawConnect(c->address());
  ASSERT_GE(sock, 0) << strerror(errno);
  const std::string m = GetParam().message();
  ASSERT_TRUE(SendMsg(sock, m.data(), m.size()));
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  ExpectFailed(c.get(), {});
  for (const char* w : GetParam().words)
    EXPECT_NE(c->error().find(w), std::string::npos) << "missing \"" << w << "\" in: " << c->error();
  // The peer is told why.
  EXPECT_EQ(ErrorSentTo(sock), c->error().substr(0, WESTREAM_ERROR_TEXT - 1));
  close(sock);
  c->Close();
  EXPECT_EQ(c->state(), State::kClosed);
}

INSTANTIATE_TEST_SUITE_P(Hello, GarbageHelloTest, ::testing::ValuesIn(GarbageCases()),
                         [](const ::testing::TestParamInfo<GarbageCase>& info) { return info.param.name; });

TEST_F(ChannelTest, HangUpBeforeHello) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const int sock = RawConnect(c->address());
  ASSERT_GE(sock, 0);
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kHandshake; }, 2000));
  close(sock);
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  ExpectFailed(c.get(), {"hung up before saying hello"});
}

// SEQPACKET allows empty messages; recv() cannot tell one from a hang-up.
// Whatever the consumer makes of it, it must fail cleanly.
TEST_F(ChannelTest, ZeroLengthMessages) {
  for (bool streaming : {false, true}) {
    SCOPED_TRACE(streaming ? "after setup" : "instead of hello");
    ConsumerPtr c = MakeConsumer();
    ASSERT_TRUE(c);
    RawProducer raw;
    ASSERT_TRUE(raw.Connect(c->address()));
    if (streaming) {
      ASSERT_TRUE(raw.Send(Hello(4)));
      EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kStreaming; }, 2000));
      ASSERT_TRUE(raw.ReceiveSetup());
    }
    ASSERT_TRUE(raw.Send("", 0));
    EXPECT_TRUE(DriveToEnd(c.get(), 2000));
    EXPECT_EQ(c->state(), State::kFailed);
    EXPECT_FALSE(c->error().empty());
  }
}

TEST_F(ChannelTest, StreamSocketIsRefusedByKernel) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    errno = 0;
    const int fd = RawConnect(c->address(), type);
    EXPECT_EQ(fd, -1);
    EXPECT_EQ(errno, EPROTOTYPE) << strerror(errno);
    if (fd >= 0) close(fd);
  }
  // The consumer did not notice and still serves a real producer.
  Turn(c.get(), nullptr, 10);
  EXPECT_EQ(c->state(), State::kListening);
  EXPECT_EQ(c->TakeWarnings(), "");
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 3;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  const float pos[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_EQ(westream_send(p, pos, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_OK);
  ASSERT_EQ(westream_end(p), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  westream_close(p);
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  EXPECT_EQ(c->delivered(), 1u);
}

// A raw producer that has completed the handshake and mapped the ring.
class RawStreamTest : public ChannelTest {
 protected:
  void Start(uint32_t natoms = 16, uint32_t nslots = 4) {
    ConsumerOptions co;
    co.nslots = nslots;
    c_ = MakeConsumer(co);
    ASSERT_TRUE(c_);
    ASSERT_TRUE(raw_.Connect(c_->address())) << strerror(errno);
    ASSERT_TRUE(raw_.Send(Hello(natoms)));
    ASSERT_TRUE(DriveUntil(c_.get(), [&] { return c_->state() != State::kListening && c_->state() != State::kHandshake; },
                           2000));
    ASSERT_EQ(c_->state(), State::kStreaming) << c_->error();
    ASSERT_TRUE(raw_.ReceiveSetup());
    ASSERT_EQ(raw_.setup.nslots, nslots);
    ASSERT_EQ(raw_.ring()->magic, WESTREAM_RING_MAGIC);
  }
  // Writes and publishes frames [from, to) correctly.
  void PublishGood(uint64_t from, uint64_t to) {
    for (uint64_t k = from; k < to; k++) raw_.WriteFrame(k);
    raw_.Publish(to);
  }
  void DrainTo(uint64_t delivered) {
    EXPECT_TRUE(DriveUntil(c_.get(), [&] { return c_->delivered() >= delivered || Terminal(c_->state()); }, 2000));
    EXPECT_EQ(c_->delivered(), delivered);
    EXPECT_EQ(c_->state(), State::kStreaming) << c_->error();
  }
  void TearDown() override {
    c_.reset();
    raw_.Close();
    ChannelTest::TearDown();
  }
  ConsumerPtr c_;
  RawProducer raw_;
};

TEST_F(RawStreamTest, RawProducerRoundTrip) {
  Start(16, 2);
  uint64_t checked = 0, bad = 0;
  auto check = [&](const FrameView& v) {
    const std::vector<float> want = Pattern(16 * 3, v.index);
    if (v.step != static_cast<int64_t>(v.index) * 10 || memcmp(v.arrays[0], want.data(), want.size() * 4)) bad++;
    checked++;
  };
  for (uint64_t k = 0; k < 10; k++) {
    PublishGood(k, k + 1);
    EXPECT_TRUE(DriveUntil(c_.get(), [&] { return c_->delivered() == k + 1; }, 2000, check));
    // released follows delivery, and the raw producer can see it.
    EXPECT_EQ(WS_LOAD_ACQUIRE(&raw_.ring()->released), k + 1);
  }
  ASSERT_TRUE(raw_.Send(End(10)));
  close(raw_.sock);
  raw_.sock = -1;
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000, check));
  EXPECT_EQ(c_->state(), State::kEnded) << c_->error();
  EXPECT_EQ(checked, 10u);
  EXPECT_EQ(bad, 0u);
}

TEST_F(ChannelTest, HelloCarryingFdsLeaksNothing) {
  // fds attached to messages the consumer reads with plain recv() must be
  // dropped by the kernel, not installed in the consumer (TearDown checks).
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  const int sock = RawConnect(c->address());
  ASSERT_GE(sock, 0);
  int efds[3] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
  const westream_msg_hello h = Hello(10);
  ASSERT_TRUE(SendMsg(sock, &h, sizeof h, efds, 3));
  for (int fd : efds) close(fd);
  EXPECT_TRUE(DriveUntil(c.get(), [&] { return c->state() == State::kStreaming; }, 2000)) << c->error();
  const westream_msg_end e = End(0);
  int more[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
  ASSERT_TRUE(SendMsg(sock, &e, sizeof e, more, 2));
  for (int fd : more) close(fd);
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  std::vector<int> fds;
  westream_msg_setup s;
  EXPECT_EQ(RecvMsg(sock, &s, sizeof s, &fds, 1000), static_cast<ssize_t>(sizeof s));
  for (int fd : fds) close(fd);
  close(sock);
}

TEST_F(RawStreamTest, GarbageInsteadOfEnd) {
  Start();
  PublishGood(0, 2);
  DrainTo(2);
  const std::string junk = RandomBytes(50, 9);
  ASSERT_TRUE(raw_.Send(junk.data(), junk.size()));
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"garbage on channel", "50-byte message", "not a westream end message"});
  EXPECT_EQ(ErrorSentTo(raw_.sock), c_->error().substr(0, WESTREAM_ERROR_TEXT - 1));
}

TEST_F(RawStreamTest, EndWithWrongVersionIsGarbage) {
  Start();
  westream_msg_end e = End(0);
  e.h.version = 7;
  ASSERT_TRUE(raw_.Send(e));
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"garbage on channel", "16-byte message"});
}

TEST_F(RawStreamTest, SecondEnd) {
  Start();
  PublishGood(0, 3);
  ASSERT_TRUE(raw_.Send(End(3)));
  ASSERT_TRUE(raw_.Send(End(3)));
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"second end message"});
}

TEST_F(RawStreamTest, EndClaimsMoreFramesThanPublished) {
  Start();
  PublishGood(0, 2);
  ASSERT_TRUE(raw_.Send(End(5)));
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"claiming 5 frames, but published 2"});
  EXPECT_EQ(c_->delivered(), 2u);
}

TEST_F(RawStreamTest, EndClaimsFewerFramesThanDelivered) {
  Start();
  PublishGood(0, 2);
  DrainTo(2);
  ASSERT_TRUE(raw_.Send(End(1)));
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"claiming 1 frames, but published 2"});
}

TEST_F(RawStreamTest, PublishAfterEnd) {
  Start();
  PublishGood(0, 1);
  DrainTo(1);
  ASSERT_TRUE(raw_.Send(End(1)));
  PublishGood(1, 2);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  // Either the extra frame is seen first, or the count mismatch: both are failures.
  EXPECT_EQ(c_->state(), State::kFailed);
  EXPECT_EQ(c_->delivered(), 1u);
  EXPECT_TRUE(c_->error().find("after ending the stream at 1 frames") != std::string::npos ||
              c_->error().find("claiming 1 frames") != std::string::npos)
      << c_->error();
}

TEST_F(RawStreamTest, PublishedAfterEndSeenFirst) {
  Start();
  PublishGood(0, 2);
  ASSERT_TRUE(raw_.Send(End(1)));  // END arrives before any frame is read
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"published frame 1 after ending the stream at 1 frames"});
}

// ------------------------------------------------------------ forged shared memory

TEST_F(RawStreamTest, PublishedJumpsAheadFromStart) {
  Start(16, 4);
  for (uint64_t k = 0; k < 5; k++) raw_.WriteFrame(k);  // overwrites slot 0 with frame 4
  raw_.Publish(5);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "claims 5 frames published, but 0 were consumed", "4 slots"});
  EXPECT_EQ(c_->delivered(), 0u);
  EXPECT_EQ(ErrorSentTo(raw_.sock), c_->error());
}

TEST_F(RawStreamTest, PublishedJumpsAheadMidStream) {
  Start(16, 4);
  PublishGood(0, 3);
  DrainTo(3);
  raw_.Publish(3 + 4 + 1);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "claims 8 frames published, but 3 were consumed"});
}

TEST_F(RawStreamTest, PublishedHuge) {
  Start(16, 4);
  raw_.Publish(~0ull);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "claims 18446744073709551615 frames published"});
}

TEST_F(RawStreamTest, PublishedGoesBackwards) {
  Start(16, 4);
  PublishGood(0, 3);
  DrainTo(3);
  raw_.Publish(1);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "claims 1 frames published, but 3 were consumed"});
}

TEST_F(RawStreamTest, PublishedGoesBackwardsAfterHangUp) {
  // The hang-up must not mask the corruption (Settle must not call it a clean exit).
  Start(16, 4);
  PublishGood(0, 3);
  DrainTo(3);
  raw_.Publish(2);
  close(raw_.sock);
  raw_.sock = -1;
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "claims 2 frames published"});
}

TEST_F(RawStreamTest, SlotSeqMismatch) {
  Start(16, 4);
  raw_.WriteFrame(0);
  raw_.slot(0)->seq = 7;
  raw_.Publish(1);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "slot 0 holds frame 7, expected frame 0"});
}

TEST_F(RawStreamTest, StaleSlotFromPreviousLap) {
  Start(16, 2);
  PublishGood(0, 2);
  DrainTo(2);
  // Frame 2 belongs in slot 0, which still holds frame 0.
  raw_.Publish(3);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "slot 0 holds frame 0, expected frame 2"});
}

TEST_F(RawStreamTest, SlotNatomsMismatch) {
  Start(16, 4);
  PublishGood(0, 1);
  DrainTo(1);
  raw_.WriteFrame(1);
  raw_.slot(1)->natoms = 17;
  raw_.Publish(2);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "frame 1 says 17 atoms", "set up for 16"});
}

TEST_F(RawStreamTest, SlotUnknownFlags) {
  Start(16, 4);
  raw_.WriteFrame(0, WESTREAM_HAS_STEP | 0x10u);
  raw_.Publish(1);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  ExpectFailed(c_.get(), {"ring corrupt", "unknown flags 17"});
}

// A NaN, infinite or non-positive cell value with WESTREAM_HAS_BOX fails the
// stream (the analysis would otherwise quietly drop minimum images).
class BadBoxTest : public RawStreamTest, public ::testing::WithParamInterface<std::pair<int, float>> {};

TEST_P(BadBoxTest, FailsTheStream) {
  Start(16, 4);
  const float good[6] = {30, 0, 30, 0, 0, 30};
  for (uint64_t k = 0; k < 2; k++) {
    raw_.WriteFrame(k, WESTREAM_HAS_BOX);
    memcpy(raw_.slot(k)->box, good, sizeof good);
  }
  raw_.slot(1)->box[GetParam().first] = GetParam().second;
  raw_.Publish(2);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  EXPECT_EQ(c_->delivered(), 1u);
  ExpectFailed(c_.get(), {"frame 1 has a box that is not a cell", "ax, by and cz must be positive and every value finite"});
}

INSTANTIATE_TEST_SUITE_P(Cells, BadBoxTest,
                         ::testing::Values(std::make_pair(0, std::nanf("")), std::make_pair(2, -1.0f), std::make_pair(5, 0.0f),
                                           std::make_pair(3, INFINITY)));

TEST_F(RawStreamTest, ScribbledRingHeaderIsIgnored) {
  // The consumer keeps its own copy of the geometry; the shared header's
  // static fields are only informational for the producer.
  Start(16, 2);
  westream_ring_header* r = raw_.ring();
  r->nslots = 1000000;
  r->natoms = 0xffffffffu;
  r->slot_stride = 1ull << 40;
  r->array_offset[0] = 1ull << 40;
  r->array_offset[1] = 12345;
  uint64_t seen = 0;
  bool ok = true;
  for (uint64_t k = 0; k < 6; k++) {
    PublishGood(k, k + 1);
    EXPECT_TRUE(DriveUntil(c_.get(), [&] { return c_->delivered() == k + 1 || Terminal(c_->state()); }, 2000,
                           [&](const FrameView& v) {
                             const std::vector<float> want = Pattern(48, v.index);
                             ok = ok && v.arrays[1] == nullptr && memcmp(v.arrays[0], want.data(), 48 * 4) == 0;
                             seen++;
                           }));
  }
  EXPECT_EQ(c_->state(), State::kStreaming) << c_->error();
  EXPECT_EQ(seen, 6u);
  EXPECT_TRUE(ok);
}

TEST_F(RawStreamTest, RingIsSealedAgainstResizing) {
  Start(16, 2);
  EXPECT_NE(ftruncate(raw_.memfd, 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(raw_.memfd, static_cast<off_t>(raw_.bytes) * 2), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(fcntl(raw_.memfd, F_ADD_SEALS, F_SEAL_WRITE), 0);  // F_SEAL_SEAL is set
  const int seals = fcntl(raw_.memfd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  struct stat st;
  ASSERT_EQ(fstat(raw_.memfd, &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), raw_.setup.ring_bytes);
  EXPECT_EQ(raw_.setup.ring_bytes, WESTREAM_RING_HEADER_BYTES + c_->slots_bytes());
}

// The consumer writes `released`; the C producer must not trust it either.
TEST_F(ChannelTest, ReleasedBeyondPublishedIsProtocolError) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = 8;
  westream_producer* p = ConnectProducer(c.get(), c->address(), o);
  ASSERT_NE(p, nullptr);
  const float pos[24] = {};
  ASSERT_EQ(westream_send(p, pos, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_OK);
  WS_STORE_RELEASE(&RingOf(c.get())->released, 10u);
  westream_frame f;
  EXPECT_EQ(westream_acquire(p, &f), WESTREAM_E_PROTOCOL);
  EXPECT_NE(std::string(westream_last_error(p)).find("consumer released 10 frames, only 1 published"),
            std::string::npos)
      << westream_last_error(p);
  // Sticky: the producer does not continue on a corrupt ring.
  WS_STORE_RELEASE(&RingOf(c.get())->released, 0u);
  EXPECT_EQ(westream_acquire(p, &f), WESTREAM_E_PROTOCOL);
  EXPECT_EQ(westream_end(p), WESTREAM_E_PROTOCOL);
  westream_close(p);
}

// ------------------------------------------------------------ fake consumers

// Builds a ring memfd for the geometry of `hello`.
struct FakeRing {
  int memfd = -1;
  westream_layout layout{};
  uint32_t nslots = 4;
};

FakeRing MakeRing(const westream_msg_hello& hello, uint32_t nslots, bool seal, int64_t size_delta) {
  FakeRing f;
  f.nslots = nslots;
  westream_compute_layout(hello.natoms, hello.content, nslots, &f.layout);
  f.memfd = memfd_create("wstest-fake-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (f.memfd < 0) return f;
  const uint64_t size = f.layout.ring_bytes + size_delta;
  if (ftruncate(f.memfd, static_cast<off_t>(size)) != 0) return f;
  void* p = mmap(nullptr, WESTREAM_RING_HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, f.memfd, 0);
  if (p != MAP_FAILED) {
    auto* r = static_cast<westream_ring_header*>(p);
    r->magic = WESTREAM_RING_MAGIC;
    r->version = WESTREAM_PROTOCOL_VERSION;
    r->natoms = hello.natoms;
    r->content = hello.content;
    r->nslots = nslots;
    r->slot_stride = f.layout.slot_stride;
    r->slots_offset = WESTREAM_RING_HEADER_BYTES;
    for (int i = 0; i < 3; i++) r->array_offset[i] = f.layout.array_offset[i];
    munmap(p, WESTREAM_RING_HEADER_BYTES);
  }
  if (seal) fcntl(f.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
  return f;
}

westream_msg_setup SetupFor(const westream_msg_hello& hello, const FakeRing& ring) {
  westream_msg_setup s;
  memset(&s, 0, sizeof s);
  FillHeader(&s.h, WESTREAM_MSG_SETUP);
  s.natoms = hello.natoms;
  s.content = hello.content;
  s.nslots = ring.nslots;
  s.ring_bytes = ring.layout.ring_bytes;
  return s;
}

// Sends a SETUP for `ring` with fresh eventfds; takes ownership of ring.memfd.
void SendSetup(int conn, const westream_msg_setup& s, FakeRing ring, int nfds = 3) {
  int fds[3] = {ring.memfd, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  SendMsg(conn, &s, sizeof s, fds, nfds);
  for (int fd : fds)
    if (fd >= 0) close(fd);
}

westream_msg_error ErrorMsg(const std::string& text) {
  westream_msg_error e;
  memset(&e, 0, sizeof e);
  FillHeader(&e.h, WESTREAM_MSG_ERROR);
  e.code = WESTREAM_E_REFUSED;
  snprintf(e.text, sizeof e.text, "%s", text.c_str());
  return e;
}

// A consumer impostor on an abstract address: accepts one producer, reads its
// hello, runs `script`, then waits for the producer to hang up.
class FakeConsumer {
 public:
  using Script = std::function<void(int conn, const westream_msg_hello& hello)>;
  explicit FakeConsumer(Script script) {
    static int counter = 0;
    address_ = "@wstest-fake-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    struct sockaddr_un sa;
    socklen_t len = 0;
    char why[256];
    westream_parse_address(address_.c_str(), &sa, &len, why, sizeof why);
    listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), len), 0) << strerror(errno);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    thread_ = std::thread([this, script] {
      struct pollfd p = {listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 10000) != 1) return;
      const int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      westream_msg_hello hello;
      memset(&hello, 0, sizeof hello);
      if (RecvMsg(conn, &hello, sizeof hello, nullptr, 5000) == static_cast<ssize_t>(sizeof hello)) {
        got_hello_ = true;
        hello_ = hello;
        script(conn, hello);
      }
      // Wait for the producer to go away (bounded), so it never sees EOF early.
      char buf[512];
      while (RecvMsg(conn, buf, sizeof buf, nullptr, 10000) > 0) {
      }
      close(conn);
    });
  }
  ~FakeConsumer() {
    thread_.join();
    close(listen_fd_);
  }
  const std::string& address() const { return address_; }
  bool got_hello() const { return got_hello_; }

 private:
  std::string address_;
  int listen_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> got_hello_{false};
  westream_msg_hello hello_{};
};

// Connects a C producer to `fake`; returns status and the error text.
int ConnectTo(FakeConsumer& fake, std::string* why, westream_producer** out = nullptr, uint32_t natoms = 10) {
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  westream_producer* p = nullptr;
  const int s = westream_connect(&p, fake.address().c_str(), &o);
  *why = s == WESTREAM_OK ? "" : westream_last_error(nullptr);
  if (s != WESTREAM_OK) {
    EXPECT_EQ(p, nullptr);
  }
  if (out) *out = p;
  else westream_close(p);
  return s;
}

TEST_F(ChannelTest, FakeConsumerValidSetupWorks) {
  // Sanity check of the impostor: a correct setup is accepted.
  westream_producer* p = nullptr;
  std::string why;
  {
    FakeConsumer fake([](int conn, const westream_msg_hello& h) {
      FakeRing ring = MakeRing(h, 3, true, 0);
      SendSetup(conn, SetupFor(h, ring), ring);
    });
    EXPECT_EQ(ConnectTo(fake, &why, &p), WESTREAM_OK) << why;
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(westream_nslots(p), 3u);
    westream_frame f;
    EXPECT_EQ(westream_acquire(p, &f), WESTREAM_OK);
    EXPECT_EQ(westream_publish(p, &f), WESTREAM_OK);
    westream_close(p);  // lets the fake finish
  }
}

TEST_F(ChannelTest, FakeConsumerUnsealedRing) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, false, 0);
    SendSetup(conn, SetupFor(h, ring), ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("not sealed"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerRingTooSmall) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, true, -4096);
    SendSetup(conn, SetupFor(h, ring), ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("ring memory is"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerNotAMemfd) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, true, 0);
    const westream_msg_setup s = SetupFor(h, ring);
    close(ring.memfd);
    ring.memfd = eventfd(0, EFD_CLOEXEC);  // fstat size 0
    SendSetup(conn, s, ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("ring memory is 0 bytes"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerInconsistentGeometry) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, true, 0);
    westream_msg_setup s = SetupFor(h, ring);
    s.ring_bytes += 4096;
    SendSetup(conn, s, ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("geometry is inconsistent"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerZeroOrTooManySlots) {
  for (uint32_t nslots : {0u, WESTREAM_MAX_SLOTS + 1}) {
    FakeConsumer fake([nslots](int conn, const westream_msg_hello& h) {
      FakeRing ring = MakeRing(h, 4, true, 0);
      westream_msg_setup s = SetupFor(h, ring);
      s.nslots = nslots;
      SendSetup(conn, s, ring);
    });
    std::string why;
    EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL) << nslots;
    EXPECT_NE(why.find("inconsistent"), std::string::npos) << why;
  }
}

TEST_F(ChannelTest, FakeConsumerWrongAtomCount) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    westream_msg_hello other = h;
    other.natoms = h.natoms + 1;
    FakeRing ring = MakeRing(other, 4, true, 0);
    SendSetup(conn, SetupFor(other, ring), ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("set up 11 atoms"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerRingHeaderMismatch) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, false, 0);
    void* p = mmap(nullptr, WESTREAM_RING_HEADER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, ring.memfd, 0);
    static_cast<westream_ring_header*>(p)->magic = 0;
    munmap(p, WESTREAM_RING_HEADER_BYTES);
    fcntl(ring.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
    SendSetup(conn, SetupFor(h, ring), ring);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("ring header does not match"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerOneFd) {
  FakeConsumer fake([](int conn, const westream_msg_hello& h) {
    FakeRing ring = MakeRing(h, 4, true, 0);
    SendSetup(conn, SetupFor(h, ring), ring, 1);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("passed 1 file descriptors, expected 3"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerGarbageSetup) {
  FakeConsumer fake([](int conn, const westream_msg_hello&) {
    const std::string junk = RandomBytes(32, 5);
    SendMsg(conn, junk.data(), junk.size());
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_PROTOCOL);
  EXPECT_NE(why.find("invalid 32-byte set-up message"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerSendsError) {
  FakeConsumer fake([](int conn, const westream_msg_hello&) {
    const westream_msg_error e = ErrorMsg("not today: topology has 12 atoms");
    SendMsg(conn, &e, sizeof e);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_REFUSED);
  EXPECT_NE(why.find("refused the stream: not today: topology has 12 atoms"), std::string::npos) << why;
  EXPECT_TRUE(fake.got_hello());
}

TEST_F(ChannelTest, FakeConsumerErrorWithoutTerminator) {
  FakeConsumer fake([](int conn, const westream_msg_hello&) {
    westream_msg_error e = ErrorMsg("");
    memset(e.text, 'A', sizeof e.text);  // no NUL anywhere
    SendMsg(conn, &e, sizeof e);
  });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_REFUSED);
  EXPECT_NE(why.find(std::string(100, 'A')), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerHangsUp) {
  FakeConsumer fake([](int conn, const westream_msg_hello&) { shutdown(conn, SHUT_RDWR); });
  std::string why;
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_CONNECT);
  EXPECT_NE(why.find("closed the connection during set-up"), std::string::npos) << why;
}

TEST_F(ChannelTest, FakeConsumerSilentTimesOut) {
  EnvGuard guard("WESTREAM_CONNECT_TIMEOUT");
  setenv("WESTREAM_CONNECT_TIMEOUT", "0.3", 1);
  std::atomic<bool> done{false};
  FakeConsumer fake([&done](int, const westream_msg_hello&) {
    while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  });
  std::string why;
  const auto t0 = Clock::now();
  EXPECT_EQ(ConnectTo(fake, &why), WESTREAM_E_CONNECT);
  const double took = SecondsSince(t0);
  done = true;
  EXPECT_NE(why.find("did not answer"), std::string::npos) << why;
  EXPECT_GE(took, 0.25);
  EXPECT_LT(took, 2.0);
}

TEST_F(ChannelTest, FakeConsumerErrorAfterSetup) {
  westream_producer* p = nullptr;
  {
    FakeConsumer fake([](int conn, const westream_msg_hello& h) {
      FakeRing ring = MakeRing(h, 2, true, 0);
      SendSetup(conn, SetupFor(h, ring), ring);
      const westream_msg_error e = ErrorMsg("viewer crashed");
      SendMsg(conn, &e, sizeof e);
    });
    std::string why;
    ASSERT_EQ(ConnectTo(fake, &why, &p), WESTREAM_OK) << why;
    // The message may land after the first acquisitions; with nobody
    // releasing, the third acquire waits for it.
    int s = WESTREAM_OK;
    for (int i = 0; i < 3 && s == WESTREAM_OK; i++) {
      westream_frame f;
      s = westream_acquire(p, &f);
      if (s == WESTREAM_OK) {
        EXPECT_EQ(westream_publish(p, &f), WESTREAM_OK);
      }
    }
    EXPECT_EQ(s, WESTREAM_E_CONSUMER_GONE);
    EXPECT_NE(std::string(westream_last_error(p)).find("consumer stopped the stream: viewer crashed"),
              std::string::npos)
        << westream_last_error(p);
    westream_close(p);
  }
}

TEST_F(ChannelTest, FakeConsumerGarbageAfterSetup) {
  westream_producer* p = nullptr;
  {
    FakeConsumer fake([](int conn, const westream_msg_hello& h) {
      FakeRing ring = MakeRing(h, 2, true, 0);
      SendSetup(conn, SetupFor(h, ring), ring);
      const std::string junk = RandomBytes(7, 8);
      SendMsg(conn, junk.data(), junk.size());
    });
    std::string why;
    ASSERT_EQ(ConnectTo(fake, &why, &p), WESTREAM_OK) << why;
    // The message may land after the first acquisitions; with nobody
    // releasing, the third acquire waits for it.
    int s = WESTREAM_OK;
    for (int i = 0; i < 3 && s == WESTREAM_OK; i++) {
      westream_frame f;
      s = westream_acquire(p, &f);
      if (s == WESTREAM_OK) {
        EXPECT_EQ(westream_publish(p, &f), WESTREAM_OK);
      }
    }
    EXPECT_EQ(s, WESTREAM_E_PROTOCOL);
    EXPECT_NE(std::string(westream_last_error(p)).find("unexpected 7-byte message"), std::string::npos)
        << westream_last_error(p);
    westream_close(p);
  }
}

}  // namespace
}  // namespace wstest
