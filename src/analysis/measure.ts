// Measure: a per-frame computation that is both an RxJS operator and a
// building block of a pcoord row.
import { map, type Observable, type OperatorFunction } from 'rxjs';

import type { Frame } from '../core/frame.js';

/**
 * A value computed from one frame. A Measure is an RxJS operator
 * (`frames.pipe(distance(na, cl))`) and also exposes `compute(frame)` so that
 * `row()` can evaluate several measures on the same frame without splitting
 * the stream. `compute` runs synchronously while the frame is valid.
 */
export interface Measure<T> extends OperatorFunction<Frame, T> {
  /** The value for one frame. */
  readonly compute: (frame: Frame) => T;
  /** Column labels, one per number the measure contributes to a row. */
  readonly labels: readonly string[];
}

/** Wraps a per-frame function as a Measure (and so as an operator). */
export function measure<T extends number | ArrayLike<number>>(compute: (frame: Frame) => T, labels: string | readonly string[]): Measure<T> {
  const op = ((source: Observable<Frame>) => source.pipe(map(compute))) as Measure<T>;
  Object.defineProperty(op, 'compute', { value: compute, enumerable: true });
  Object.defineProperty(op, 'labels', { value: typeof labels === 'string' ? [labels] : [...labels], enumerable: true });
  return op;
}
