// XTC decoder: compressed and small frames, both magic numbers, streaming
// in chunks, and bad input.
#include "formats_helpers.h"

using namespace wsfmt;

namespace {

Bytes xtc_file(int natoms, int frames, int magic = 1995, float precision = 1000.0f) {
  Bytes b;
  for (int f = 0; f < frames; f++) xtc_frame(b, make_system(natoms, 3.0f, 7 + f, f), f * 10, f * 0.02f, precision, magic);
  return b;
}

}  // namespace

TEST(FormatsXtc, CompressedRoundTripWithinPrecision) {
  for (int natoms : {10, 11, 99, 1000, 3001}) {
    Bytes b = xtc_file(natoms, 3);
    Decoded d = decode(Format::Xtc, b);
    ASSERT_EQ(d.error, "") << natoms;
    ASSERT_EQ(d.pos.size(), 3u);
    for (int f = 0; f < 3; f++) {
      System s = make_system(natoms, 3.0f, 7 + f, f);
      EXPECT_LE(max_abs_diff(d.pos[f], s.x, 10.0f), 0.0051f) << natoms << " atoms, frame " << f;  // 1/precision nm = 0.01 Å
      EXPECT_EQ(d.meta[f].step, f * 10);
      EXPECT_NEAR(d.meta[f].time, f * 0.02, 1e-6);
      EXPECT_TRUE(d.meta[f].has_box);
      EXPECT_FLOAT_EQ(d.meta[f].box[0], 30.0f);
      EXPECT_FLOAT_EQ(d.meta[f].box[2], 30.0f);
      EXPECT_FLOAT_EQ(d.meta[f].box[5], 30.0f);
      EXPECT_EQ(d.meta[f].box[1], 0.0f);
    }
  }
}

TEST(FormatsXtc, LargeSystemMagic2023AndLowPrecision) {
  Bytes b = xtc_file(500, 2, 2023, 100.0f);
  Decoded d = decode(Format::Xtc, b);
  ASSERT_EQ(d.error, "");
  ASSERT_EQ(d.pos.size(), 2u);
  EXPECT_LE(max_abs_diff(d.pos[1], make_system(500, 3.0f, 8, 1).x, 10.0f), 0.051f);
}

TEST(FormatsXtc, WideRangesUseSeparateBitFields) {
  // A coordinate range above 0xffffff integers switches the encoder to three bit fields.
  System s = make_system(30, 3.0f, 3);
  s.x[0] = 20000.0f;  // nm: 2e7 at precision 1000
  Bytes b;
  xtc_frame(b, s, 0, 0);
  Decoded d = decode(Format::Xtc, b);
  ASSERT_EQ(d.error, "");
  EXPECT_LE(max_abs_diff(d.pos[0], s.x, 10.0f), 0.02f);
}

TEST(FormatsXtc, SmallSystemsAreStoredUncompressed) {
  for (int natoms : {1, 2, 9}) {
    Bytes b = xtc_file(natoms, 2);
    EXPECT_EQ(b.size(), 2 * (56 + 12 * size_t(natoms)));
    Decoded d = decode(Format::Xtc, b);
    ASSERT_EQ(d.error, "");
    ASSERT_EQ(d.pos.size(), 2u);
    EXPECT_LE(max_abs_diff(d.pos[1], make_system(natoms, 3.0f, 8, 1).x, 10.0f), 1e-5f);
  }
}

TEST(FormatsXtc, ArrivingByteByByteGivesTheSameFrames) {
  Bytes b = xtc_file(200, 4);
  Decoded whole = decode(Format::Xtc, b);
  for (size_t chunk : {1, 3, 64, 1000}) {
    Decoded d = decode(Format::Xtc, b, chunk);
    ASSERT_EQ(d.error, "");
    ASSERT_EQ(d.pos.size(), 4u) << chunk;
    for (int f = 0; f < 4; f++) EXPECT_EQ(d.pos[f], whole.pos[f]);
  }
}

TEST(FormatsXtc, PartialFrameAtTheEndWaitsThenIsTruncated) {
  Bytes b = xtc_file(100, 2);
  Bytes part(b.begin(), b.end() - 5);
  Decoded d = decode(Format::Xtc, part);
  EXPECT_EQ(d.pos.size(), 1u);
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.error, "");
}

TEST(FormatsXtc, WrongMagicNamesFrameAndOffset) {
  Bytes b = xtc_file(20, 3);
  size_t second = decode(Format::Xtc, Bytes(b.begin(), b.begin() + b.size() / 3 + 1)).consumed;
  ASSERT_GT(second, 0u);
  b[second + 3] ^= 0x40;
  Decoded d = decode(Format::Xtc, b);
  EXPECT_EQ(d.pos.size(), 1u);
  EXPECT_NE(d.error.find("bad XTC magic number"), std::string::npos) << d.error;
  EXPECT_EQ(d.error_frame, 1u);
  EXPECT_EQ(d.error_offset, second);
}

TEST(FormatsXtc, ImpossibleAndChangingAtomCounts) {
  Bytes b = xtc_file(20, 1);
  Bytes neg = b;
  neg[4] = 0xff;  // natoms < 0
  EXPECT_NE(decode(Format::Xtc, neg).error.find("impossible atom count"), std::string::npos);
  Bytes two = xtc_file(20, 1);
  Bytes other = xtc_file(21, 1);
  two.insert(two.end(), other.begin(), other.end());
  Decoded d = decode(Format::Xtc, two);
  EXPECT_NE(d.error.find("atom count changed from 20 to 21"), std::string::npos) << d.error;
  EXPECT_EQ(d.error_frame, 1u);
  Bytes mismatch = b;
  mismatch[55] ^= 1;  // second natoms field
  EXPECT_NE(decode(Format::Xtc, mismatch).error.find("two different atom counts"), std::string::npos);
}

TEST(FormatsXtc, ImpossibleCompressedSizeIsAnErrorNotAWait) {
  Bytes b = xtc_file(1000, 1);
  b[88] = 0x7f;  // nbytes ~ 2 GB
  Decoded d = decode(Format::Xtc, b);
  EXPECT_NE(d.error.find("impossible XTC compressed size"), std::string::npos) << d.error;
  EXPECT_EQ(d.error_offset, 88u);
}

TEST(FormatsXtc, CorruptPayloadNeverCrashes) {
  expect_survives_corruption(Format::Xtc, xtc_file(300, 3), 400, 1);
  expect_survives_corruption(Format::Xtc, xtc_file(5, 3), 100, 2);
}
