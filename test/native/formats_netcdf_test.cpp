// AMBER NetCDF decoder: records, numrecs that lags or leads, bad headers.
#include "formats_helpers.h"

using namespace wsfmt;

namespace {
std::vector<System> systems(int n, int frames) {
  std::vector<System> v;
  for (int f = 0; f < frames; f++) v.push_back(make_system(n, 2.0f, 40 + f));
  return v;
}
}  // namespace

TEST(FormatsNetcdf, CompleteFile) {
  auto s = systems(27, 4);
  Bytes b = netcdf_file(s, 4, true);
  Decoded d = decode(Format::NetCdf, b, 61);
  ASSERT_EQ(d.error, "");
  ASSERT_EQ(d.pos.size(), 4u);
  for (int f = 0; f < 4; f++) {
    EXPECT_LE(max_abs_diff(d.pos[f], s[f].x, 10.0f), 1e-5f);
    EXPECT_NEAR(d.meta[f].time, 2.0 * f, 1e-6);
    EXPECT_FLOAT_EQ(d.meta[f].box[0], 20.0f);
    EXPECT_FLOAT_EQ(d.meta[f].box[5], 20.0f);
    EXPECT_NEAR(d.meta[f].box[3], 0.0f, 1e-5);
    EXPECT_LE(max_abs_diff(d.vel[f], s[f].x, 1.0f), 2e-6f);  // stored / 20.455, scale_factor 20.455
  }
}

TEST(FormatsNetcdf, NumrecsLaggingGatesWhileTheWriterRuns) {
  auto s = systems(8, 3);
  Bytes b = netcdf_file(s, 1);  // data for 3, header says 1
  Decoded live = decode(Format::NetCdf, b, SIZE_MAX, /*writer_done=*/false);
  EXPECT_EQ(live.pos.size(), 1u);
  Decoded done = decode(Format::NetCdf, b, SIZE_MAX, /*writer_done=*/true);
  ASSERT_EQ(done.error, "");
  EXPECT_EQ(done.pos.size(), 3u);
}

TEST(FormatsNetcdf, StreamingNumrecsAndFillValues) {
  auto s = systems(8, 2);
  Bytes b = netcdf_file(s, 0xFFFFFFFFu);
  EXPECT_EQ(decode(Format::NetCdf, b, SIZE_MAX, false).pos.size(), 2u);
  // A record past numrecs that still holds fill values: refused once the writer is done.
  Bytes f = netcdf_file(s, 1);
  const size_t recsize = 4 + 12 * 8 + 24 + 24;
  Bytes fill;
  bef(fill, 9.9692099683868690e+36f);
  std::copy(fill.begin(), fill.end(), f.end() - recsize + 4);  // record 1, first coordinate
  Decoded probe = decode(Format::NetCdf, f, SIZE_MAX, true);
  EXPECT_EQ(probe.pos.size(), 1u);
  EXPECT_NE(probe.error.find("still holds fill values"), std::string::npos) << probe.error;
  EXPECT_EQ(probe.error_frame, 1u);
}

TEST(FormatsNetcdf, UnsupportedFlavoursSayWhy) {
  Bytes b = netcdf_file(systems(3, 1), 1);
  Bytes h = b;
  h[3] = 5;
  EXPECT_NE(decode(Format::NetCdf, h).error.find("CDF-5"), std::string::npos);
  Bytes hdf = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  EXPECT_NE(decode(Format::NetCdf, hdf).error.find("NetCDF-4 (HDF5)"), std::string::npos);
  Bytes bad = b;
  bad[8 + 3] = 0x0B;  // dimension list tag
  EXPECT_NE(decode(Format::NetCdf, bad).error.find("dimension list has tag"), std::string::npos);
}

TEST(FormatsNetcdf, TruncatedHeaderAndRecord) {
  Bytes b = netcdf_file(systems(6, 2), 2);
  EXPECT_TRUE(decode(Format::NetCdf, Bytes(b.begin(), b.begin() + 40)).truncated);
  Decoded d = decode(Format::NetCdf, Bytes(b.begin(), b.end() - 3));
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.pos.size(), 1u);
}

TEST(FormatsNetcdf, CorruptInputNeverCrashes) { expect_survives_corruption(Format::NetCdf, netcdf_file(systems(9, 3), 3, true), 400, 6); }
