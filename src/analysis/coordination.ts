// Coordination numbers: `coordination(a, b, { cutoff })`.
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernelBox, kernels } from './native-kernels.js';

export interface CoordinationOptions {
  /** Å; pairs at distance <= cutoff count. */
  cutoff: number;
  /** Minimum image when the frame has a box (default true). */
  pbc?: boolean;
}

/**
 * The number of (a, b) atom pairs within `cutoff` (≤), minimum image, double
 * precision. With a single atom in `a` this is its coordination number in `b`,
 * e.g. waters around an ion. An atom in both groups pairs with itself
 * (distance 0): keep the groups disjoint.
 *
 * @example frames.pipe(coordination(top.select('name NA'), top.select('water and name OW'), { cutoff: 3.2 }))
 */
export function coordination(a: GroupSpec, b: GroupSpec, options: CoordinationOptions): Measure<number> {
  if (!(options?.cutoff >= 0)) throw new Error('coordination: cutoff (Å) must be a number >= 0');
  const ga = new Group(a, 'coordination');
  const gb = new Group(b, 'coordination');
  const pbc = options.pbc ?? true;
  const out = new Float64Array(2);
  return measure((frame) => {
    const ia = ga.at(frame);
    const ib = gb.at(frame);
    if (ia.length === 0 || ib.length === 0) return 0;
    kernels().distanceStats(frame.positions, ia, ia.length, frame.positions, ib, ib.length, pbc ? kernelBox(frame.box) : null, options.cutoff, out);
    return out[1];
  }, 'coordination');
}
