// Typed access to the addon's analysis kernels (native/addon/kernels_binding.cpp).
import { native } from '../core/native.js';

export interface NativeKernels {
  /**
   * QCP RMSD of the selected atoms to a reference prepared by `qcpPrepare`.
   * `ref` holds the centred reference x..., y..., z... (float32, `ref.length / 3`
   * floats each, the first n used); `state` (64 entries) holds its sums and
   * receives, when `rotation` is true, the rotation (state[5..13]) and the
   * mobile centre (state[14..16]). state[59..63] is the prediction: a
   * rotation as a unit quaternion (identity after `qcpPrepare`) and an RMSD
   * (0: none). The kernel turns the frame by the rotation before summing
   * float32 differences from the reference, and replaces both with this
   * frame's, so that the next frame of a trajectory, oriented much like this
   * one, needs one float pass. Only the speed depends on it, never the value.
   */
  qcp(positions: Float32Array, index: Int32Array | null, weights: Float32Array | null, ref: Float32Array, state: Float64Array, rotation: boolean): number;
  /** Fills a QCP state (Float64Array(QCP_STATE_LENGTH)) from the first n atoms of a centred reference `ref` (x..., y..., z...). */
  qcpPrepare(ref: Float32Array, n: number, weights: Float32Array | null, state: Float64Array): void;
  /** What the QCP kernel did so far in this process: calls, float32 passes, double-precision passes, in-pass refinements of the predicted rotation. */
  qcpCounters(): { calls: number; floatPasses: number; doublePasses: number; refinements: number };
  /** RMSD of a group after applying the rotation and centre in transform[offset..offset+11]. */
  transformedRmsd(positions: Float32Array, index: Int32Array | null, weights: Float32Array | null, ref: Float32Array, transform: Float64Array, offset: number): number;
  centerRg(positions: Float32Array, index: Int32Array | null, n: number, weights: Float32Array | null, out: Float64Array): number;
  distanceArray(
    posA: Float32Array,
    indexA: Int32Array | null,
    nA: number,
    posB: Float32Array,
    indexB: Int32Array | null,
    nB: number,
    box: Float32Array | null,
    out: Float32Array,
  ): void;
  distanceStats(
    posA: Float32Array,
    indexA: Int32Array | null,
    nA: number,
    posB: Float32Array,
    indexB: Int32Array | null,
    nB: number,
    box: Float32Array | null,
    cutoff: number,
    out: Float64Array,
  ): void;
  pairDistances(positions: Float32Array, pairs: Int32Array, box: Float32Array | null, out: Float64Array): void;
  withinMask(
    positions: Float32Array,
    refIndex: Int32Array | null,
    nRef: number,
    candidateIndex: Int32Array | null,
    nCandidates: number,
    box: Float32Array | null,
    cutoff: number,
    mask: Uint8Array,
  ): void;
  /**
   * The sum of every float of a and b, read once in one pass, b as `parts`
   * (default 1) equal arrays side by side in step with a, as a kernel reads a
   * frame with its masses (1) or its QCP reference (3): the benchmarks'
   * read-bandwidth floor.
   */
  streamSum(a: Float32Array, b: Float32Array | null, parts?: number): number;
  /** The byte address of a[0] modulo 64. */
  alignment(a: Float32Array): number;
  /** The instruction set in use: "avx512", "avx2" or "baseline". */
  isa(): string;
  /** Caps the instruction set (benchmarks, tests); returns the one in use. */
  setIsa(isa: 'avx512' | 'avx2' | 'baseline'): string;
}

/** Entries of a QCP state (`qcpPrepare`, `qcp`). */
export const QCP_STATE_LENGTH = 64;

let cached: NativeKernels | undefined;

/** The native kernels (loads the addon on first use). */
export function kernels(): NativeKernels {
  if (!cached) {
    const k = (native() as unknown as { kernels?: NativeKernels }).kernels;
    if (!k) throw new Error('the westream native addon has no analysis kernels: rebuild it (npx cmake-js build)');
    cached = k;
  }
  return cached;
}

/**
 * A zeroed Float32Array of `length` floats whose first element starts a
 * 64-byte cache line (a wider buffer, viewed from the right offset), so that
 * the kernels' vector loads never straddle two lines.
 */
export function alignedFloat32(length: number): Float32Array {
  const buffer = new Float32Array(length + 16);
  const skip = ((64 - kernels().alignment(buffer)) % 64) / 4;
  return buffer.subarray(skip, skip + length);
}

/** A periodic box as the kernels take it (or null). */
export function kernelBox(box: Float32Array | undefined): Float32Array | null {
  return box && box[0] > 0 && box[2] > 0 && box[5] > 0 ? box : null;
}
