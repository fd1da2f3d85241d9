// The C producer API's own validation: arguments, call order, addresses.
#include "harness.h"

namespace wstest {
namespace {

// A producer connected to a live consumer, for call-order tests.
class ProducerApiTest : public ChannelTest {
 protected:
  void Connect(uint32_t natoms = 6, uint32_t content = WESTREAM_POSITIONS) {
    c_ = MakeConsumer();
    ASSERT_TRUE(c_);
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = natoms;
    o.content = content;
    p_ = ConnectProducer(c_.get(), c_->address(), o);
    ASSERT_NE(p_, nullptr);
  }
  void TearDown() override {
    westream_close(p_);
    c_.reset();
    ChannelTest::TearDown();
  }
  std::string Error() const { return westream_last_error(p_); }
  ConsumerPtr c_;
  westream_producer* p_ = nullptr;
};

westream_options Opts(uint32_t natoms, uint32_t content = WESTREAM_POSITIONS, uint32_t nslots = 0) {
  westream_options o = WESTREAM_OPTIONS_INIT;
  o.natoms = natoms;
  o.content = content;
  o.nslots = nslots;
  return o;
}

std::string ThreadError() { return westream_last_error(nullptr); }

TEST_F(ChannelTest, ConnectRejectsBadArguments) {
  const westream_options ok = Opts(10);
  westream_producer* p = nullptr;
  const std::string addr = "@wstest-nobody-listens";

  EXPECT_EQ(westream_connect(nullptr, addr.c_str(), &ok), WESTREAM_E_ARGUMENT);
  EXPECT_NE(ThreadError().find("out is NULL"), std::string::npos) << ThreadError();

  p = reinterpret_cast<westream_producer*>(&p);
  EXPECT_EQ(westream_connect(&p, addr.c_str(), nullptr), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(ThreadError().find("options is NULL"), std::string::npos) << ThreadError();

  for (uint32_t natoms : {0u, WESTREAM_MAX_ATOMS + 1, 0xffffffffu}) {
    const westream_options o = Opts(natoms);
    EXPECT_EQ(westream_connect(&p, addr.c_str(), &o), WESTREAM_E_ARGUMENT) << natoms;
    EXPECT_NE(ThreadError().find("natoms must be between 1 and 67108864, got " + std::to_string(natoms)),
              std::string::npos)
        << ThreadError();
  }
  {
    const westream_options o = Opts(10, WESTREAM_POSITIONS | 0x40u);
    EXPECT_EQ(westream_connect(&p, addr.c_str(), &o), WESTREAM_E_ARGUMENT);
    EXPECT_NE(ThreadError().find("unknown content bits"), std::string::npos) << ThreadError();
  }
  {
    const westream_options o = Opts(10, WESTREAM_POSITIONS, WESTREAM_MAX_SLOTS + 1);
    EXPECT_EQ(westream_connect(&p, addr.c_str(), &o), WESTREAM_E_ARGUMENT);
    EXPECT_NE(ThreadError().find("nslots must be at most 1024"), std::string::npos) << ThreadError();
  }
  EXPECT_EQ(p, nullptr);
}

TEST_F(ChannelTest, ConnectWithoutAddress) {
  EnvGuard guard("WESTREAM_ADDRESS");
  unsetenv("WESTREAM_ADDRESS");
  const westream_options o = Opts(10);
  westream_producer* p = reinterpret_cast<westream_producer*>(&guard);
  EXPECT_EQ(westream_connect(&p, nullptr, &o), WESTREAM_E_NO_ADDRESS);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(ThreadError().find("WESTREAM_ADDRESS"), std::string::npos) << ThreadError();
  EXPECT_EQ(westream_connect(&p, "", &o), WESTREAM_E_NO_ADDRESS);
  setenv("WESTREAM_ADDRESS", "", 1);
  EXPECT_EQ(westream_connect(&p, nullptr, &o), WESTREAM_E_NO_ADDRESS);
  EXPECT_NE(ThreadError().find("WESTREAM_ADDRESS"), std::string::npos) << ThreadError();
}

TEST_F(ChannelTest, ConnectUsesWestreamAddress) {
  ConsumerPtr c = MakeConsumer();
  ASSERT_TRUE(c);
  EnvGuard guard("WESTREAM_ADDRESS");
  setenv("WESTREAM_ADDRESS", c->address().c_str(), 1);
  int status;
  std::string why;
  westream_producer* p = ConnectProducer(c.get(), "", Opts(10), &status, &why);
  ASSERT_NE(p, nullptr) << why;
  EXPECT_EQ(c->state(), State::kStreaming);
  westream_close(p);
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  EXPECT_EQ(c->state(), State::kFailed);
  EXPECT_NE(c->error().find("after frame - (0 frames) without ending the stream"), std::string::npos) << c->error();
}

TEST_F(ChannelTest, ConnectAddressLength) {
  const westream_options o = Opts(10);
  westream_producer* p = nullptr;
  // 108 bytes cannot be a Unix socket address.
  const std::string too_long = "/tmp/" + std::string(103, 'a');
  ASSERT_EQ(too_long.size(), 108u);
  EXPECT_EQ(westream_connect(&p, too_long.c_str(), &o), WESTREAM_E_ARGUMENT);
  EXPECT_NE(ThreadError().find("108 bytes, the limit for a Unix socket is 107"), std::string::npos) << ThreadError();
  const std::string way_too_long(5000, 'b');
  EXPECT_EQ(westream_connect(&p, way_too_long.c_str(), &o), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_connect(&p, ("@" + std::string(200, 'c')).c_str(), &o), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_connect(&p, "@", &o), WESTREAM_E_ARGUMENT);
  EXPECT_NE(ThreadError().find("empty channel address"), std::string::npos) << ThreadError();
  // 107 bytes is a valid address; nobody listens there.
  const std::string longest = "/tmp/" + std::string(102, 'a');
  EXPECT_EQ(westream_connect(&p, longest.c_str(), &o), WESTREAM_E_CONNECT);
  EXPECT_NE(ThreadError().find("is the consumer running"), std::string::npos) << ThreadError();
  EXPECT_EQ(p, nullptr);
}

TEST_F(ChannelTest, LongestPathAddressWorks) {
  char dir_tmpl[] = "/tmp/wstest-long-XXXXXX";
  ASSERT_NE(mkdtemp(dir_tmpl), nullptr);
  std::string address = std::string(dir_tmpl) + "/";
  address += std::string(107 - address.size(), 's');
  ASSERT_EQ(address.size(), 107u);
  ConsumerOptions co;
  co.address = address;
  ConsumerPtr c = MakeConsumer(co);
  ASSERT_TRUE(c);
  westream_producer* p = ConnectProducer(c.get(), address, Opts(4));
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(westream_end(p), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c.get(), 2000));
  EXPECT_EQ(c->state(), State::kEnded) << c->error();
  westream_close(p);
  c.reset();
  EXPECT_EQ(rmdir(dir_tmpl), 0);
}

TEST_F(ChannelTest, ThreadErrorsAreThreadLocal) {
  const westream_options o = Opts(0);
  westream_producer* p = nullptr;
  EXPECT_EQ(westream_connect(&p, "@x", &o), WESTREAM_E_ARGUMENT);
  const std::string mine = ThreadError();
  std::string theirs;
  std::thread t([&] { theirs = westream_last_error(nullptr); });
  t.join();
  EXPECT_EQ(theirs, "no error");
  EXPECT_EQ(ThreadError(), mine);
}

TEST_F(ChannelTest, NullProducerIsHandled) {
  westream_frame f;
  EXPECT_EQ(westream_acquire(nullptr, &f), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_publish(nullptr, &f), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_send(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_end(nullptr), WESTREAM_E_ARGUMENT);
  westream_close(nullptr);
  EXPECT_EQ(westream_natoms(nullptr), 0u);
  EXPECT_EQ(westream_nslots(nullptr), 0u);
  EXPECT_EQ(westream_frames(nullptr), 0u);
}

TEST_F(ChannelTest, StatusNames) {
  EXPECT_STREQ(westream_status_name(WESTREAM_OK), "WESTREAM_OK");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_ARGUMENT), "WESTREAM_E_ARGUMENT");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_NO_ADDRESS), "WESTREAM_E_NO_ADDRESS");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_CONNECT), "WESTREAM_E_CONNECT");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_REFUSED), "WESTREAM_E_REFUSED");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_PROTOCOL), "WESTREAM_E_PROTOCOL");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_CONSUMER_GONE), "WESTREAM_E_CONSUMER_GONE");
  EXPECT_STREQ(westream_status_name(WESTREAM_E_SYSTEM), "WESTREAM_E_SYSTEM");
  EXPECT_STREQ(westream_status_name(-99), "WESTREAM_E_UNKNOWN");
}

