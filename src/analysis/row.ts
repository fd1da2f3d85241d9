// `row(...)`: several values of the same frame, side by side — one pcoord row.
import type { Frame } from '../core/frame.js';
import { measure, type Measure } from './measure.js';

/** Something `row` can evaluate: a Measure, or any function of a frame returning numbers. */
export type RowPart = Measure<number | ArrayLike<number>> | ((frame: Frame) => number | ArrayLike<number>);

/**
 * Evaluates every part on the same frame, synchronously, and concatenates the
 * numbers into one Float64Array (a new one per frame). The result is itself a
 * Measure, labelled by its parts.
 *
 * @example
 * // pcoord = [Na–Cl distance, backbone RMSD], one row per frame
 * frames.pipe(row(distance(na, cl), rmsd(backbone, ref))).subscribe((r) => console.log(r.join(' ')))
 */
export function row(...parts: RowPart[]): Measure<Float64Array> {
  if (parts.length === 0) throw new Error('row: give at least one value');
  const fns = parts.map((p) => ('compute' in p && typeof p.compute === 'function' ? p.compute : (p as (frame: Frame) => number | ArrayLike<number>)));
  const labels = parts.flatMap((p, i) => ('labels' in p && Array.isArray(p.labels) ? p.labels : [`value${i}`]));
  const values: (number | ArrayLike<number>)[] = new Array(fns.length);
  return measure((frame) => {
    let width = 0;
    for (let i = 0; i < fns.length; i++) {
      const v = fns[i](frame);
      values[i] = v;
      width += typeof v === 'number' ? 1 : v.length;
    }
    const out = new Float64Array(width);
    let k = 0;
    for (const v of values) {
      if (typeof v === 'number') out[k++] = v;
      else for (let j = 0; j < v.length; j++) out[k++] = v[j];
    }
    return out;
  }, labels);
}
