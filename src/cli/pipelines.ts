// The built-in pipelines of `westream run` and `westream analyze` (until
// declarative YAML pipelines over src/analysis replace them).
import { map, type Observable } from 'rxjs';

import type { Frame } from '../core/frame.js';
import { formatRow, loadPipeline } from '../pipeline/load.js';
import { printFrame } from './print-pipeline.js';

export const builtinPipelines = ['print', 'count'] as const;

/** The pipeline called `name`: frames in, one output line per frame (or undefined) out. */
export function pipelineFor(name: string): (frames: Observable<Frame>) => Observable<string | undefined> {
  // A declarative pipeline file: one line of pcoord values per analysed frame.
  if (/\.ya?ml$/i.test(name)) {
    const declared = loadPipeline(name);
    return (frames) => frames.pipe(declared.operator, map((row) => formatRow(row.pcoord)));
  }
  switch (name) {
    case 'print':
      return (frames) => frames.pipe(printFrame());
    case 'count':
      return (frames) => frames.pipe(map(() => undefined));
    default:
      throw new Error(`unknown pipeline "${name}": built-in pipelines are "print" and "count"`);
  }
}
