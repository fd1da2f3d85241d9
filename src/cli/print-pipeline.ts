// The built-in pipelines: "print" (one line per frame) and "count" (none;
// the run's summary counts).
import { map, type OperatorFunction } from 'rxjs';

import type { Frame } from '../core/frame.js';

const fmt = (v: number) => v.toFixed(3);

/** Formats a frame as `frame 3 natoms 2 step 30 time 0.06 x0 1.000 2.000 3.000`. */
export function printFrame(): OperatorFunction<Frame, string> {
  return map((f) => {
    const p = f.positions;
    let line = `frame ${f.index} natoms ${f.natoms}`;
    if (f.step !== undefined) line += ` step ${f.step}`;
    if (f.time !== undefined) line += ` time ${+f.time.toFixed(6)}`;
    return `${line} x0 ${fmt(p[0])} ${fmt(p[1])} ${fmt(p[2])}`;
  });
}

/** The built-in "count" pipeline: no line per frame, only the summary. */
export function countFrames(): OperatorFunction<Frame, undefined> {
  return map(() => undefined);
}
