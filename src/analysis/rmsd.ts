// RMSD to a reference, with optimal superposition (QCP): `rmsd(group, reference, options)`.
import type { Frame } from '../core/frame.js';
import { centerAndRg, nativeView } from './center.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { kernels } from './native-kernels.js';

export interface RmsdOptions {
  /**
   * Superpose on this group before measuring (MDAnalysis `RMSD(select=fit,
   * groupselections=[group])`). Default: the measured group itself.
   */
  fit?: GroupSpec;
  /** Rotate and translate onto the reference first (default true). */
  superposition?: boolean;
  /** Without superposition: subtract each structure's centre first (default true). */
  center?: boolean;
  /** 'mass' weights the centres, the fit and the RMSD by atomic mass (MDAnalysis weights='mass'). */
  weights?: 'mass';
}

/** A reference group prepared once: centred, x..., y..., z... (n floats each). */
interface PreparedReference {
  xyz: Float32Array;
  center: Float64Array;
}

/** Centres the reference atoms `idx` of `reference` on `center` (default: their own weighted centre). */
function prepare(reference: Frame, idx: Int32Array, weights: Float32Array | null, center: Float64Array | null): PreparedReference {
  const n = idx.length;
  const p = reference.positions;
  let c = center;
  if (!c) {
    const out = new Float64Array(4);
    centerAndRg(p, idx, weights, out);
    c = out.subarray(0, 3);
  }
  const xyz = new Float32Array(3 * n);
  for (let k = 0; k < n; k++) {
    xyz[k] = p[3 * idx[k]] - c[0];
    xyz[n + k] = p[3 * idx[k] + 1] - c[1];
    xyz[2 * n + k] = p[3 * idx[k] + 2] - c[2];
  }
  return { xyz, center: Float64Array.from(c) };
}

/**
 * RMSD (Å) of a group to the same atoms of a reference frame. By default the
 * frame is superposed on the reference with the optimal rotation and
 * translation (QCP, Theobald 2005), computed natively on the frame in place;
 * `fit` superposes on another group first (e.g. fit the backbone, measure a
 * ligand). Matches MDAnalysis `rms.RMSD` / `rms.rmsd`.
 *
 * @example
 * const top = readTopology('protein.pdb');
 * frames.pipe(rmsd(top.select('backbone'), top.frames[0]))
 * frames.pipe(rmsd(top.select('resname LIG'), top.frames[0], { fit: top.select('backbone') }))
 */
export function rmsd(group: GroupSpec, reference: Frame, options: RmsdOptions = {}): Measure<number> {
  const g = new Group(group, 'rmsd');
  if (g.dynamic) throw new Error('rmsd: the group must be a static selection');
  const superposition = options.superposition ?? true;
  const center = options.center ?? true;
  const byMass = options.weights === 'mass';
  g.check(reference);
  const idx = g.at0();
  for (const i of idx) if (i >= reference.natoms) throw new Error(`rmsd: atom ${i} is not in the reference (${reference.natoms} atoms)`);
  const w = byMass ? g.masses('rmsd') : null;
  const k = kernels();

  if (superposition) {
    const f = options.fit !== undefined ? new Group(options.fit, 'rmsd fit') : g;
    if (f.dynamic) throw new Error('rmsd: the fit group must be a static selection');
    const fidx = f.at0();
    const sameGroup = f === g || (fidx.length === idx.length && fidx.every((v, i) => v === idx[i]));
    const fw = byMass ? f.masses('rmsd fit') : null;
    const fref = prepare(reference, fidx, fw, null);
    // The fit holds the reference and the selection natively: a frame passes its positions alone.
    const fit = k.qcpFit(fref.xyz, fw, fidx);
    const fmax = maxAtom(fidx);
    if (sameGroup) {
      return measure((frame) => {
        g.check(frame);
        checkNatoms(frame, fmax);
        return fit(frame.positions);
      }, 'rmsd');
    }
    // Fit on one group, measure another: the measured group's reference is
    // taken relative to the fit group's reference centre.
    const sref = prepare(reference, idx, null, fref.center);
    const transform = new Float64Array(12);
    return measure((frame) => {
      f.check(frame);
      checkNatoms(frame, fmax);
      fit(frame.positions, transform);
      const view = nativeView(idx, frame.positions);
      return k.transformedRmsd(view ?? frame.positions, view ? null : idx, w, sref.xyz, transform, 0);
    }, 'rmsd');
  }

  // No superposition: optionally centre both, then compare.
  const zero = new Float64Array(3);
  const sref = prepare(reference, idx, w, center ? null : zero);
  const max = maxAtom(idx);
  const transform = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0);
  const out = new Float64Array(4);
  return measure((frame) => {
    g.check(frame);
    checkNatoms(frame, max);
    if (center) {
      centerAndRg(frame.positions, idx, w, out);
      transform[9] = out[0];
      transform[10] = out[1];
      transform[11] = out[2];
    }
    const view = nativeView(idx, frame.positions);
    return k.transformedRmsd(view ?? frame.positions, view ? null : idx, w, sref.xyz, transform, 0);
  }, 'rmsd');
}

const maxAtom = (idx: Int32Array): number => idx.reduce((a, b) => Math.max(a, b), 0);

function checkNatoms(frame: Frame, max: number): void {
  // The kernels check every index too; this gives the clearer message.
  if (max >= frame.natoms) throw new Error(`rmsd: atom ${max} is outside frame ${frame.index} (${frame.natoms} atoms)`);
}
