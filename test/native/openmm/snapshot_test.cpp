// westream's OpenMM StreamForce core without OpenMM running: frame assembly
// from device layouts (order, cell offsets, precisions) and the sender thread
// against a live consumer. Built only with OpenMM's headers (-DWESTREAM_OPENMM_INCLUDE).
#include <cstring>

#include "../harness.h"
#include "snapshot.h"
#include "snapshot_sender.h"
#include "stream_error.h"

namespace wstest {
namespace {

using OpenMM::mm_double4;
using OpenMM::mm_float4;
using OpenMM::mm_int4;
using OpenMM::Vec3;
using westream::Layout;
using westream::Snapshot;

// A triclinic cell and values that are multiples of 1/8: every sum below is
// exact, so the expected positions do not depend on the order of operations.
void Cell(Snapshot& s) {
  s.box[0] = Vec3(2.0, 0, 0);
  s.box[1] = Vec3(0.5, 2.0, 0);
  s.box[2] = Vec3(0.25, -0.5, 2.0);
}

constexpr unsigned kAtoms = 4;
const int kOrder[kAtoms] = {2, 0, 3, 1};  // device index -> atom
const mm_int4 kOffsets[kAtoms] = {mm_int4(0, 0, 0, 0), mm_int4(1, 0, 0, 0), mm_int4(-1, 2, 0, 0), mm_int4(0, -1, 1, 0)};

Vec3 DevicePosition(unsigned i) { return Vec3(0.125 * i + 0.5, 1.0 - 0.25 * i, 0.375 * i); }

Vec3 Unwrapped(const Snapshot& s, unsigned i) {
  const mm_int4& o = kOffsets[i];
  const Vec3 p = DevicePosition(i);
  return Vec3(p[0] - (o.x * s.box[0][0] + o.y * s.box[1][0] + o.z * s.box[2][0]),
              p[1] - (o.x * s.box[0][1] + o.y * s.box[1][1] + o.z * s.box[2][1]),
              p[2] - (o.x * s.box[0][2] + o.y * s.box[1][2] + o.z * s.box[2][2]));
}

void FillDevice(Snapshot& s, Layout layout) {
  s.layout = layout;
  Cell(s);
  const westream::PageLocker none;
  const std::size_t element = layout == Layout::Double4 ? sizeof(mm_double4) : sizeof(mm_float4);
  s.posq.allocate(kAtoms * element, none);
  s.correction.allocate(kAtoms * sizeof(mm_float4), none);
  for (unsigned i = 0; i < kAtoms; i++) {
    const Vec3 p = DevicePosition(i);
    if (layout == Layout::Double4) {
      static_cast<mm_double4*>(s.posq.data())[i] = mm_double4(p[0], p[1], p[2], 0);
    } else if (layout == Layout::Float4Mixed) {
      // The float part is off by 1/8 in x; the correction restores it.
      static_cast<mm_float4*>(s.posq.data())[i] = mm_float4(float(p[0] - 0.125), float(p[1]), float(p[2]), 0);
      static_cast<mm_float4*>(s.correction.data())[i] = mm_float4(0.125f, 0, 0, 0);
    } else {
      static_cast<mm_float4*>(s.posq.data())[i] = mm_float4(float(p[0]), float(p[1]), float(p[2]), 0);
    }
  }
  s.order.assign(kOrder, kOrder + kAtoms);
  s.offsets.assign(kOffsets, kOffsets + kAtoms);
}

class AssembleTest : public ::testing::TestWithParam<Layout> {};

TEST_P(AssembleTest, UnwrapsAndRestoresAtomOrder) {
  Snapshot s;
  FillDevice(s, GetParam());
  std::vector<float> out(3 * kAtoms, -1.0f);
  std::string error;
  ASSERT_TRUE(westream::assemblePositions(s, kAtoms, out.data(), error)) << error;
  for (unsigned i = 0; i < kAtoms; i++) {
    const Vec3 want = Unwrapped(s, i);
    for (int k = 0; k < 3; k++)
      EXPECT_EQ(out[3 * kOrder[i] + k], static_cast<float>(want[k] * 10.0)) << "device " << i << " axis " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, AssembleTest, ::testing::Values(Layout::Float4, Layout::Float4Mixed, Layout::Double4));

TEST(Assemble, RejectsAnAtomOrderOutOfRange) {
  for (int bad : {-1, 4, 1 << 30}) {
    Snapshot s;
    FillDevice(s, Layout::Float4);
    s.order[1] = bad;
    std::vector<float> out(3 * kAtoms);
    std::string error;
    EXPECT_FALSE(westream::assemblePositions(s, kAtoms, out.data(), error));
    EXPECT_NE(error.find("names atom " + std::to_string(bad) + " of 4"), std::string::npos) << error;
  }
  Snapshot s;
  FillDevice(s, Layout::Float4);
  s.offsets.pop_back();  // bookkeeping shorter than the atom count
  std::vector<float> out(3 * kAtoms);
  std::string error;
  EXPECT_FALSE(westream::assemblePositions(s, kAtoms, out.data(), error));
  EXPECT_NE(error.find("fewer than 4 atoms"), std::string::npos) << error;
}

TEST(Assemble, HostPositionsAreAlreadyInOrder) {
  Snapshot s;
  s.host = {Vec3(0.1, 0.2, 0.3), Vec3(-1, 2, -3)};
  std::vector<float> out(6);
  std::string error;
  ASSERT_TRUE(westream::assemblePositions(s, 2, out.data(), error)) << error;
  EXPECT_EQ(out, (std::vector<float>{float(0.1 * 10.0), float(0.2 * 10.0), float(0.3 * 10.0), -10, 20, -30}));
  EXPECT_FALSE(westream::assemblePositions(s, 3, out.data(), error));
  EXPECT_NE(error.find("2 positions for 3 atoms"), std::string::npos) << error;
}

TEST(Assemble, WireBoxIsLowerTriangularInAngstrom) {
  Snapshot s;
  Cell(s);
  float box[6];
  westream::wireBox(s.box, box);
  EXPECT_EQ(std::vector<float>(box, box + 6), (std::vector<float>{20, 5, 20, 2.5f, -5, 20}));
}

// ------------------------------------------------------------ host buffers

TEST(HostBuffer, PageAlignedAndPageLockedOnlyWhereTheDriverIsLoaded) {
  std::string why;
  const westream::PageLocker opencl = westream::PageLocker::forPlatform("OpenCL", why);
  EXPECT_EQ(opencl.lock, nullptr);
  EXPECT_TRUE(why.empty()) << why;  // nothing to lock, nothing to report
  const westream::PageLocker cuda = westream::PageLocker::forPlatform("CUDA", why);
  EXPECT_EQ(cuda.lock, nullptr);  // no CUDA driver in this process: never loaded by us
  EXPECT_EQ(why, "libcuda.so.1 is not loaded in this process");
  westream::HostBuffer b;
  ASSERT_TRUE(b.allocate(10000, opencl));
  EXPECT_EQ(b.size(), 10000u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 4096, 0u);
  std::memset(b.data(), 0xab, b.size());  // ASan: all of it is ours
  ASSERT_TRUE(b.allocate(20, opencl));   // reallocating frees the old block
  EXPECT_EQ(b.size(), 20u);
  b.release();
  EXPECT_EQ(b.data(), nullptr);
}

// ------------------------------------------------------------ the sender

class SenderTest : public ChannelTest {
 protected:
  void Connect(uint32_t natoms) {
    c_ = MakeConsumer();
    ASSERT_TRUE(c_);
    westream_options o = WESTREAM_OPTIONS_INIT;
    o.natoms = natoms;
    westream_producer* p = ConnectProducer(c_.get(), c_->address(), o);
    ASSERT_NE(p, nullptr);
    sender_ = std::make_unique<westream::SnapshotSender>(p, nullptr, 2);
  }
  void TearDown() override {
    sender_.reset();
    c_.reset();
    ChannelTest::TearDown();
  }
  void PostHost(long long step, double x) {
    Snapshot& s = sender_->acquire();
    s.layout = Layout::HostVec3;
    s.host.assign(2, Vec3(x, 0.5, -x));
    s.step = step, s.time = 0.25 * step, s.periodic = step % 20 == 0;
    Cell(s);
    sender_->post(s);
  }
  ConsumerPtr c_;
  std::unique_ptr<westream::SnapshotSender> sender_;
};

TEST_F(SenderTest, PublishesEveryFrameInOrderThenEnds) {
  Connect(2);
  for (int i = 0; i < 6; i++) PostHost(10 * i, 0.125 * i);  // more than the two snapshots: reuse
  std::thread ender([&] { sender_->end(); });
  std::vector<std::pair<int64_t, std::vector<float>>> got;
  std::vector<uint32_t> flags;
  EXPECT_TRUE(DriveToEnd(c_.get(), 5000, [&](const FrameView& v) {
    got.emplace_back(v.step, std::vector<float>(v.arrays[0], v.arrays[0] + 6));
    flags.push_back(v.flags);
    EXPECT_EQ(v.time, 0.25 * v.step);
  }));
  ender.join();
  EXPECT_EQ(c_->state(), State::kEnded) << c_->error();
  ASSERT_EQ(got.size(), 6u);
  for (int i = 0; i < 6; i++) {
    const float x = static_cast<float>(0.125 * i * 10.0);
    EXPECT_EQ(got[i].first, 10 * i);
    EXPECT_EQ(got[i].second, (std::vector<float>{x, 5, -x, x, 5, -x}));
    EXPECT_EQ(flags[i], WESTREAM_HAS_STEP | WESTREAM_HAS_TIME | (i % 2 == 0 ? uint32_t{WESTREAM_HAS_BOX} : 0u));
  }
  EXPECT_EQ(sender_->frames(), 6u);
}

TEST_F(SenderTest, ABadSnapshotFailsTheStreamNamingItsStep) {
  Connect(2);
  Snapshot& s = sender_->acquire();
  s.layout = Layout::HostVec3;
  s.host.assign(1, Vec3());  // one position for two atoms
  s.step = 42;
  sender_->post(s);
  try {
    sender_->drain();
    FAIL() << "drain() did not throw";
  } catch (const westream::StreamError& e) {
    EXPECT_NE(std::string(e.what()).find("westream: frame at step 42: the context returned 1 positions for 2 atoms"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(sender_->acquire(), westream::StreamError);  // the stream stays failed
}

TEST_F(SenderTest, ConsumerGoneSurfacesAtTheNextCall) {
  Connect(2);
  c_.reset();  // the consumer goes away
  int status = 0;
  for (int i = 0; i < 100 && status == 0; i++) {
    try {
      PostHost(i, 1.0);
      sender_->drain();
    } catch (const westream::StreamError& e) {
      status = e.status();
    }
  }
  EXPECT_EQ(status, WESTREAM_E_CONSUMER_GONE);
}

}  // namespace
}  // namespace wstest
