// RMSD to a reference, with optimal superposition (QCP): `rmsd(group, reference, options)`.
import type { Frame } from '../core/frame.js';
import { centerAndRg, nativeView } from './center.js';
import { Group, type GroupSpec } from './groups.js';
import { measure, type Measure } from './measure.js';
import { alignedFloat32, kernels, QCP_STATE_LENGTH } from './native-kernels.js';

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

/** A reference group prepared once: centred, structure-of-arrays float32. */
interface PreparedReference {
  /** x..., y..., z... of the centred reference atoms (`xyz.length / 3` floats each; the first n are atoms). */
  xyz: Float32Array;
  /**
   * For `qcp`: the reference's sums (qcpPrepare), room for the rotation (9)
   * and mobile centre (3), and the predicted rotation: the last frame's, per
   * operator, so that a trajectory's frames in any orientation take one pass.
   */
  state: Float64Array;
  center: Float64Array;
}

/**
 * Centres the reference atoms `idx` of `reference` on `center` (default: their
 * own weighted centre). With `fit` the arrays are laid out for the QCP kernel:
 * each starts a 64-byte cache line (x, y and z padded to a multiple of 16
 * atoms) and the state holds the sums of the stored floats.
 */
function prepare(reference: Frame, idx: Int32Array, weights: Float32Array | null, center: Float64Array | null, fit: boolean): PreparedReference {
  const n = idx.length;
  const p = reference.positions;
  let c = center;
  if (!c) {
    const out = new Float64Array(4);
    centerAndRg(p, idx, weights, out);
    c = out.subarray(0, 3);
  }
  const stride = fit ? Math.ceil(n / 16) * 16 : n;
  const xyz = fit ? alignedFloat32(3 * stride) : new Float32Array(3 * n);
  const x = xyz.subarray(0, n), y = xyz.subarray(stride, stride + n), z = xyz.subarray(2 * stride, 2 * stride + n);
  for (let k = 0; k < n; k++) {
    x[k] = p[3 * idx[k]] - c[0];
    y[k] = p[3 * idx[k] + 1] - c[1];
    z[k] = p[3 * idx[k] + 2] - c[2];
  }
  const state = new Float64Array(QCP_STATE_LENGTH);
  // Sums over exactly the stored float values, so that the kernel's E0 - λ cancels exactly.
  if (fit) kernels().qcpPrepare(xyz, n, weights, state);
  return { xyz, state, center: Float64Array.from(c) };
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
    const fref = prepare(reference, fidx, fw, null, true);
    if (sameGroup) {
      return measure((frame) => {
        g.check(frame);
        checkNatoms(frame, idx);
        const view = nativeView(idx, frame.positions);
        return k.qcp(view ?? frame.positions, view ? null : idx, fw, fref.xyz, fref.state, false);
      }, 'rmsd');
    }
    // Fit on one group, measure another: the measured group's reference is
    // taken relative to the fit group's reference centre.
    const sref = prepare(reference, idx, null, fref.center, false);
    return measure((frame) => {
      f.check(frame);
      checkNatoms(frame, fidx);
      const fview = nativeView(fidx, frame.positions);
      k.qcp(fview ?? frame.positions, fview ? null : fidx, fw, fref.xyz, fref.state, true);
      const view = nativeView(idx, frame.positions);
      return k.transformedRmsd(view ?? frame.positions, view ? null : idx, w, sref.xyz, fref.state, 5);
    }, 'rmsd');
  }

  // No superposition: optionally centre both, then compare.
  const zero = new Float64Array(3);
  const sref = prepare(reference, idx, w, center ? null : zero, false);
  const transform = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0);
  const out = new Float64Array(4);
  return measure((frame) => {
    g.check(frame);
    checkNatoms(frame, idx);
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

const maxima = new WeakMap<Int32Array, number>();

function checkNatoms(frame: Frame, idx: Int32Array): void {
  // The kernels check every index too; this gives the clearer message.
  let max = maxima.get(idx);
  if (max === undefined) {
    max = idx.reduce((a, b) => Math.max(a, b), 0);
    maxima.set(idx, max);
  }
  if (max >= frame.natoms) throw new Error(`rmsd: atom ${max} is outside frame ${frame.index} (${frame.natoms} atoms)`);
}
