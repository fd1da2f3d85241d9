// Dihedral (torsion) angle of four atoms (or group centres): `dihedral(a, b, c, d)`, degrees.
import { pointFunction, separation } from './distance.js';
import type { GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';

export interface DihedralOptions {
  /** Minimum image for the three bond vectors when the frame has a box (default true). */
  pbc?: boolean;
  /** Centres of multi-atom groups: 'geometry' (default) or 'mass'. */
  center?: 'geometry' | 'mass';
}

/**
 * The dihedral a–b–c–d in degrees, (-180, 180], IUPAC sign convention
 * (MDAnalysis `calc_dihedrals`, in degrees). Backbone φ of residue i is
 * C(i-1)–N(i)–CA(i)–C(i); ψ is N(i)–CA(i)–C(i)–N(i+1).
 *
 * @example
 * const at = (s: string) => top.select(s);
 * frames.pipe(dihedral(at('resid 2 and name C'), at('resid 3 and name N'), at('resid 3 and name CA'), at('resid 3 and name C')))
 */
export function dihedral(a: GroupSpec, b: GroupSpec, c: GroupSpec, d: GroupSpec, options: DihedralOptions = {}): Measure<number> {
  const center = options.center ?? 'geometry';
  const [pa, pb, pc, pd] = [a, b, c, d].map((g) => pointFunction(g, center, 'dihedral'));
  const pbc = options.pbc ?? true;
  return measure((frame) => {
    const box = pbc ? frame.box : undefined;
    const A = pa(frame), B = pb(frame), C = pc(frame), D = pd(frame);
    const va = separation(A, B, box);
    const vb = separation(B, C, box);
    const vc = separation(C, D, box);
    const n1 = cross(va, vb);
    const n2 = cross(vb, vc);
    const m = cross(n1, n2);
    const x = n1[0] * n2[0] + n1[1] * n2[1] + n1[2] * n2[2];
    const y = (m[0] * vb[0] + m[1] * vb[1] + m[2] * vb[2]) / Math.hypot(vb[0], vb[1], vb[2]);
    return (Math.atan2(y, x) * 180) / Math.PI;
  }, 'dihedral');
}

function cross(u: number[], v: number[]): number[] {
  return [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
}
