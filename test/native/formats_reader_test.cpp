// TrajectoryReader over real files and pipes: finished files, growing
// files, FIFOs, and the errors a user sees.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "formats_helpers.h"
#include "reader.h"

using namespace wsfmt;
using westream::formats::ReaderError;
using westream::formats::ReaderOptions;
using westream::formats::TrajectoryReader;
using Result = TrajectoryReader::Result;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/westream-formats-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (system(cmd.c_str())) {
    }
  }
  std::string file(const std::string& n) const { return path + "/" + n; }
};

void write_all(int fd, const uint8_t* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    ASSERT_GT(w, 0);
    p += w;
    n -= size_t(w);
  }
}

void write_file(const std::string& path, const Bytes& b) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  write_all(fd, b.data(), b.size());
  close(fd);
}

Bytes xtc(int frames, int n = 120) {
  Bytes b;
  for (int f = 0; f < frames; f++) xtc_frame(b, make_system(n, 3.0f, f), f, f * 0.5f);
  return b;
}

// A reader of `path`: a finished file, or followed while it grows.
ReaderOptions options_for(const std::string& path, bool follow = false) {
  ReaderOptions o;
  o.path = path;
  o.follow = follow;
  return o;
}

int drain(TrajectoryReader& r, std::vector<int64_t>* steps = nullptr) {
  VectorSink sink;
  FrameData out;
  int n = 0;
  for (;;) {
    Result res = r.next(sink, out);
    if (res != Result::Frame) return res == Result::End ? n : -n - 1;
    if (steps) steps->push_back(out.step);
    n++;
  }
}

}  // namespace

TEST(FormatsReader, FinishedFileByMagicEvenWithAnOddName) {
  TempDir d;
  write_file(d.file("traj.bin"), xtc(5));
  TrajectoryReader r(options_for(d.file("traj.bin")));
  std::vector<int64_t> steps;
  EXPECT_EQ(drain(r, &steps), 5);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.format(), Format::Xtc);
}

TEST(FormatsReader, ErrorsNameFileFrameAndOffset) {
  TempDir d;
  Bytes b = xtc(3);
  write_file(d.file("cut.xtc"), Bytes(b.begin(), b.end() - 7));
  TrajectoryReader r(options_for(d.file("cut.xtc")));
  VectorSink sink;
  FrameData out;
  EXPECT_EQ(r.next(sink, out), Result::Frame);
  EXPECT_EQ(r.next(sink, out), Result::Frame);
  try {
    r.next(sink, out);
    FAIL() << "no error";
  } catch (const ReaderError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(d.file("cut.xtc") + ": frame 2 at byte "), std::string::npos) << m;
    EXPECT_NE(m.find("truncated xtc data"), std::string::npos) << m;
  }
  write_file(d.file("empty.dcd"), Bytes());
  TrajectoryReader e(options_for(d.file("empty.dcd")));
  EXPECT_THROW(
      {
        try {
          drain(e);
        } catch (const ReaderError& x) {
          EXPECT_NE(std::string(x.what()).find("empty file (0 bytes)"), std::string::npos);
          throw;
        }
      },
      ReaderError);
  EXPECT_THROW(TrajectoryReader m(options_for(d.file("missing.xtc"))), ReaderError);
}

TEST(FormatsReader, FollowsAGrowingFileUntilFinish) {
  TempDir d;
  std::string p = d.file("grow.xtc");
  write_file(p, Bytes());
  TrajectoryReader r(options_for(p, true));
  VectorSink sink;
  FrameData out;
  EXPECT_EQ(r.next(sink, out), Result::Wait);  // empty and still being written: not an error
  Bytes b = xtc(4);
  int fd = open(p.c_str(), O_WRONLY | O_APPEND);
  size_t half = b.size() / 2 + 3;  // mid-frame
  write_all(fd, b.data(), half);
  int got = 0;
  while (r.next(sink, out) == Result::Frame) got++;
  EXPECT_GE(got, 1);
  write_all(fd, b.data() + half, b.size() - half);
  close(fd);
  while (r.next(sink, out) == Result::Frame) got++;
  EXPECT_EQ(got, 4);
  EXPECT_EQ(r.next(sink, out), Result::Wait);
  r.finish();
  EXPECT_EQ(r.next(sink, out), Result::End);
}

