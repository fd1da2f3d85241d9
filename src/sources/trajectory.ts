// fromTrajectory: frames from a trajectory file written by an unmodified
// engine (XTC, TRR, DCD, AMBER NetCDF, LAMMPS dump): a finished file, a file
// that is still growing (on tmpfs, typically), or a named pipe.
import fs from 'node:fs';
import { Observable, type Subscriber } from 'rxjs';

import { BorrowedFrame, type Frame } from '../core/frame.js';
import { native } from '../core/native.js';
import { onUntil, type Until } from './follow.js';
import { trajectoryFormats, type TrajectoryFormat } from './trajectory-formats.js';

export { trajectoryFormats, type TrajectoryFormat };

export interface TrajectoryOptions {
  /** Default: from the magic bytes, else from the extension (.xtc .trr .dcd .nc/.ncdf/.netcdf .lammpstrj/.lammpsdump/.dump). */
  format?: TrajectoryFormat;
  /**
   * Follow the file as it grows (tail -f) instead of reading it to its end.
   * Default: true for a named pipe, false for a regular file. A followed
   * regular file completes once `until` fires and everything written has
   * been decoded; without `until` it is followed until unsubscribed.
   */
  follow?: boolean;
  /** The writer is done: a promise, an observable (first value or completion), or `{ pid }` of the writing process. */
  until?: Until;
  /**
   * Named pipes: open read-write, so opening never blocks and an engine that
   * probes the path before writing does not hang; the end then comes only
   * from `until`. Default false: the stream ends when every writer closed it.
   */
  fifoReadWrite?: boolean;
  /** Also write every byte read to this file (keep a pipe's trajectory on disk). */
  tee?: string;
  /** Give consumed pages of a followed file back to the system (tmpfs); the file keeps its size but not its data. */
  discardConsumed?: boolean;
  /** LAMMPS dumps without ITEM: UNITS: the input's units style (real, metal, si, cgs, electron, micro, nano, lj). */
  lammpsUnits?: string;
  /** Fallback poll period in ms when inotify is not available (default 20); with inotify a slow safety poll runs. */
  pollInterval?: number;
  /** Called once the format is known, before the first frame. */
  onOpen?: (info: TrajectoryInfo) => void;
  /** Called after each batch of frames (at most every 20 ms of decoding): frames so far and bytes decoded. */
  onProgress?: (progress: { frames: number; bytes: number }) => void;
}

export interface TrajectoryInfo {
  path: string;
  format: TrajectoryFormat;
  natoms: number;
  fifo: boolean;
  /** How new data is noticed: "inotify", "poll" (file), "epoll" (pipe), or "none" (finished file). */
  watch: 'inotify' | 'epoll' | 'poll' | 'none';
}

/** The trajectory is unreadable: corrupt, truncated, wrong format, unopenable. */
export class TrajectoryError extends Error {
  override name = 'TrajectoryError';
}

// Must match native/addon/formats_binding.cpp.
const enum Meta {
  Natoms = 0,
  Step,
  Time,
  Flags,
  Buffers,
  BytesRead,
  Frames,
  Offset, // bytes decoded so far: where the next frame starts
}
const HAS_STEP = 1;
const HAS_TIME = 2;
const HAS_BOX = 4;
const HAS_VELOCITIES = 8;
const HAS_FORCES = 16;
const WAIT = 0;
const FRAME = 1;

interface NativeReader {
  readonly meta: Float64Array;
  readonly box: Float32Array;
  readonly format: string;
  readonly fifo: boolean;
  next(): number;
  finish(): void;
  watch(callback: () => void): boolean;
  close(): void;
  buffers(): { positions?: ArrayBuffer; velocities?: ArrayBuffer; forces?: ArrayBuffer };
}
type ReaderConstructor = new (
  path: string,
  options: { format?: string; follow?: boolean; fifoRdwr?: boolean; tee?: string; discardConsumed?: boolean; lammpsUnits?: string },
) => NativeReader;

/**
 * Frames of a trajectory file or named pipe, decoded natively. Each
 * subscription opens the file anew. Frames are views into the reader's
 * buffers, valid until the pipeline's synchronous work for the frame
 * returns (`retain()` copies one). Errors are TrajectoryErrors naming the
 * file, the frame and the byte offset.
 */
