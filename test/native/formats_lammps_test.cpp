// LAMMPS dump custom decoder: ordering by id, coordinate conventions,
// boxes, units, bad input.
#include "formats_helpers.h"

using namespace wsfmt;

namespace {
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
}  // namespace

TEST(FormatsLammps, AtomsAreReorderedById) {
  System s = make_system(20, 2.0f, 9);  // gcd(7, 20) = 1: a real permutation
  std::string t = lammps_snapshot(s, 0, true) + lammps_snapshot(s, 100, true);
  Decoded d = decode(Format::LammpsDump, text(t), 50);
  ASSERT_EQ(d.error, "");
  ASSERT_EQ(d.pos.size(), 2u);
  EXPECT_LE(max_abs_diff(d.pos[1], s.x, 10.0f), 1e-4f);
  EXPECT_EQ(d.meta[1].step, 100);
  EXPECT_FALSE(d.meta[1].has_time);
  EXPECT_FLOAT_EQ(d.meta[1].box[0], 20.0f);
}

TEST(FormatsLammps, ScaledCoordinatesAndTriclinicBox) {
  System s = make_system(11, 2.0f, 9);
  Decoded d = decode(Format::LammpsDump, text(lammps_snapshot(s, 0, false, "id type xs ys zs")));
  ASSERT_EQ(d.error, "");
  EXPECT_LE(max_abs_diff(d.pos[0], s.x, 10.0f), 1e-4f);
  Decoded t = decode(Format::LammpsDump, text(lammps_snapshot(s, 0, false, "id type x y z", true)));
  ASSERT_EQ(t.error, "");
  // bounds 0..L+1 with xy = 1: xlo = 0, xhi = L, b = (1, L, 0)
  EXPECT_FLOAT_EQ(t.meta[0].box[0], 20.0f);
  EXPECT_FLOAT_EQ(t.meta[0].box[1], 1.0f);
  EXPECT_FLOAT_EQ(t.meta[0].box[2], 20.0f);
}

TEST(FormatsLammps, UnitsGiveTimeVelocitiesAndForces) {
  std::string t =
      "ITEM: UNITS\nreal\nITEM: TIME\n250\nITEM: TIMESTEP\n125\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\n"
      "ITEM: ATOMS id x y z vx vy vz fx fy fz\n2 1 2 3 0.001 0 0 1 0 0\n1 4 5 6 0 0.002 0 0 2 0\n";
  Decoded d = decode(Format::LammpsDump, text(t));
  ASSERT_EQ(d.error, "");
  EXPECT_TRUE(d.meta[0].has_time);
  EXPECT_NEAR(d.meta[0].time, 0.25, 1e-9);  // fs → ps
  EXPECT_EQ(d.pos[0], (std::vector<float>{4, 5, 6, 1, 2, 3}));
  EXPECT_NEAR(d.vel[0][1], 2.0f, 1e-5);      // atom 1's vy, Å/fs → Å/ps
  EXPECT_NEAR(d.frc[0][1], 8.368f, 1e-4);     // atom 1's fy, kcal → kJ
  EXPECT_NEAR(d.vel[0][3], 1.0f, 1e-5);      // atom 2's vx
  Decoded metal = decode(Format::LammpsDump, text(t.substr(t.find("ITEM: TIMESTEP"))), SIZE_MAX, true, "metal");
  EXPECT_NEAR(metal.vel[0][1], 0.002f, 1e-7);
}

TEST(FormatsLammps, PartialSnapshotWaitsAndFinalLineWithoutNewlineIsTruncated) {
  System s = make_system(5, 2.0f, 9);
  std::string t = lammps_snapshot(s, 0, false);
  Decoded cut = decode(Format::LammpsDump, text(t.substr(0, t.size() - 10)));
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.error, "");
  // LAMMPS ends every line with a newline: a last line without one is cut
  // short, even when what is there still parses.
  Decoded nonl = decode(Format::LammpsDump, text(t.substr(0, t.size() - 1)));
  EXPECT_TRUE(nonl.truncated);
  EXPECT_EQ(nonl.pos.size(), 0u);
}

TEST(FormatsLammps, NumberCutAtTheEndIsTruncationNotAShorterNumber) {
  // The audit's file: "16.5302" cut to "16" must not come out as z = 16.
  std::string t =
      "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 20\n0 20\n0 20\n"
      "ITEM: ATOMS id type x y z\n1 1 1.0 1.0 1.0\n2 1 1.0 1.0 16.5302\n";
  std::string cut = t.substr(0, t.size() - 6);
  ASSERT_EQ(cut.substr(cut.size() - 3), " 16");
  Decoded d = decode(Format::LammpsDump, text(cut));
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.pos.size(), 0u);
  // Arriving a few bytes at a time (a followed file, a pipe), the partial
  // line waits for its rest: the number comes out whole.
  for (size_t chunk : {1, 3, 7, 50}) {
    Decoded g = decode(Format::LammpsDump, text(t), chunk);
    ASSERT_EQ(g.error, "");
    ASSERT_FALSE(g.truncated);
    ASSERT_EQ(g.pos.size(), 1u);
    EXPECT_FLOAT_EQ(g.pos[0][5], 16.5302f);
  }
}

TEST(FormatsLammps, BadInputIsNamed) {
  System s = make_system(5, 2.0f, 9);
  std::string good = lammps_snapshot(s, 0, false);
  std::string dup = good;
  dup.replace(dup.rfind("\n5 1"), 4, "\n4 1");
  EXPECT_NE(decode(Format::LammpsDump, text(dup)).error.find("atom id 4 twice"), std::string::npos);
  System s6 = make_system(6, 2.0f, 9);
  Decoded changed = decode(Format::LammpsDump, text(good + lammps_snapshot(s6, 1, false)));
  EXPECT_NE(changed.error.find("atom count changed from 5 to 6"), std::string::npos) << changed.error;
  EXPECT_EQ(changed.error_frame, 1u);
  std::string nonum = good;
  nonum.replace(nonum.rfind("\n5 1 ") + 5, 1, "x");
  EXPECT_NE(decode(Format::LammpsDump, text(nonum)).error.find("bad number"), std::string::npos);
  EXPECT_NE(decode(Format::LammpsDump, text("hello\n")).error.find("expected an ITEM: line"), std::string::npos);
  std::string nocoords = "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n0 1\n0 1\n0 1\nITEM: ATOMS id type\n1 1\n";
  EXPECT_NE(decode(Format::LammpsDump, text(nocoords)).error.find("no complete set of coordinate columns"), std::string::npos);
  std::string huge = "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n99999999999\n";
  EXPECT_NE(decode(Format::LammpsDump, text(huge)).error.find("impossible atom count"), std::string::npos);
}

TEST(FormatsLammps, CorruptInputNeverCrashes) {
  System s = make_system(15, 2.0f, 9);
  std::string t = lammps_snapshot(s, 0, true) + lammps_snapshot(s, 10, true, "id type xs ys zs", false) + lammps_snapshot(s, 20, false, "id type x y z", true);
  expect_survives_corruption(Format::LammpsDump, text(t), 400, 7);
}
