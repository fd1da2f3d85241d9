// The pipelines of `westream run` and `westream analyze`: the built-in ones
// and declarative YAML files. Nothing is loaded until a pipeline is chosen:
// a pipeline file brings the YAML parser, topologies and analysis kernels,
// which a run with a built-in pipeline never needs.
import type { Observable } from 'rxjs';

import type { Frame } from '../core/frame.js';

export const builtinPipelines = ['print', 'count'] as const;

/** Frames in, one output line per frame (or undefined) out. */
export type LinePipeline = (frames: Observable<Frame>) => Observable<string | undefined>;

/** The pipeline called `name`. Rejects on an unknown name or a bad pipeline file. */
export async function pipelineFor(name: string): Promise<LinePipeline> {
  // A declarative pipeline file: one line of pcoord values per analysed frame.
  if (/\.ya?ml$/i.test(name)) {
    const { formatRow, loadPipeline } = await import('../pipeline/load.js');
    const { map } = await import('rxjs');
    const declared = loadPipeline(name);
    return (frames) => frames.pipe(declared.operator, map((row) => formatRow(row.pcoord)));
  }
  if (!(builtinPipelines as readonly string[]).includes(name)) {
    throw new Error(`unknown pipeline "${name}": built-in pipelines are "print" and "count"`);
  }
  const { countFrames, printFrame } = await import('./print-pipeline.js');
  return name === 'print' ? (frames) => frames.pipe(printFrame()) : (frames) => frames.pipe(countFrames());
}
