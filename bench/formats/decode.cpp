// westream-decode: decodes a trajectory with the native decoders.
//   westream-decode FILE [--format F] [--repeat K] [--dump]
// Prints one JSON line: frames, atoms, bytes, seconds of the fastest of K
// passes (the file is read into memory first, as the peers' page cache has
// it), so bench/formats/run.mjs can put it beside MDAnalysis and mdtraj.
// --dump prints every frame (step time box and all positions) instead.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decoder.h"

using namespace westream::formats;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: westream-decode FILE [--format F] [--repeat K] [--dump]\n");
    return 2;
  }
  std::string path = argv[1];
  Format fmt = Format::Unknown;
  int repeat = 1;
  bool dump = false;
  for (int i = 2; i < argc; i++) {
    if (!std::strcmp(argv[i], "--format") && i + 1 < argc) fmt = format_from_name(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--dump")) dump = true;
  }
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (fmt == Format::Unknown) {
    size_t need;
    fmt = detect_format(data.data(), data.size(), &need);
  }
  if (fmt == Format::Unknown) fmt = format_from_extension(path);
  double best = 1e30;
  uint64_t frames = 0;
  int64_t natoms = 0;
  for (int r = 0; r < (dump ? 1 : repeat); r++) {
    auto dec = make_decoder(fmt);
    if (!dec) {
      std::fprintf(stderr, "%s: unknown format\n", path.c_str());
      return 1;
    }
    VectorSink sink;
    FrameData out;
    size_t pos = 0;
    auto t0 = std::chrono::steady_clock::now();
    try {
      for (;;) {
        Input in;
        in.data = data.data() + pos;
        in.size = data.size() - pos;
        in.offset = pos;
        in.eof = true;
        in.writer_done = true;
        if (in.size == 0) break;
        Step st = dec->next(in, sink, out);
        if (st.status == Status::NeedMore) {
          std::fprintf(stderr, "%s: truncated at byte %zu\n", path.c_str(), pos);
          return 1;
        }
        pos += st.consumed;
        if (st.status == Status::Frame && dump) {
          std::printf("frame %llu step %lld time %.6f", (unsigned long long)(dec->frames() - 1), (long long)out.step, out.time);
          if (out.has_box) std::printf(" box %.5f %.5f %.5f %.5f %.5f %.5f", out.box[0], out.box[1], out.box[2], out.box[3], out.box[4], out.box[5]);
          std::printf("\n");
          for (int64_t a = 0; a < dec->natoms(); a++) std::printf("%.5f %.5f %.5f\n", out.positions[3 * a], out.positions[3 * a + 1], out.positions[3 * a + 2]);
        }
      }
    } catch (const DecodeError& e) {
      std::fprintf(stderr, "%s: frame %llu at byte %llu: %s\n", path.c_str(), (unsigned long long)e.frame, (unsigned long long)e.offset, e.what());
      return 1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
    frames = dec->frames();
    natoms = dec->natoms();
  }
  if (!dump)
    std::printf("{\"format\":\"%s\",\"frames\":%llu,\"natoms\":%lld,\"bytes\":%zu,\"seconds\":%.9f}\n", format_name(fmt),
                (unsigned long long)frames, (long long)natoms, data.size(), best);
  return 0;
}
