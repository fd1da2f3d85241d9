// libFuzzer driver shared by the per-format targets: decode the input as a
// finished file, then again as a stream that arrives in chunks, and as a
// followed file (header counts re-read as it grows, the end checked), checking
// the decoder contract (never consume more than there is, ask for more than
// there is). Bad input must end in a DecodeError, nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "decoder.h"

namespace wsfuzz {

using namespace westream::formats;

inline void run(Format f, const uint8_t* data, size_t size, size_t chunk, bool writer_done, bool follow = false) {
  auto dec = make_decoder(f);
  if (f == Format::LammpsDump && chunk % 2) dec->set_units("real");
  VectorSink sink;
  size_t pos = 0, avail = chunk >= size ? size : chunk;
  for (int guard = 0; guard < 1000000; guard++) {
    Input in;
    in.data = data + pos;
    in.size = avail - pos;
    in.offset = pos;
    in.eof = avail == size;
    in.writer_done = writer_done;
    in.follow = follow;
    FrameData out;
    Step st;
    try {
      // Like the reader on a growing file: the header's counts as they stand now.
      if (follow && dec->refresh_bytes() && avail >= dec->refresh_bytes()) dec->refresh(data, dec->refresh_bytes());
      if (in.size == 0 && in.eof) {
        if (writer_done) dec->at_end(in);
        return;
      }
      st = dec->next(in, sink, out);
    } catch (const DecodeError&) {
      return;
    }
    if (st.status == Status::NeedMore) {
      if (st.need <= in.size) __builtin_trap();  // contract: asks for more than it has
      if (in.eof) return;                         // truncated: the reader reports it
      // Like the reader: at least what the decoder asked for, in chunks.
      size_t want = pos + st.need > avail + chunk ? pos + st.need : avail + chunk;
      avail = want >= size ? size : want;
      continue;
    }
    if (st.consumed == 0 || st.consumed > in.size) __builtin_trap();
    if (st.status == Status::Frame) {
      if (!out.positions || dec->natoms() <= 0) __builtin_trap();
      // Touch the output so ASan sees any out-of-bounds write.
      volatile float s = out.positions[3 * size_t(dec->natoms()) - 1];
      (void)s;
    }
    pos += st.consumed;
    if (avail < pos) avail = pos;
  }
  __builtin_trap();  // no progress: a hang
}

inline int fuzz_one(Format f, const uint8_t* data, size_t size) {
  run(f, data, size, size, true);
  if (size > 0) run(f, data, size, 1 + data[size - 1] % 61, (data[0] & 1) != 0);
  if (size > 1) run(f, data, size, 1 + data[size - 2] % 97, (data[0] & 2) != 0, true);
  return 0;
}

}  // namespace wsfuzz
