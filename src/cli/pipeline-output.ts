// Where a run's pipeline output goes: lines on stdout, or, inside a WESTPA
// segment (WEST_PCOORD_RETURN set), the segment's pcoord and auxiliary
// return files, written only once the whole stream is known to be complete.
import { map, tap, type Observable } from 'rxjs';

import type { Frame } from '../core/frame.js';
import { formatRow, loadPipeline, type PcoordRow, type Pipeline } from '../pipeline/index.js';
import { readSegmentEnv, segmentName, type SegmentEnv } from '../westpa/segment-env.js';
import {
  auxTargets,
  discardSegmentResult,
  segmentShape,
  writeSegmentResult,
  type AuxTarget,
  type SegmentShape,
} from '../westpa/segment-result.js';
import { structureRow } from '../westpa/structure-pcoord.js';
import { findWestConfig, readWestConfig } from '../westpa/west-config.js';
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

/** Throws (before the engine starts) on a bad pipeline file, west.cfg or environment. */
export function createPipelineOutput(options: OutputOptions, log: Logger): PipelineOutput {
  if (!isWestpaSegment(options.pipeline)) {
    if (process.env.WEST_PCOORD_RETURN) {
      log.warn(`WEST_PCOORD_RETURN is set but --pipeline "${options.pipeline}" is not a pipeline file (.yaml): no pcoord will be written`);
    }
    return { apply: pipelineFor(options.pipeline), finish: () => {} };
  }
  return new SegmentOutput(options, log);
}

/** Everything a WESTPA segment's output needs, checked before the engine starts. */
export interface SegmentPlan {
  env: SegmentEnv;
  pipeline: Pipeline;
  shape: SegmentShape;
  aux: AuxTarget[];
}

export function planSegment(options: OutputOptions, log: Logger): SegmentPlan {
  const env = readSegmentEnv();
  const pipeline = loadPipeline(options.pipeline);
  const cfgFile = findWestConfig(options.westCfg);
  const config = cfgFile ? readWestConfig(cfgFile) : undefined;
  const shape = segmentShape(config, { pcoordLen: options.pcoordLen }, pipeline.pcoordLabels.length);
  const { targets, unused } = auxTargets(env, config, pipeline.aux);
  if (unused.length) log.debug(`pipeline datasets not requested by WESTPA: ${unused.join(', ')}`);
  return { env, pipeline, shape, aux: targets };
}

/** The pipeline's rows for one WESTPA segment. */
class SegmentOutput implements PipelineOutput {
  private readonly env: SegmentEnv;
  private readonly pipeline: Pipeline;
  private readonly shape: SegmentShape;
  private readonly aux: AuxTarget[];
  private readonly rows: PcoordRow[] = [];
  private lastRowAt = 0;

  constructor(
    options: OutputOptions,
    private readonly log: Logger,
  ) {
    ({ env: this.env, pipeline: this.pipeline, shape: this.shape, aux: this.aux } = planSegment(options, log));
    if (options.start) this.rows.push(structureRow(options.start, this.pipeline));
  }

  apply(frames: Observable<Frame>): Observable<string | undefined> {
    return frames.pipe(
      this.pipeline.operator,
      tap((row) => {
        this.rows.push(row);
        this.lastRowAt = performance.now();
      }),
      map((row) => formatRow(row.pcoord)),
    );
  }

  finish(ok: boolean): void {
    if (!ok) {
      discardSegmentResult(this.env, this.aux);
      return;
    }
    writeSegmentResult(this.env, this.shape, this.rows, this.aux);
    this.log.info(
      { rows: this.rows.length, msAfterLastFrame: +(performance.now() - this.lastRowAt).toFixed(3) },
      `${segmentName(this.env)}: wrote ${this.rows.length} pcoord rows` +
        (this.aux.length ? ` and ${this.aux.map((a) => a.name).join(', ')}` : ''),
    );
  }
}
