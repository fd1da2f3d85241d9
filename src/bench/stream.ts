// `westream bench`: how fast this node streams frames into westream, and how
// long a pipeline takes per frame, each beside a peer measured in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { type Observable, Subject } from 'rxjs';

import type { Frame } from '../core/frame.js';
import { buildDir } from '../core/native.js';
import { roundTrip } from '../doctor/channel.js';

export interface StreamTiming {
  natoms: number;
  frames: number;
  /** From the first frame's arrival to the last's: process start and handshake count for nobody. */
  seconds: number;
  framesPerSecond: number;
  gigabytesPerSecond: number;
  /** Per-frame time inside the pipeline, ms (absent without one). */
  pipelineMs?: { median: number; p95: number; max: number };
}

/** Frames in, anything out: only how long each frame takes matters here. */
export type BenchPipeline = (frames: Observable<Frame>) => Observable<unknown>;

/**
 * westream-synthetic writes `frames` (>= 2) frames of `natoms` atoms into a
 * fresh channel; this process reads every cache line of each (a sum, so the
 * data really comes over) and, with `pipeline`, pushes the frame through it,
 * timing each frame's synchronous way through.
 */
export async function timeStream(natoms: number, frames: number, pipeline?: BenchPipeline): Promise<StreamTiming> {
  if (frames < 2) throw new Error('at least 2 frames are needed: rates count from the first frame to the last');
  const producer = path.join(buildDir, 'westream-synthetic');
  if (!fs.existsSync(producer)) throw new Error(`${producer} is missing: build westream (npm ci, or npm run build)`);
  const subject = new Subject<Frame>();
  let failure: Error | undefined;
  const sub = pipeline?.(subject).subscribe({ error: (e) => (failure = e) });
  const arrivals: number[] = [];
  const busy: number[] = [];
  let sink = 0;
  try {
    const r = await roundTrip(producer, ['--atoms', String(natoms), '--frames', String(frames), '--fast'], (frame) => {
      arrivals.push(performance.now());
      const p = frame.positions;
      for (let i = 0; i < p.length; i += 16) sink += p[i]; // one read per 64-byte line
      if (!pipeline) return undefined;
      const t = performance.now();
      subject.next(frame);
      busy.push(performance.now() - t);
      return failure ? `the pipeline failed: ${failure.message}` : undefined;
    }, { timeoutMs: 600_000 });
    if (r.frames !== frames) throw new Error(`${r.frames} of ${frames} frames arrived`);
  } finally {
    sub?.unsubscribe();
  }
  if (!Number.isFinite(sink)) throw new Error('the synthetic frames held non-finite positions');
  const seconds = (arrivals[arrivals.length - 1] - arrivals[0]) / 1000;
  const rate = (frames - 1) / seconds;
  const out: StreamTiming = { natoms, frames, seconds, framesPerSecond: rate, gigabytesPerSecond: (rate * natoms * 12) / 1e9 };
  if (pipeline) {
    busy.sort((a, b) => a - b);
    const at = (q: number) => busy[Math.min(busy.length - 1, Math.floor(q * busy.length))];
    out.pipelineMs = { median: at(0.5), p95: at(0.95), max: busy[busy.length - 1] };
  }
  return out;
}

/**
 * The peer: one core copying the same frames into an 8-slot working set,
 * the work a producer does to put each frame in the ring, and so the
 * channel's ceiling. GB/s of frame data.
 */
export function memcpyRate(natoms: number, frames: number): number {
  const bytes = natoms * 12;
  // As bench:channel's memcpy row: 2 source frames into 8 slots in turn.
  const sources = Array.from({ length: 2 }, (_, k) => new Float32Array(bytes / 4).fill(k));
  const slots = Array.from({ length: 8 }, () => new Float32Array(bytes / 4));
  for (let k = 0; k < 16; k++) slots[k % 8].set(sources[k % 2]); // warm up
  const t = performance.now();
  for (let k = 0; k < frames; k++) slots[k % 8].set(sources[k % 2]);
  const seconds = (performance.now() - t) / 1000;
  return (frames * bytes) / seconds / 1e9;
}