TEST_F(ProducerApiTest, AcquireTwice) {
  Connect();
  westream_frame f, g;
  ASSERT_EQ(westream_acquire(p_, &f), WESTREAM_OK);
  EXPECT_EQ(westream_acquire(p_, &g), WESTREAM_E_ARGUMENT);
  EXPECT_NE(Error().find("twice"), std::string::npos) << Error();
  // The first acquisition is still good.
  EXPECT_EQ(westream_publish(p_, &f), WESTREAM_OK);
  EXPECT_EQ(westream_frames(p_), 1u);
}

TEST_F(ProducerApiTest, PublishWithoutAcquire) {
  Connect();
  westream_frame f;
  memset(&f, 0, sizeof f);
  EXPECT_EQ(westream_publish(p_, &f), WESTREAM_E_ARGUMENT);
  EXPECT_NE(Error().find("without a matching westream_acquire"), std::string::npos) << Error();
  EXPECT_EQ(westream_publish(p_, nullptr), WESTREAM_E_ARGUMENT);
  EXPECT_EQ(westream_acquire(p_, nullptr), WESTREAM_E_ARGUMENT);
  // A stale frame (already published) cannot be published again.
  ASSERT_EQ(westream_acquire(p_, &f), WESTREAM_OK);
  ASSERT_EQ(westream_publish(p_, &f), WESTREAM_OK);
  EXPECT_EQ(westream_publish(p_, &f), WESTREAM_E_ARGUMENT);
  // Nor a frame with the wrong index.
  westream_frame g;
  ASSERT_EQ(westream_acquire(p_, &g), WESTREAM_OK);
  g.index = 5;
  EXPECT_EQ(westream_publish(p_, &g), WESTREAM_E_ARGUMENT);
  g.index = 1;
  EXPECT_EQ(westream_publish(p_, &g), WESTREAM_OK);
  EXPECT_EQ(westream_frames(p_), 2u);
}

