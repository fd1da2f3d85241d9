// `select(group)`: frames of the selected atoms only.
import { map, type OperatorFunction } from 'rxjs';

import { OwnedFrame, type Frame } from '../core/frame.js';
import { Group, type GroupSpec } from './groups.js';

function gather(src: Float32Array, idx: Int32Array): Float32Array {
  const out = new Float32Array(3 * idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = 3 * idx[k];
    out[3 * k] = src[i];
    out[3 * k + 1] = src[i + 1];
    out[3 * k + 2] = src[i + 2];
  }
  return out;
}

/**
 * Frames reduced to the atoms of a group, in selection order (positions,
 * velocities and forces gathered; index, step, time and box kept). The
 * results own their arrays, so they stay valid after the pipeline moves on.
 *
 * @example frames.pipe(select(top.select('protein')), bufferCount(10))
 */
export function select(group: GroupSpec): OperatorFunction<Frame, Frame> {
  const g = new Group(group, 'select');
  return map((f) => {
    const idx = g.at(f);
    return new OwnedFrame({
      index: f.index,
      natoms: idx.length,
      positions: gather(f.positions, idx),
      step: f.step,
      time: f.time,
      box: f.box?.slice(),
      velocities: f.velocities && gather(f.velocities, idx),
      forces: f.forces && gather(f.forces, idx),
    });
  });
}
