// Typed access to the addon's analysis kernels (native/addon/kernels_binding.cpp).
import { native } from '../core/native.js';

export interface NativeKernels {
  /**
   * QCP RMSD of the selected atoms to a prepared reference. `ref` holds the
   * centred reference x..., y..., z... (float32); `state` holds gb, wsum,
   * Σ w r (3) and receives, when `rotation` is true, the rotation (9) and the
   * mobile centre (3).
   */
  qcp(positions: Float32Array, index: Int32Array | null, weights: Float32Array | null, ref: Float32Array, state: Float64Array, rotation: boolean): number;
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
  /** The instruction set in use: "avx512", "avx2" or "baseline". */
  isa(): string;
  /** Caps the instruction set (benchmarks, tests); returns the one in use. */
  setIsa(isa: 'avx512' | 'avx2' | 'baseline'): string;
}

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

/** A periodic box as the kernels take it (or null). */
export function kernelBox(box: Float32Array | undefined): Float32Array | null {
  return box && box[0] > 0 && box[2] > 0 && box[5] > 0 ? box : null;
}
