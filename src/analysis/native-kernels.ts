// Typed access to the addon's analysis kernels (native/addon/kernels_binding.cpp).
import { native } from '../core/native.js';

export interface NativeKernels {
  /**
   * Prepares a QCP fit to a reference: `ref` holds the centred reference
   * atoms x..., y..., z... (float32, n each), `index` the frame atoms they
   * pair with (null: atoms 0..n-1). Returns the per-frame call.
   */
  qcpFit(ref: Float32Array, weights: Float32Array | null, index: Int32Array | null): QcpFit;
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

/**
 * The RMSD (Å) of a frame's atoms to a prepared reference after optimal
 * superposition (QCP); `transform` (12 entries), when given, receives the
 * rotation (row-major, mobile onto reference) and the mobile centre. Each
 * fit keeps the last frame's rotation as the prediction for the next, so
 * that a trajectory's frames in any orientation need one float pass; only
 * the speed depends on it, never the value.
 */
export type QcpFit = (positions: Float32Array, transform?: Float64Array) => number;

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
