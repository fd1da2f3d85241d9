// C->C ceiling for `npm run bench:channel`, row (b): the westream consumer
// core driven from plain C++, with no Node, no libuv and no JS call per frame.
//
//   c_consumer --frames F [--address A] [--spin N] [--nap-us U [--naps K]]
//
// Listens (default: a fresh socket in a private directory, exactly like
// fromChannel()), prints "READY <address>", then consumes until the producer
// ends the stream and prints "RESULT {json}" like node_sink.mjs. The loop is
// the addon's Dispatch() without the JS callback: drain, settle, announce
// sleep, block. Touching one float per frame mirrors the Node subscriber.
//
// --spin N is a diagnostic, not used for the published rows: after draining,
// look for new frames N more times (with a CPU pause) before announcing sleep,
// the way the producer spins on a full ring. It shows how much of the
// tiny-frame cost is sleep/wake ping-pong (see bench/README.md).
// --nap-us U is another diagnostic: when the ring is empty, sleep U µs on a
// timer without announcing it, up to K times in a row (default 100), before
// the announced sleep. The producer then never pays for waking us while
// frames keep coming, which shows what that wake-up costs it.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>

#include "consumer.h"

using westream::Consumer;
using westream::ConsumerOptions;
using westream::FrameView;
using westream::State;

static double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  ConsumerOptions options;
  unsigned long long expected = 0;
  long spin = 0, nap_us = 0, max_naps = 100;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--frames") && i + 1 < argc) expected = strtoull(argv[++i], nullptr, 10);
    else if (!strcmp(argv[i], "--address") && i + 1 < argc) options.address = argv[++i];
    else if (!strcmp(argv[i], "--spin") && i + 1 < argc) spin = atol(argv[++i]);
    else if (!strcmp(argv[i], "--nap-us") && i + 1 < argc) nap_us = atol(argv[++i]);
    else if (!strcmp(argv[i], "--naps") && i + 1 < argc) max_naps = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: c_consumer --frames F [--address A] [--spin N] [--nap-us U [--naps K]]\n");
      return 2;
    }
  }
  if (expected == 0 || spin < 0 || nap_us < 0 || nap_us >= 1000000) {
    fprintf(stderr, "c_consumer: need --frames > 0, --spin >= 0 and 0 <= --nap-us < 1000000\n");
    return 2;
  }

  std::string error;
  Consumer* c = Consumer::Listen(options, &error);
  if (!c) {
    fprintf(stderr, "c_consumer: %s\n", error.c_str());
    return 1;
  }
  printf("READY %s\n", c->address().c_str());
  fflush(stdout);

  unsigned long long frames = 0;
  double t0 = 0, t1 = 0;
  volatile float sink = 0;  // volatile: the touch must really read the ring
  long naps = 0;
  for (;;) {
    c->Pump();
    const uint64_t before = c->delivered();
    FrameView f;
    for (long idle = 0; idle <= spin; idle++) {
      while (c->NextFrame(&f)) {
        if (frames == 0) t0 = now_s();
        sink = sink + f.arrays[0][0];
        if (++frames == expected) t1 = now_s();
        c->Release();
        idle = 0;
      }
      if (spin && c->state() == State::kStreaming) WS_CPU_RELAX();
      else break;
    }
    c->Settle();
    if (c->state() == State::kEnded) break;
    if (c->state() == State::kFailed) {
      fprintf(stderr, "c_consumer: %s\n", c->error().c_str());
      return 1;
    }
    if (c->delivered() != before) naps = 0;
    if (nap_us > 0 && c->state() == State::kStreaming && naps < max_naps) {
      naps++;
      const timespec nap = {0, nap_us * 1000};
      nanosleep(&nap, nullptr);
      continue;
    }
    naps = 0;
    if (c->PrepareSleep()) c->Wait(-1);
  }
  if (frames != expected) {
    fprintf(stderr, "c_consumer: got %llu frames, expected %llu\n", frames, expected);
    return 1;
  }
  // Timed from the first frame to the last: frames - 1 intervals.
  printf("RESULT {\"frames\": %llu, \"intervals\": %llu, \"seconds\": %.9f}\n", frames, frames - 1, t1 - t0);
  delete c;
  return 0;
}