export function fromTrajectory(path: string, options: TrajectoryOptions = {}): Observable<Frame> {
  if (options.format !== undefined && !trajectoryFormats.includes(options.format))
    throw new TypeError(`unknown trajectory format "${options.format}": use ${trajectoryFormats.join(', ')}`);
  return new Observable<Frame>((subscriber) => follow(path, options, subscriber));
}

function follow(path: string, options: TrajectoryOptions, subscriber: Subscriber<Frame>): () => void {
  const Reader = (native() as unknown as { TrajectoryReader: ReaderConstructor }).TrajectoryReader;
  let fifo = false;
  try {
    fifo = fs.statSync(path).isFIFO();
  } catch {
    // the native side reports a missing file with its own message
  }
  const following = options.follow ?? fifo;
  let reader: NativeReader;
  try {
    reader = new Reader(path, {
      format: options.format,
      follow: following,
      fifoRdwr: options.fifoReadWrite,
      tee: options.tee,
      discardConsumed: options.discardConsumed,
      lammpsUnits: options.lammpsUnits,
    });
  } catch (e) {
    subscriber.error(new TrajectoryError((e as Error).message));
    return () => {};
  }

  let closed = false;
  let pumping = false;
  let again = false;
  let opened = false;
  let watchKind: TrajectoryInfo['watch'] = 'none';
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let cancelUntil: (() => void) | undefined;
  let version = -1;
  let positions = new Float32Array(0);
  let velocities: Float32Array | undefined;
  let forces: Float32Array | undefined;
  const meta = reader.meta;
  const box = reader.box;
  const sliceMs = 20;

  const teardown = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    if (immediate) clearImmediate(immediate);
    cancelUntil?.();
    reader.close();
  };

  const pump = () => {
    immediate = undefined;
    if (closed) return;
    if (pumping) {
      again = true; // woken from inside a subscriber: look again afterwards
      return;
    }
    pumping = true;
    again = false;
    const t0 = performance.now();
    try {
      for (;;) {
        const r = reader.next();
        if (r === WAIT) break;
        if (r !== FRAME) {
          teardown();
          subscriber.complete();
          return;
        }
        if (meta[Meta.Buffers] !== version) {
          version = meta[Meta.Buffers];
          const b = reader.buffers();
          positions = new Float32Array(b.positions!);
          velocities = b.velocities && new Float32Array(b.velocities);
          forces = b.forces && new Float32Array(b.forces);
        }
        const flags = meta[Meta.Flags];
        const natoms = meta[Meta.Natoms];
        if (!opened) {
          opened = true;
          options.onOpen?.({ path, format: reader.format as TrajectoryFormat, natoms, fifo: reader.fifo, watch: watchKind });
        }
        subscriber.next(
          new BorrowedFrame(
            meta[Meta.Frames] - 1,
            natoms,
            positions,
            flags & HAS_STEP ? meta[Meta.Step] : undefined,
            flags & HAS_TIME ? meta[Meta.Time] : undefined,
            flags & HAS_BOX ? box : undefined,
            flags & HAS_VELOCITIES ? velocities : undefined,
            flags & HAS_FORCES ? forces : undefined,
          ),
        );
        if (closed) return;
        // Catching up on a long file: let the event loop breathe.
        if (performance.now() - t0 > sliceMs) {
          immediate = setImmediate(pump);
          break;
        }
      }
      if (opened) options.onProgress?.({ frames: meta[Meta.Frames], bytes: meta[Meta.Offset] });
    } catch (e) {
      teardown();
      subscriber.error(new TrajectoryError((e as Error).message));
      return;
    } finally {
      pumping = false;
    }
    if (again && !closed && !immediate) immediate = setImmediate(pump);
  };

  if (following || reader.fifo) {
    if (reader.watch(pump)) watchKind = reader.fifo ? 'epoll' : 'inotify';
    else watchKind = 'poll';
    // With inotify/epoll a slow safety poll; without, a fast one.
    const period = watchKind === 'poll' ? (options.pollInterval ?? 20) : Math.max(options.pollInterval ?? 0, 250);
    timer = setInterval(pump, period);
    if (options.until) {
      cancelUntil = onUntil(options.until, () => {
        if (closed) return;
        reader.finish();
        pump();
      });
    }
  }
  immediate = setImmediate(pump);
  return teardown;
}