TEST(FormatsReader, WriterDyingMidFrameIsATruncationError) {
  TempDir d;
  std::string p = d.file("dies.trr");
  Bytes b;
  System s = make_system(30, 2.0f, 1);
  trr_frame(b, s, 0, 0, false, true, true, false);
  trr_frame(b, s, 1, 1, false, true, true, false);
  write_file(p, Bytes(b.begin(), b.end() - 100));
  TrajectoryReader r(options_for(p, true));
  EXPECT_EQ(drain(r), -2);  // one frame, then Wait
  r.finish();
  try {
    drain(r);
    FAIL() << "no error";
  } catch (const ReaderError& e) {
    EXPECT_NE(std::string(e.what()).find("the writer exited mid-frame"), std::string::npos) << e.what();
  }
}

TEST(FormatsReader, ShrinkingFileIsAnError) {
  TempDir d;
  std::string p = d.file("shrink.xtc");
  write_file(p, xtc(3));
  TrajectoryReader r(options_for(p, true));
  EXPECT_EQ(drain(r), -4);
  ASSERT_EQ(truncate(p.c_str(), 10), 0);
  EXPECT_THROW(drain(r), ReaderError);
}

TEST(FormatsReader, NamedPipeEndsWhenTheWriterCloses) {
  TempDir d;
  std::string p = d.file("pipe.xtc");
  ASSERT_EQ(mkfifo(p.c_str(), 0600), 0);
  ReaderOptions o;
  o.path = p;
  o.tee_path = d.file("copy.xtc");
  TrajectoryReader r(o);
  Bytes b = xtc(6, 2000);  // larger than a pipe's buffer in total
  std::thread writer([&] {
    int fd = open(p.c_str(), O_WRONLY);
    write_all(fd, b.data(), b.size());
    close(fd);
  });
  VectorSink sink;
  FrameData out;
  int frames = 0;
  for (;;) {
    Result res = r.next(sink, out);
    if (res == Result::End) break;
    if (res == Result::Frame) frames++;
    else usleep(1000);  // a test-only poll; the addon waits on epoll instead
  }
  writer.join();
  EXPECT_EQ(frames, 6);
  FILE* f = fopen(d.file("copy.xtc").c_str(), "rb");
  ASSERT_TRUE(f);
  fseek(f, 0, SEEK_END);
  EXPECT_EQ(size_t(ftell(f)), b.size());
  fclose(f);
}

TEST(FormatsReader, ReadWritePipeEndsOnlyAtFinish) {
  TempDir d;
  std::string p = d.file("rw.xtc");
  ASSERT_EQ(mkfifo(p.c_str(), 0600), 0);
  ReaderOptions o;
  o.path = p;
  o.fifo_rdwr = true;
  o.follow = true;
  TrajectoryReader r(o);
  Bytes b = xtc(2);
  int fd = open(p.c_str(), O_WRONLY | O_NONBLOCK);  // does not block: we hold it read-write
  ASSERT_GE(fd, 0);
  write_all(fd, b.data(), b.size());
  close(fd);
  EXPECT_EQ(drain(r), -3);  // 2 frames, then Wait: closing a writer is not the end
  r.finish();
  EXPECT_EQ(drain(r), 0);
}

