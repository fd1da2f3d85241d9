// Distances: `distance(a, b)` between two atoms or two group centres, and
// `distances(a, b)`, the full distance array. Minimum image in orthorhombic
// and triclinic boxes whenever the frame has a box (pbc: false to turn off).
import type { Frame } from '../core/frame.js';
import { centerFunction } from './center.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernelBox, kernels } from './native-kernels.js';
import { minimumImage } from './pbc.js';

export interface DistanceOptions {
  /** Apply the minimum-image convention when the frame has a box (default true). */
  pbc?: boolean;
  /** For groups of several atoms: distance between centres of 'geometry' (default) or 'mass'. */
  center?: 'geometry' | 'mass';
}

/** A function giving the position (a single atom, or a group centre) of a group in a frame. */
export function pointFunction(spec: GroupSpec, center: 'geometry' | 'mass', what: string): (frame: Frame) => [number, number, number] {
  const g = new Group(spec, what);
  const c = centerFunction(g, center, what);
  return (frame) => {
    const idx = g.at(frame);
    if (idx.length === 1) {
      const i = 3 * idx[0];
      const p = frame.positions;
      return [p[i], p[i + 1], p[i + 2]];
    }
    const out = c(frame);
    return [out[0], out[1], out[2]];
  };
}

/** Vector from p to q, minimum image in `box` when given. */
export function separation(p: ArrayLike<number>, q: ArrayLike<number>, box: Float32Array | undefined): number[] {
  const v = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
  minimumImage(v, box);
  return v;
}

/**
 * Distance between two atoms, or between the centres of two groups, Å.
 *
 * @example
 * const top = readTopology('nacl.pdb');
 * frames.pipe(distance(top.select('name NA'), top.select('name CL')))   // Na–Cl, minimum image
 */
export function distance(a: GroupSpec, b: GroupSpec, options: DistanceOptions = {}): Measure<number> {
  const center = options.center ?? 'geometry';
  const pa = pointFunction(a, center, 'distance');
  const pb = pointFunction(b, center, 'distance');
  const pbc = options.pbc ?? true;
  return measure((frame) => {
    const v = separation(pa(frame), pb(frame), pbc ? frame.box : undefined);
    return Math.hypot(v[0], v[1], v[2]);
  }, 'distance');
}

/**
 * The distance array between two groups (row-major: out[i * nb + j] = |b_j - a_i|),
 * float32, computed natively on the frame without copying it. Like MDAnalysis
 * `distance_array(a.positions, b.positions, box)`.
 *
 * Note: the array is reused from frame to frame; copy it (`.slice()`) to keep it.
 */
export function distances(a: GroupSpec, b: GroupSpec, options: { pbc?: boolean } = {}): Measure<Float32Array> {
  const ga = new Group(a, 'distances');
  const gb = new Group(b, 'distances');
  const pbc = options.pbc ?? true;
  let out = new Float32Array(0);
  const labels = !ga.dynamic && !gb.dynamic ? Array.from({ length: ga.at0().length * gb.at0().length }, (_, k) => `d${k}`) : ['distances'];
  return measure((frame) => {
    const ia = ga.at(frame);
    const ib = gb.at(frame);
    if (out.length !== ia.length * ib.length) out = new Float32Array(ia.length * ib.length);
    kernels().distanceArray(frame.positions, ia, ia.length, frame.positions, ib, ib.length, pbc ? kernelBox(frame.box) : null, out);
    return out;
  }, labels);
}
