// Where a run's pipeline output goes: lines on stdout, or, inside a WESTPA
// segment (WEST_PCOORD_RETURN set), the segment's pcoord and auxiliary
// return files (segment-output.ts, loaded only then).
import type { Observable } from 'rxjs';

import type { Frame } from '../core/frame.js';
import type { Logger } from './logger.js';
import { pipelineFor } from './pipelines.js';

export interface OutputOptions {
  pipeline: string;
  /** west.cfg to read pcoord_len / pcoord_ndim from (default: $WEST_SIM_ROOT/west.cfg). */
  westCfg?: string;
  pcoordLen?: number;
  /** A structure whose pcoord is row 0, for engines that do not stream their start point. */
  start?: string;
}

export interface PipelineOutput {
  /** Frames in, lines to print (or undefined) out. */
  apply(frames: Observable<Frame>): Observable<string | undefined>;
  /** After the stream: write the segment's files if it succeeded, clear them if not. Throws on a bad shape. */
  finish(ok: boolean): void;
}

/** True when this process runs as a WESTPA propagator with a declarative pipeline. */
export function isWestpaSegment(pipeline: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return /\.ya?ml$/i.test(pipeline) && !!env.WEST_PCOORD_RETURN;
}

/** Rejects (before the engine starts) on a bad pipeline file, west.cfg or environment. */
export async function createPipelineOutput(options: OutputOptions, log: Logger): Promise<PipelineOutput> {
  if (!isWestpaSegment(options.pipeline)) {
    if (process.env.WEST_PCOORD_RETURN) {
      log.warn(`WEST_PCOORD_RETURN is set but --pipeline "${options.pipeline}" is not a pipeline file (.yaml): no pcoord will be written`);
    }
    if (options.start) log.warn(`--start ${options.start} is ignored: it gives row 0 of a WESTPA segment's pcoord (WEST_PCOORD_RETURN and a pipeline file)`);
    return { apply: await pipelineFor(options.pipeline), finish: () => {} };
  }
  const { SegmentOutput } = await import('./segment-output.js');
  return new SegmentOutput(options, log);
}
