// Minimum distance between two groups: `minDistance(a, b)`.
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernelBox, kernels } from './native-kernels.js';

/**
 * The smallest distance between any atom of `a` and any atom of `b`, Å, minimum
 * image (double precision; MDAnalysis `distance_array(a, b, box).min()`).
 *
 * @example frames.pipe(minDistance(top.select('protein'), top.select('resname LIG')))
 */
export function minDistance(a: GroupSpec, b: GroupSpec, options: { pbc?: boolean } = {}): Measure<number> {
  const ga = new Group(a, 'minDistance');
  const gb = new Group(b, 'minDistance');
  const pbc = options.pbc ?? true;
  const out = new Float64Array(2);
  return measure((frame) => {
    const ia = ga.at(frame);
    const ib = gb.at(frame);
    if (ia.length === 0 || ib.length === 0) throw new Error(`minDistance: a group has no atoms in frame ${frame.index}`);
    kernels().distanceStats(frame.positions, ia, ia.length, frame.positions, ib, ib.length, pbc ? kernelBox(frame.box) : null, 0, out);
    return out[0];
  }, 'mindist');
}
