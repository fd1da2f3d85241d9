// Centres of geometry and of mass: `centerOfGeometry(group)`, `centerOfMass(group)`.
import type { Frame } from '../core/frame.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernels } from './native-kernels.js';

/** Below this many atoms, JavaScript beats the cost of a native call. */
export const NATIVE_MIN_ATOMS = 24;

const runs = new WeakMap<Int32Array, number>();

/** The first atom when idx is first, first + 1, ..., first + n - 1 (cached per array), else -1. */
function runStart(idx: Int32Array): number {
  let first = runs.get(idx);
  if (first === undefined) {
    first = idx.length > 0 && idx[0] >= 0 ? idx[0] : -1;
    for (let i = 1; i < idx.length && first >= 0; i++) if (idx[i] !== first + i) first = -1;
    runs.set(idx, first);
  }
  return first;
}

/** Below this many atoms a contiguous run is gathered rather than viewed (a view costs an allocation per frame). */
const VIEW_MIN_ATOMS = 64;

/**
 * The positions a kernel should stream for the atoms `idx` with a null index:
 * the frame itself when idx is every atom in order, a view of the frame (no
 * copy) when idx is a contiguous run of atoms inside it, or null, when the
 * kernel must gather through idx. Streaming a run needs no index array and
 * no gather (several times faster per atom), and is the same computation.
 */
export function nativeView(idx: Int32Array, positions: Float32Array): Float32Array | null {
  const first = runStart(idx);
  if (first < 0) return null;
  const n = idx.length;
  if (first === 0 && 3 * n === positions.length) return positions;
  // outside the frame: the kernel's gather path reports the bad index
  if (n < VIEW_MIN_ATOMS || 3 * (first + n) > positions.length) return null;
  return positions.subarray(3 * first, 3 * (first + n));
}

/**
 * Static masses as the kernels take them: null when every mass is the same
 * positive number, since equal weights give the same centre and radius of
 * gyration as none and the kernels then skip reading the masses.
 */
export function massWeights(masses: Float32Array): Float32Array | null {
  const m0 = masses[0];
  if (!(m0 > 0)) return masses;
  for (let i = 1; i < masses.length; i++) if (masses[i] !== m0) return masses;
  return null;
}

/**
 * Writes the (weighted) centre of `idx` into out[0..2] and returns the
 * radius of gyration about it. Weights are in selection order (null: equal).
 */
export function centerAndRg(positions: Float32Array, idx: Int32Array, weights: Float32Array | null, out: Float64Array): number {
  const n = idx.length;
  if (n >= NATIVE_MIN_ATOMS) {
    const view = nativeView(idx, positions);
    return kernels().centerRg(view ?? positions, view ? null : idx, n, weights, out);
  }
  let W = 0, x = 0, y = 0, z = 0;
  for (let k = 0; k < n; k++) {
    const i = 3 * idx[k];
    const w = weights ? weights[k] : 1;
    W += w;
    x += w * positions[i];
    y += w * positions[i + 1];
    z += w * positions[i + 2];
  }
  if (!(W > 0)) throw new Error('the weights (masses) of the group sum to zero');
  x /= W;
  y /= W;
  z /= W;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const i = 3 * idx[k];
    const dx = positions[i] - x, dy = positions[i + 1] - y, dz = positions[i + 2] - z;
    s += (weights ? weights[k] : 1) * (dx * dx + dy * dy + dz * dz);
  }
  out[0] = x;
  out[1] = y;
  out[2] = z;
  out[3] = Math.sqrt(s / W);
  return out[3];
}

/** The centre of a group in a frame (mass-weighted or geometric), as a function. */
export function centerFunction(group: Group, weighting: 'mass' | 'geometry', what: string): (frame: Frame) => Float64Array {
  const out = new Float64Array(4);
  const staticMasses = weighting === 'mass' && !group.dynamic ? group.masses(what) : null;
  const staticWeights = staticMasses && massWeights(staticMasses);
  return (frame) => {
    const idx = group.at(frame);
    if (idx.length === 0) throw new Error(`${what}: group "${group.label}" has no atoms in frame ${frame.index}`);
    const w = weighting === 'mass' ? (staticMasses ? staticWeights : group.massesOf(idx, what)) : null;
    centerAndRg(frame.positions, idx, w, out);
    return out;
  };
}

/**
 * Centre of geometry of a group, Å ([x, y, z]; MDAnalysis `center_of_geometry()`,
 * no unwrapping across the box).
 *
 * @example frames.pipe(centerOfGeometry(top.select('protein'))).subscribe(([x, y, z]) => ...)
 */
export function centerOfGeometry(group: GroupSpec): Measure<Float64Array> {
  const g = new Group(group, 'centerOfGeometry');
  const f = centerFunction(g, 'geometry', 'centerOfGeometry');
  return measure((frame) => f(frame).slice(0, 3), ['cog_x', 'cog_y', 'cog_z']);
}

/**
 * Centre of mass of a group, Å (MDAnalysis `center_of_mass()`); masses from the topology.
 *
 * @example frames.pipe(centerOfMass(top.select('resname LIG')))
 */
export function centerOfMass(group: GroupSpec): Measure<Float64Array> {
  const g = new Group(group, 'centerOfMass');
  const f = centerFunction(g, 'mass', 'centerOfMass');
  return measure((frame) => f(frame).slice(0, 3), ['com_x', 'com_y', 'com_z']);
}
