// Radius of gyration: `radiusOfGyration(group)`.
import { centerAndRg, massWeights } from './center.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';

export interface RadiusOfGyrationOptions {
  /** 'mass' (default, as MDAnalysis `radius_of_gyration()`) or 'geometry' (equal weights). */
  weights?: 'mass' | 'geometry';
}

/**
 * sqrt(Σ m |r - r_com|² / Σ m) of a group in every frame, Å. One native pass
 * over the frame (no copy) for groups of 24 atoms and more; a static group
 * whose masses are all equal is summed without reading them.
 *
 * @example frames.pipe(radiusOfGyration(top.select('protein and not name H*')))
 */
export function radiusOfGyration(group: GroupSpec, options: RadiusOfGyrationOptions = {}): Measure<number> {
  const g = new Group(group, 'radiusOfGyration');
  const byMass = (options.weights ?? 'mass') === 'mass';
  const masses = byMass && !g.dynamic ? g.masses('radiusOfGyration') : null;
  const weights = masses && massWeights(masses);
  const out = new Float64Array(4);
  return measure((frame) => {
    const idx = g.at(frame);
    if (idx.length === 0) throw new Error(`radiusOfGyration: group "${g.label}" has no atoms in frame ${frame.index}`);
    return centerAndRg(frame.positions, idx, byMass ? (masses ? weights : g.massesOf(idx, 'radiusOfGyration')) : null, out);
  }, 'rg');
}
