/**
 * A frame of a trajectory, in westream's canonical units: Å, ps.
 *
 * Frames from the channel are zero-copy views into a shared-memory ring slot:
 * they are valid only until the synchronous work of the pipeline for that
 * frame returns, after which the producer may overwrite the slot. Call
 * `retain()` to get a private copy for asynchronous use (buffering, delays,
 * awaiting a promise).
 */
export interface Frame {
  /** 0-based position in the stream. */
  readonly index: number;
  readonly natoms: number;
  /** x y z interleaved, Å, length 3 × natoms. */
  readonly positions: Float32Array;
  /** MD step, when the engine reports it. */
  readonly step?: number;
  /** Simulation time in ps, when the engine reports it. */
  readonly time?: number;
  /**
   * Unit cell as the lower-triangular box matrix, Å:
   * a = (box[0], 0, 0), b = (box[1], box[2], 0), c = (box[3], box[4], box[5]).
   * See `boxDimensions()` for MDAnalysis-style [a, b, c, α, β, γ].
   */
  readonly box?: Float32Array;
  /** Å/ps, x y z interleaved, when the stream carries them. */
  readonly velocities?: Float32Array;
  /** kJ/(mol·Å), x y z interleaved, when the stream carries them. */
  readonly forces?: Float32Array;
  /** A copy that stays valid after the pipeline moves on. */
  retain(): Frame;
}

export interface FrameFields {
  index: number;
  natoms: number;
  positions: Float32Array;
  step?: number;
  time?: number;
  box?: Float32Array;
  velocities?: Float32Array;
  forces?: Float32Array;
}

/** A frame that owns its arrays (the result of `retain()`, or any source that allocates). */
export class OwnedFrame implements Frame {
  readonly index: number;
  readonly natoms: number;
  readonly positions: Float32Array;
  readonly step?: number;
  readonly time?: number;
  readonly box?: Float32Array;
  readonly velocities?: Float32Array;
  readonly forces?: Float32Array;

  constructor(f: FrameFields) {
    this.index = f.index;
    this.natoms = f.natoms;
    this.positions = f.positions;
    if (f.step !== undefined) this.step = f.step;
    if (f.time !== undefined) this.time = f.time;
    if (f.box) this.box = f.box;
    if (f.velocities) this.velocities = f.velocities;
    if (f.forces) this.forces = f.forces;
  }

  retain(): Frame {
    return this;
  }
}

/**
 * A frame whose arrays are borrowed from its source (a ring slot, a decoder's
 * buffers): valid until the pipeline's synchronous work for it returns.
 * Positional constructor: one allocation per frame on the hot path.
 */
export class BorrowedFrame implements Frame {
  constructor(
    readonly index: number,
    readonly natoms: number,
    readonly positions: Float32Array,
    readonly step: number | undefined,
    readonly time: number | undefined,
    readonly box: Float32Array | undefined,
    readonly velocities: Float32Array | undefined,
    readonly forces: Float32Array | undefined,
  ) {}

  retain(): Frame {
    return copyFrame(this);
  }
}

/** Copies every array of `f` into memory the caller owns. */
export function copyFrame(f: Frame): OwnedFrame {
  return new OwnedFrame(copiedFields(f));
}

/** The fields of `f` with every array copied (for frame types that add their own). */
export function copiedFields(f: Frame): FrameFields {
  return {
    index: f.index,
    natoms: f.natoms,
    positions: f.positions.slice(),
    step: f.step,
    time: f.time,
    box: f.box?.slice(),
    velocities: f.velocities?.slice(),
    forces: f.forces?.slice(),
  };
}

/** MDAnalysis-style cell dimensions [a, b, c, α, β, γ] (Å, degrees) of a lower-triangular box. */
export function boxDimensions(box: ArrayLike<number>): [number, number, number, number, number, number] {
  const [ax, bx, by, cx, cy, cz] = [box[0], box[1], box[2], box[3], box[4], box[5]];
  const a = Math.abs(ax);
  const b = Math.hypot(bx, by);
  const c = Math.hypot(cx, cy, cz);
  const deg = 180 / Math.PI;
  const angle = (dot: number, n: number) => (n === 0 ? 90 : Math.acos(Math.max(-1, Math.min(1, dot / n))) * deg);
  const alpha = angle(bx * cx + by * cy, b * c);
  const beta = angle(ax * cx, a * c);
  const gamma = angle(ax * bx, a * b);
  return [a, b, c, alpha, beta, gamma];
}
