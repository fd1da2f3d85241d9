// DCD decoder: byte orders, unit cells, fixed atoms, bad records.
#include "formats_helpers.h"

using namespace wsfmt;

namespace {
Bytes dcd_file(int n, int frames, bool little, bool cell, int namnf = 0) {
  Bytes b;
  dcd_header(b, n, little, cell, namnf);
  for (int f = 0; f < frames; f++) dcd_frame(b, make_system(n, 2.5f, 20 + f), little, cell);
  return b;
}
}  // namespace

TEST(FormatsDcd, BothByteOrdersWithAndWithoutCell) {
  for (bool little : {true, false}) {
    for (bool cell : {true, false}) {
      Bytes b = dcd_file(33, 3, little, cell);
      Decoded d = decode(Format::Dcd, b, 101);
      ASSERT_EQ(d.error, "");
      ASSERT_EQ(d.pos.size(), 3u);
      for (int f = 0; f < 3; f++) EXPECT_LE(max_abs_diff(d.pos[f], make_system(33, 2.5f, 20 + f).x, 10.0f), 2e-6f);
      EXPECT_EQ(d.meta[0].has_box, cell);
      if (cell) {
        EXPECT_FLOAT_EQ(d.meta[2].box[0], 25.0f);
        EXPECT_NEAR(d.meta[2].box[1], 0.0f, 1e-5);
        EXPECT_FLOAT_EQ(d.meta[2].box[5], 25.0f);
      }
      EXPECT_EQ(d.meta[2].step, 100 + 2 * 10);
      EXPECT_NEAR(d.meta[2].time, 120 * 0.002, 1e-6);
    }
  }
}

TEST(FormatsDcd, FixedAtomsAreRefusedClearly) {
  Decoded d = decode(Format::Dcd, dcd_file(10, 1, true, false, 4));
  EXPECT_NE(d.error.find("fixed atoms (NAMNF = 4) is not supported"), std::string::npos) << d.error;
  EXPECT_EQ(d.error_offset, 40u);
}

TEST(FormatsDcd, JunkBetweenFramesIsAnError) {
  // What LAMMPS' dump dcd leaves on a pipe: 8 bytes after a frame.
  Bytes b = dcd_file(10, 1, true, true);
  size_t frame_at = b.size();
  for (int k = 0; k < 8; k++) b.push_back(0);
  Bytes more = dcd_file(10, 1, true, true);
  size_t header = more.size() - (56 + 3 * (40 + 8));
  b.insert(b.end(), more.begin() + header, more.end());
  Decoded d = decode(Format::Dcd, b);
  EXPECT_EQ(d.pos.size(), 1u);
  EXPECT_NE(d.error.find("DCD unit cell record has markers"), std::string::npos) << d.error;
  EXPECT_EQ(d.error_frame, 1u);
  EXPECT_EQ(d.error_offset, frame_at);
}

TEST(FormatsDcd, NotADcd) {
  Bytes b = dcd_file(10, 1, true, false);
  b[0] = 85;
  EXPECT_NE(decode(Format::Dcd, b).error.find("first record marker"), std::string::npos);
  b = dcd_file(10, 1, true, false);
  b[4] = 'X';
  EXPECT_NE(decode(Format::Dcd, b).error.find("no CORD signature"), std::string::npos);
}

TEST(FormatsDcd, CorruptInputNeverCrashes) {
  expect_survives_corruption(Format::Dcd, dcd_file(25, 3, true, true), 300, 4);
  expect_survives_corruption(Format::Dcd, dcd_file(25, 2, false, false), 100, 5);
}
