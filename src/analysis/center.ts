// Centres of geometry and of mass: `centerOfGeometry(group)`, `centerOfMass(group)`.
import type { Frame } from '../core/frame.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernels } from './native-kernels.js';

/** Below this many atoms, JavaScript beats the cost of a native call. */
export const NATIVE_MIN_ATOMS = 24;

const identity = new WeakMap<Int32Array, boolean>();

/**
 * The index array as the kernels take it: null when it is every atom of the
 * frame in order (the kernels then stream the frame without a gather).
 */
export function nativeIndex(idx: Int32Array, positions: Float32Array): Int32Array | null {
  if (idx.length * 3 !== positions.length) return idx;
  let all = identity.get(idx);
  if (all === undefined) {
    all = true;
    for (let i = 0; i < idx.length; i++) {
      if (idx[i] !== i) {
        all = false;
        break;
      }
    }
    identity.set(idx, all);
  }
  return all ? null : idx;
}

/**
 * Writes the (weighted) centre of `idx` into out[0..2] and returns the
 * radius of gyration about it. Weights are in selection order (null: equal).
 */
export function centerAndRg(positions: Float32Array, idx: Int32Array, weights: Float32Array | null, out: Float64Array): number {
  const n = idx.length;
  if (n >= NATIVE_MIN_ATOMS) return kernels().centerRg(positions, nativeIndex(idx, positions), n, weights, out);
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
  return (frame) => {
    const idx = group.at(frame);
    if (idx.length === 0) throw new Error(`${what}: group "${group.label}" has no atoms in frame ${frame.index}`);
    const w = weighting === 'mass' ? (staticMasses ?? group.massesOf(idx, what)) : null;
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
