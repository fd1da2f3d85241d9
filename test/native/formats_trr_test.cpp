// TRR decoder: precisions, blocks that come and go, bad input.
#include "formats_helpers.h"

using namespace wsfmt;

TEST(FormatsTrr, SingleAndDoublePrecisionWithVelocitiesAndForces) {
  for (bool dbl : {false, true}) {
    Bytes b;
    System s = make_system(50, 2.0f, 4);
    trr_frame(b, s, 0, 0.0f, dbl, true, true, true);
    trr_frame(b, s, 100, 0.2f, dbl, true, false, false);
    if (!dbl) EXPECT_EQ(b.size(), (84 + 36 + 3 * 600) + (84 + 36 + 600));
    Decoded d = decode(Format::Trr, b, 17);
    ASSERT_EQ(d.error, "");
    ASSERT_EQ(d.pos.size(), 2u);
    EXPECT_LE(max_abs_diff(d.pos[0], s.x, 10.0f), 1e-5f);
    EXPECT_LE(max_abs_diff(d.vel[0], s.x, 5.0f), 1e-5f);   // 0.5 nm/ps → Å/ps
    EXPECT_LE(max_abs_diff(d.frc[0], s.x, 0.2f), 1e-6f);   // 2 kJ/mol/nm → kJ/mol/Å
    EXPECT_TRUE(d.vel[1].empty());
    EXPECT_TRUE(d.frc[1].empty());
    EXPECT_EQ(d.meta[1].step, 100);
    EXPECT_NEAR(d.meta[1].time, 0.2, 1e-6);
    EXPECT_FLOAT_EQ(d.meta[1].box[5], 20.0f);
  }
}

TEST(FormatsTrr, FramesWithoutPositionsAreSkipped) {
  Bytes b;
  System s = make_system(10, 2.0f, 4);
  trr_frame(b, s, 0, 0.0f, false, true, false, false);
  trr_frame(b, s, 5, 0.01f, false, false, false, true);  // forces only
  trr_frame(b, s, 10, 0.02f, false, true, false, false);
  Decoded d = decode(Format::Trr, b);
  ASSERT_EQ(d.error, "");
  ASSERT_EQ(d.pos.size(), 2u);
  EXPECT_EQ(d.meta[1].step, 10);
}

TEST(FormatsTrr, BadHeaders) {
  System s = make_system(10, 2.0f, 4);
  Bytes good;
  trr_frame(good, s, 0, 0.0f, false, true, false, false);
  Bytes b = good;
  b[3] = 0;
  EXPECT_NE(decode(Format::Trr, b).error.find("bad TRR magic number"), std::string::npos);
  b = good;
  b[13] = 'Q';
  EXPECT_NE(decode(Format::Trr, b).error.find("GMX_trn_file"), std::string::npos);
  b = good;
  b[24 + 7 * 4 + 3] ^= 4;  // x_size no longer 3N reals
  EXPECT_NE(decode(Format::Trr, b).error.find("TRR array block"), std::string::npos);
  b = good;
  b[24 + 10 * 4] = 0x80;  // natoms negative
  EXPECT_NE(decode(Format::Trr, b).error.find("impossible atom count"), std::string::npos);
}

TEST(FormatsTrr, CorruptInputNeverCrashes) {
  Bytes b;
  for (int f = 0; f < 3; f++) trr_frame(b, make_system(40, 2.0f, f), f, f * 0.1f, f == 1, true, f != 2, f == 0);
  expect_survives_corruption(Format::Trr, b, 300, 3);
}
