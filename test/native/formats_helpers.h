// Helpers of the decoder tests: feed a decoder the way a growing file or a
// pipe would (chunk by chunk), and corrupt inputs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "decoder.h"
#include "formats_writers.h"

namespace wsfmt {

using westream::formats::DecodeError;
using westream::formats::Format;
using westream::formats::FrameData;
using westream::formats::Input;
using westream::formats::Status;
using westream::formats::VectorSink;

struct Decoded {
  std::vector<std::vector<float>> pos, vel, frc;
  std::vector<FrameData> meta;
  std::string error;         // DecodeError message, if any
  uint64_t error_frame = 0;  // and where
  uint64_t error_offset = 0;
  bool truncated = false;    // ended inside a frame (the reader reports this)
  size_t consumed = 0;
};

// Decodes `b`, letting `chunk` more bytes arrive each time the decoder asks
// for more (as a pipe would); the end of `b` is the end of the stream.
// `follow`: the data is followed while written (Input::follow), not a
// finished file.
inline Decoded decode(Format f, const Bytes& b, size_t chunk = SIZE_MAX, bool writer_done = true,
                      const std::string& units = "", bool follow = false) {
  Decoded d;
  auto dec = westream::formats::make_decoder(f);
  if (!units.empty()) dec->set_units(units);
  VectorSink sink;
  size_t pos = 0, avail = std::min(b.size(), chunk);
  try {
    for (int guard = 0; guard < 10000000; guard++) {
      Input in;
      in.data = b.data() + pos;
      in.size = avail - pos;
      in.offset = pos;
      in.eof = avail == b.size();
      in.writer_done = writer_done;
      in.follow = follow;
      if (in.size == 0 && in.eof) {
        dec->at_end(in);
        break;
      }
      FrameData out;
      auto st = dec->next(in, sink, out);
      if (st.status == Status::NeedMore) {
        EXPECT_GT(st.need, in.size) << "NeedMore must ask for more than it has";
        if (in.eof) {
          d.truncated = true;
          break;
        }
        avail = chunk == SIZE_MAX ? b.size() : std::min(b.size(), avail + chunk);
        continue;
      }
      EXPECT_GT(st.consumed, 0u);
      EXPECT_LE(st.consumed, in.size);
      pos += st.consumed;
      if (avail < pos) avail = pos;
      if (st.status == Status::Frame) {
        size_t n = size_t(dec->natoms());
        d.pos.emplace_back(out.positions, out.positions + 3 * n);
        d.vel.push_back(out.velocities ? std::vector<float>(out.velocities, out.velocities + 3 * n) : std::vector<float>());
        d.frc.push_back(out.forces ? std::vector<float>(out.forces, out.forces + 3 * n) : std::vector<float>());
        d.meta.push_back(out);
      }
    }
  } catch (const DecodeError& e) {
    d.error = e.what();
    d.error_frame = e.frame;
    d.error_offset = e.offset;
  }
  d.consumed = pos;
  return d;
}

// Decoding a corrupted copy must end in frames, a clean error, or a
// truncation: never a crash (ASan/UBSan watch), a hang or an exception of
// another kind.
inline void expect_survives_corruption(Format f, const Bytes& good, int flips, unsigned seed) {
  std::mt19937 rng(seed);
  for (int t = 0; t < flips; t++) {
    Bytes b = good;
    size_t at = rng() % b.size();
    b[at] ^= uint8_t(1u << (rng() % 8));
    Decoded d = decode(f, b, 1 + rng() % 997);
    if (!d.error.empty()) {
      EXPECT_LE(d.error_offset, b.size() + 64) << d.error;
    }
  }
  for (size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 50) {
    Bytes b(good.begin(), good.begin() + cut);
    Decoded d = decode(f, b, 1 + cut % 13);
    EXPECT_TRUE(d.truncated || !d.error.empty() || d.consumed == cut) << "cut at " << cut;
  }
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, float scale = 1.0f) {
  float m = 0;
  for (size_t k = 0; k < a.size() && k < b.size(); k++) m = std::max(m, std::fabs(a[k] - b[k] * scale));
  return a.size() == b.size() ? m : 1e30f;
}

}  // namespace wsfmt
