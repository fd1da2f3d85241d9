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
  Decoded live = decode(Format::NetCdf, b, SIZE_MAX, /*writer_done=*/false, "", /*follow=*/true);
  EXPECT_EQ(live.pos.size(), 1u);
  // Followed, and the writer is done with numrecs still 1: the next record
  // is not a frame, and saying so is an error rather than a silent stop.
  Decoded done = decode(Format::NetCdf, b, SIZE_MAX, /*writer_done=*/true, "", /*follow=*/true);
  EXPECT_EQ(done.pos.size(), 1u);
  EXPECT_NE(done.error.find("numrecs is 1 now that the writer is done, but 1 frames were decoded"), std::string::npos)
      << done.error;
  EXPECT_EQ(done.error_frame, 1u);
  // A finished file holds numrecs records, as netCDF and MDAnalysis read it.
  Decoded finished = decode(Format::NetCdf, b, 97);
  ASSERT_EQ(finished.error, "");
  EXPECT_FALSE(finished.truncated);
  EXPECT_EQ(finished.pos.size(), 1u);
}

TEST(FormatsNetcdf, BytesAfterTheLastRecordAreNotFrames) {
  auto s = systems(8, 2);
  const size_t recsize = 4 + 12 * 8 + 24 + 24;
  Bytes good = netcdf_file(s, 2);
  for (size_t extra : {recsize, recsize + 5, size_t(3), 4 * recsize}) {
    Bytes b = good;
    b.insert(b.end(), extra, 0);  // a whole zero record, and some
    for (size_t chunk : {SIZE_MAX, size_t(61)}) {
      Decoded d = decode(Format::NetCdf, b, chunk);
      ASSERT_EQ(d.error, "") << extra;
      EXPECT_FALSE(d.truncated) << extra;
      ASSERT_EQ(d.pos.size(), 2u) << extra;
      EXPECT_LE(max_abs_diff(d.pos[1], s[1].x, 10.0f), 1e-5f);
    }
    // Followed until the writer is done: an error once the data is final.
    Decoded f = decode(Format::NetCdf, b, SIZE_MAX, true, "", true);
    EXPECT_EQ(f.pos.size(), 2u);
    if (extra >= recsize) {
      EXPECT_NE(f.error.find("numrecs is 2"), std::string::npos) << f.error;
    } else {
      EXPECT_TRUE(f.truncated);
    }
  }
}

TEST(FormatsNetcdf, FewerRecordsThanNumrecsIsTruncation) {
  auto s = systems(8, 2);
  Bytes b = netcdf_file(s, 3);  // data for 2, header says 3
  for (bool follow : {false, true}) {
    Decoded d = decode(Format::NetCdf, b, SIZE_MAX, true, "", follow);
    EXPECT_EQ(d.pos.size(), 2u);
    EXPECT_NE(d.error.find("truncated NetCDF file: the header's numrecs is 3"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("ends after 2 records"), std::string::npos) << d.error;
    EXPECT_EQ(d.error_offset, b.size());
  }
}

TEST(FormatsNetcdf, StreamingNumrecs) {
  auto s = systems(8, 2);
  Bytes b = netcdf_file(s, 0xFFFFFFFFu);
  EXPECT_EQ(decode(Format::NetCdf, b, SIZE_MAX, false, "", true).pos.size(), 2u);
  Decoded done = decode(Format::NetCdf, b, 50, true);
  EXPECT_EQ(done.error, "");
  EXPECT_EQ(done.pos.size(), 2u);
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
