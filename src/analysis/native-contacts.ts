// Fraction of native contacts: `nativeContacts(a, b, reference, options)` (Q).
import type { Frame } from '../core/frame.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernelBox, kernels } from './native-kernels.js';

export interface NativeContactsOptions {
  /** Å: pairs at most this far apart in the reference are the native contacts (default 4.5). */
  radius?: number;
  /**
   * How a contact counts, as MDAnalysis `contacts.Contacts`:
   * - 'hard_cut' (default): formed while r <= r0 (its reference distance);
   * - 'soft_cut': 1 / (1 + exp(beta (r - lambda r0))) (Best, Hummer & Eaton 2013);
   * - 'radius_cut': formed while r <= radius.
   */
  method?: 'hard_cut' | 'soft_cut' | 'radius_cut';
  /** soft_cut steepness, 1/Å (default 5.0). */
  beta?: number;
  /** soft_cut tolerance factor (default 1.8; 1.5 for coarse-grained models). */
  lambda?: number;
  /** Minimum image in the reference and in every frame when they have a box (default true). */
  pbc?: boolean;
}

/**
 * Q, the fraction of the reference's contacts between groups `a` and `b`
 * that are formed in each frame (MDAnalysis `contacts.Contacts` with the
 * same method, radius and parameters). The reference is a frame of the same
 * system (e.g. `topology.frames[0]` of a PDB).
 *
 * @example frames.pipe(nativeContacts(top.select('name CA'), top.select('name CA'), top.frames[0], { radius: 6 }))
 */
export function nativeContacts(a: GroupSpec, b: GroupSpec, reference: Frame, options: NativeContactsOptions = {}): Measure<number> {
  const radius = options.radius ?? 4.5;
  const method = options.method ?? 'hard_cut';
  const beta = options.beta ?? 5.0;
  const lambda = options.lambda ?? 1.8;
  const pbc = options.pbc ?? true;
  if (!['hard_cut', 'soft_cut', 'radius_cut'].includes(method)) throw new Error(`nativeContacts: unknown method "${method}"`);
  const ga = new Group(a, 'nativeContacts');
  const gb = new Group(b, 'nativeContacts');
  if (ga.dynamic || gb.dynamic) throw new Error('nativeContacts: the groups must be static selections');
  ga.check(reference);
  const ia = ga.at(reference);
  const ib = gb.at(reference);
  // Reference distances of every (a, b) pair, then the native ones.
  const all = new Int32Array(2 * ia.length * ib.length);
  for (let i = 0, k = 0; i < ia.length; i++) {
    for (let j = 0; j < ib.length; j++, k += 2) {
      all[k] = ia[i];
      all[k + 1] = ib[j];
    }
  }
  const r0all = new Float64Array(ia.length * ib.length);
  kernels().pairDistances(reference.positions, all, pbc ? kernelBox(reference.box) : null, r0all);
  const native: number[] = [];
  const r0: number[] = [];
  for (let k = 0; k < r0all.length; k++) {
    if (r0all[k] <= radius) {
      native.push(all[2 * k], all[2 * k + 1]);
      r0.push(r0all[k]);
    }
  }
  if (r0.length === 0) throw new Error(`nativeContacts: no pairs of "${ga.label}" and "${gb.label}" are within ${radius} Å in the reference`);
  const pairs = Int32Array.from(native);
  const r = new Float64Array(r0.length);
  return measure((frame) => {
    ga.check(frame);
    kernels().pairDistances(frame.positions, pairs, pbc ? kernelBox(frame.box) : null, r);
    let q = 0;
    if (method === 'soft_cut') {
      for (let k = 0; k < r.length; k++) q += 1 / (1 + Math.exp(beta * (r[k] - lambda * r0[k])));
    } else if (method === 'hard_cut') {
      for (let k = 0; k < r.length; k++) q += r[k] <= r0[k] ? 1 : 0;
    } else {
      for (let k = 0; k < r.length; k++) q += r[k] <= radius ? 1 : 0;
    }
    return q / r.length;
  }, 'q');
}
