// Angle between three atoms (or group centres): `angle(a, b, c)`, degrees.
import { pointFunction, separation } from './distance.js';
import type { GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';

export interface AngleOptions {
  /** Minimum image for the two bond vectors when the frame has a box (default true). */
  pbc?: boolean;
  /** Centres of multi-atom groups: 'geometry' (default) or 'mass'. */
  center?: 'geometry' | 'mass';
}

/**
 * The angle a–b–c at b, in degrees [0, 180] (MDAnalysis `calc_angles`, in degrees).
 *
 * @example frames.pipe(angle(top.select('resid 4 and name N'), top.select('resid 4 and name CA'), top.select('resid 4 and name C')))
 */
export function angle(a: GroupSpec, b: GroupSpec, c: GroupSpec, options: AngleOptions = {}): Measure<number> {
  const center = options.center ?? 'geometry';
  const [pa, pb, pc] = [a, b, c].map((g) => pointFunction(g, center, 'angle'));
  const pbc = options.pbc ?? true;
  return measure((frame) => {
    const box = pbc ? frame.box : undefined;
    const B = pb(frame);
    const u = separation(B, pa(frame), box);
    const v = separation(B, pc(frame), box);
    const cx = u[1] * v[2] - u[2] * v[1], cy = u[2] * v[0] - u[0] * v[2], cz = u[0] * v[1] - u[1] * v[0];
    return (Math.atan2(Math.hypot(cx, cy, cz), u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) * 180) / Math.PI;
  }, 'angle');
}
