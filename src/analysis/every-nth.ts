// `everyNth(n)`: thin a stream.
import { filter, type MonoTypeOperatorFunction } from 'rxjs';

import type { Frame } from '../core/frame.js';

/**
 * Keeps every n-th frame of the stream, starting with the first (offset 0),
 * or with the `offset`-th. Frames pass through untouched (no copy).
 *
 * @example frames.pipe(everyNth(10), radiusOfGyration(protein))
 */
export function everyNth(n: number, offset = 0): MonoTypeOperatorFunction<Frame> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`everyNth: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(offset) || offset < 0 || offset >= n) throw new Error(`everyNth: offset must be an integer in [0, ${n - 1}], got ${offset}`);
  return filter((_f: Frame, i: number) => i % n === offset);
}