TEST_F(ProducerApiTest, PublishWithUnknownFlags) {
  Connect();
  westream_frame f;
  ASSERT_EQ(westream_acquire(p_, &f), WESTREAM_OK);
  f.flags = WESTREAM_HAS_STEP | 0x100u;
  EXPECT_EQ(westream_publish(p_, &f), WESTREAM_E_ARGUMENT);
  EXPECT_NE(Error().find("unknown frame flags 0x101"), std::string::npos) << Error();
  EXPECT_EQ(westream_frames(p_), 0u);
  EXPECT_EQ(WS_LOAD_ACQUIRE(&RingOf(c_.get())->published), 0u);  // nothing leaked to the consumer
  // Still acquired: fix the flags and publish.
  f.flags = WESTREAM_HAS_STEP;
  EXPECT_EQ(westream_publish(p_, &f), WESTREAM_OK);
  EXPECT_EQ(WS_LOAD_ACQUIRE(&RingOf(c_.get())->published), 1u);
}

TEST_F(ProducerApiTest, EndTwiceIsOkAcquireAfterEndFails) {
  Connect();
  const float pos[18] = {};
  ASSERT_EQ(westream_send(p_, pos, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_OK);
  EXPECT_EQ(westream_end(p_), WESTREAM_OK);
  EXPECT_EQ(westream_end(p_), WESTREAM_OK);
  westream_frame f;
  EXPECT_EQ(westream_acquire(p_, &f), WESTREAM_E_ARGUMENT);
  EXPECT_NE(Error().find("after westream_end"), std::string::npos) << Error();
  EXPECT_EQ(westream_send(p_, pos, nullptr, nullptr, nullptr, nullptr, nullptr), WESTREAM_E_ARGUMENT);
  // The consumer saw exactly one END.
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  EXPECT_EQ(c_->state(), State::kEnded) << c_->error();
  EXPECT_EQ(c_->delivered(), 1u);
}

TEST_F(ProducerApiTest, EndWithAcquiredFrame) {
  Connect();
  westream_frame f;
  ASSERT_EQ(westream_acquire(p_, &f), WESTREAM_OK);
  EXPECT_EQ(westream_end(p_), WESTREAM_E_ARGUMENT);
  EXPECT_NE(Error().find("acquired, unpublished"), std::string::npos) << Error();
  ASSERT_EQ(westream_publish(p_, &f), WESTREAM_OK);
  EXPECT_EQ(westream_end(p_), WESTREAM_OK);
  EXPECT_TRUE(DriveToEnd(c_.get(), 2000));
  EXPECT_EQ(c_->state(), State::kEnded) << c_->error();
}

TEST_F(ProducerApiTest, FramePointersAndIndex) {
  Connect(100, WESTREAM_POSITIONS | WESTREAM_FORCES);
  const westream_layout& l = c_->layout();
  for (uint64_t k = 0; k < 3 * c_->nslots(); k++) {
    westream_frame f;
    ASSERT_EQ(westream_acquire(p_, &f), WESTREAM_OK);
    EXPECT_EQ(f.index, k);
    EXPECT_EQ(f.velocities, nullptr);
    ASSERT_NE(f.positions, nullptr);
    ASSERT_NE(f.forces, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f.positions) % 64, 0u);
    EXPECT_EQ(reinterpret_cast<uint8_t*>(f.forces) - reinterpret_cast<uint8_t*>(f.positions),
              static_cast<ptrdiff_t>(l.array_offset[2] - l.array_offset[0]));
    EXPECT_EQ(f.flags, 0u);
    ASSERT_EQ(westream_publish(p_, &f), WESTREAM_OK);
    FrameView v;
    ASSERT_TRUE(c_->NextFrame(&v));  // published by this thread: visible at once
    EXPECT_EQ(v.index, k);
    c_->Release();
  }
}

}  // namespace
}  // namespace wstest