namespace {
std::vector<System> nc_systems(int n, int frames) {
  std::vector<System> v;
  for (int f = 0; f < frames; f++) v.push_back(make_system(n, 2.0f, 60 + f));
  return v;
}
void set_numrecs(const std::string& path, uint32_t numrecs) {
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  uint8_t b[4] = {uint8_t(numrecs >> 24), uint8_t(numrecs >> 16), uint8_t(numrecs >> 8), uint8_t(numrecs)};
  ASSERT_EQ(pwrite(fd, b, 4, 4), 4);
  close(fd);
}
std::string drain_error(TrajectoryReader& r, int* frames) {
  try {
    *frames += std::max(drain(r), 0);
  } catch (const ReaderError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(FormatsReader, NetcdfFinishedFileStopsAtNumrecs) {
  TempDir d;
  std::string p = d.file("pad.nc");
  Bytes b = netcdf_file(nc_systems(2, 2), 2);
  b.insert(b.end(), 4 + 12 * 2 + 24 + 24, 0);  // one zero record after the last one
  write_file(p, b);
  TrajectoryReader r(options_for(p));
  EXPECT_EQ(drain(r), 2);
}

TEST(FormatsReader, NetcdfFollowedPastNumrecsIsAnErrorOnceTheWriterIsDone) {
  TempDir d;
  std::string p = d.file("lag.nc");
  write_file(p, netcdf_file(nc_systems(5, 3), 1));  // three records, numrecs 1
  TrajectoryReader r(options_for(p, true));
  EXPECT_EQ(drain(r), -2);  // the synced record, then Wait for numrecs
  r.finish();
  int frames = 0;
  std::string m = drain_error(r, &frames);
  EXPECT_EQ(frames, 0);
  EXPECT_NE(m.find(p + ": frame 1 at byte "), std::string::npos) << m;
  EXPECT_NE(m.find("numrecs is 1 now that the writer is done, but 1 frames were decoded"), std::string::npos) << m;
}

TEST(FormatsReader, NetcdfNumrecsSyncedAsTheWriterExitsIsReadAgain) {
  // The reader's numrecs is stale when the writer finishes (it synced the
  // last records just before exiting): read it again, decode them all.
  TempDir d;
  std::string p = d.file("late.nc");
  write_file(p, netcdf_file(nc_systems(5, 3), 1));
  TrajectoryReader r(options_for(p, true));
  EXPECT_EQ(drain(r), -2);
  set_numrecs(p, 3);
  r.finish();
  EXPECT_EQ(drain(r), 2);
}

TEST(FormatsReader, NetcdfNumrecsBelowTheFramesDecodedIsAnError) {
  TempDir d;
  std::string p = d.file("stream.nc");
  write_file(p, netcdf_file(nc_systems(5, 3), 0xFFFFFFFFu));  // streaming: nothing gated
  TrajectoryReader r(options_for(p, true));
  EXPECT_EQ(drain(r), -4);
  set_numrecs(p, 2);
  r.finish();
  int frames = 0;
  std::string m = drain_error(r, &frames);
  EXPECT_NE(m.find("numrecs is 2 at the end of the data, but 3 frames were decoded"), std::string::npos) << m;
}

TEST(FormatsReader, NetcdfFewerRecordsThanNumrecsIsTruncated) {
  TempDir d;
  std::string p = d.file("short.nc");
  write_file(p, netcdf_file(nc_systems(5, 2), 4));
  TrajectoryReader r(options_for(p));
  int frames = 0;
  std::string m = drain_error(r, &frames);
  EXPECT_NE(m.find(p + ": frame 2 at byte "), std::string::npos) << m;
  EXPECT_NE(m.find("truncated NetCDF file: the header's numrecs is 4 but the file ends after 2 records"), std::string::npos)
      << m;
}

TEST(FormatsReader, LammpsLastLineWithoutNewlineIsTruncatedNotShortened) {
  TempDir d;
  std::string t =
      "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 20\n0 20\n0 20\n"
      "ITEM: ATOMS id type x y z\n1 1 1.0 1.0 1.0\n2 1 1.0 1.0 16.5302\n";
  std::string cut = t.substr(0, t.size() - 6);  // "... 16"
  std::string p = d.file("cut.lammpstrj");
  write_file(p, Bytes(cut.begin(), cut.end()));
  TrajectoryReader r(options_for(p));
  int frames = 0;
  std::string m = drain_error(r, &frames);
  EXPECT_EQ(frames, 0);
  EXPECT_NE(m.find(p + ": frame 0 at byte 0: truncated lammpsdump data"), std::string::npos) << m;
  // Followed: the partial line waits for its rest while the writer runs.
  std::string g = d.file("grow.lammpstrj");
  write_file(g, Bytes(cut.begin(), cut.end()));
  TrajectoryReader f(options_for(g, true));
  VectorSink sink;
  FrameData out;
  EXPECT_EQ(f.next(sink, out), Result::Wait);
  int fd = open(g.c_str(), O_WRONLY | O_APPEND);
  write_all(fd, reinterpret_cast<const uint8_t*>(t.data()) + cut.size(), t.size() - cut.size());
  close(fd);
  ASSERT_EQ(f.next(sink, out), Result::Frame);
  EXPECT_FLOAT_EQ(out.positions[5], 16.5302f);
  f.finish();
  EXPECT_EQ(f.next(sink, out), Result::End);
  // And if the writer exits there: truncated, the writer exited mid-frame.
  std::string x = d.file("dies.lammpstrj");
  write_file(x, Bytes(cut.begin(), cut.end()));
  TrajectoryReader e(options_for(x, true));
  EXPECT_EQ(e.next(sink, out), Result::Wait);
  e.finish();
  frames = 0;
  m = drain_error(e, &frames);
  EXPECT_NE(m.find("truncated lammpsdump data"), std::string::npos) << m;
  EXPECT_NE(m.find("the writer exited mid-frame"), std::string::npos) << m;
}

TEST(FormatsReader, BufferFollowsTheDataNotAHeadersAtomCount) {
  // A DCD header claiming 20 million atoms (a 240 MB frame) in front of a
  // few bytes, and a LAMMPS dump claiming 10 million: the read buffer stays
  // at its initial size while followed, and at about the file's size when
  // the file is finished (bigger than the initial buffer here).
  TempDir d;
  constexpr size_t kMiB = 1u << 20;
  Bytes dcd;
  dcd_header(dcd, 20000000, true, false);
  dcd.insert(dcd.end(), 104, 0);  // the start of the first frame
  std::string lmp =
      "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n10000000\nITEM: BOX BOUNDS pp pp pp\n0 20\n0 20\n0 20\n"
      "ITEM: ATOMS id type x y z\n1 1 1.0 1.0 1.0\n";
  struct Case {
    std::string name;
    Bytes b;
  } cases[] = {{"big.dcd", dcd}, {"big.lammpstrj", Bytes(lmp.begin(), lmp.end())}};
  for (auto& c : cases) {
    std::string p = d.file(c.name);
    write_file(p, c.b);
    ReaderOptions o;
    o.path = p;
    o.follow = true;
    TrajectoryReader r(o);
    VectorSink sink;
    FrameData out;
    EXPECT_EQ(r.next(sink, out), Result::Wait);
    EXPECT_LE(r.buffer_capacity(), kMiB) << c.name;
    r.finish();
    EXPECT_THROW(drain(r), ReaderError);
    EXPECT_LE(r.buffer_capacity(), kMiB) << c.name;
    EXPECT_TRUE(sink.p.empty()) << c.name;  // no output arrays for the claim
    // Finished, 3 MiB of it: the buffer holds the file, not the claim.
    Bytes big = c.b;
    big.resize(big.size() + 3 * kMiB, c.name == "big.dcd" ? 0 : '\n');
    write_file(p, big);
    ReaderOptions fo;
    fo.path = p;
    TrajectoryReader fr(fo);
    EXPECT_THROW(drain(fr), ReaderError);
    EXPECT_LE(fr.buffer_capacity(), 8 * kMiB) << c.name;
  }
}
