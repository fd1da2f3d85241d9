// A WESTPA segment's output (WEST_PCOORD_RETURN set, a pipeline file): the
// pcoord and auxiliary return files, written as soon as the last row
// west.cfg asks for is computed, emptied again if the run then fails.
import fs from 'node:fs';

import { map, tap, type Observable } from 'rxjs';

import type { Frame } from '../core/frame.js';
import { formatRow, loadPipeline, type PcoordRow, type Pipeline } from '../pipeline/index.js';
import { checkWritable } from '../westpa/return-files.js';
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
import type { OutputOptions, PipelineOutput } from './pipeline-output.js';

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
  checkWritable(env.pcoordReturn, 'WEST_PCOORD_RETURN');
  for (const t of targets) checkWritable(t.file, `WEST_${t.name.toUpperCase()}_RETURN`);
  return { env, pipeline, shape, aux: targets };
}

/**
 * The pipeline's rows for one WESTPA segment. They are written the moment
 * the last row west.cfg asks for is computed, not when the engine ends the
 * stream after it: WESTPA reads the files only once the propagator exits,
 * and every failure after the write (another frame, no end of stream, the
 * engine failing) empties them again (finish(false)).
 */
export class SegmentOutput implements PipelineOutput {
  private readonly env: SegmentEnv;
  private readonly pipeline: Pipeline;
  private readonly shape: SegmentShape;
  private readonly aux: AuxTarget[];
  private readonly rows: PcoordRow[] = [];
  private lastRowAt = 0;
  private written = false;

  constructor(
    options: OutputOptions,
    private readonly log: Logger,
  ) {
    ({ env: this.env, pipeline: this.pipeline, shape: this.shape, aux: this.aux } = planSegment(options, log));
    if (options.start) this.rows.push(structureRow(options.start, this.pipeline));
    // While the engine starts (this runs right after it is spawned), go once
    // through the write path into /dev/null, so writing the real rows after
    // the last frame does not also compile it.
    setImmediate(() => {
      const rows = Array.from({ length: this.shape.pcoordLen }, (_, index) => ({ index, pcoord: new Float64Array(this.shape.pcoordNdim), aux: {} }));
      try {
        if (fs.statSync('/dev/null').isCharacterDevice()) writeSegmentResult({ ...this.env, pcoordReturn: '/dev/null' }, this.shape, rows, []);
      } catch {
        // only a warm-up
      }
    });
  }

  apply(frames: Observable<Frame>): Observable<string | undefined> {
    return frames.pipe(
      this.pipeline.operator,
      tap((row) => {
        this.rows.push(row);
        this.lastRowAt = performance.now();
        if (this.rows.length === this.shape.pcoordLen) this.write();
        else if (this.written) this.clear(); // a frame too many: finish() says so
      }),
      map((row) => formatRow(row.pcoord)),
    );
  }

  finish(ok: boolean): void {
    if (!ok) {
      this.clear();
      return;
    }
    if (!this.written) this.write(); // throws on a wrong row count, the files emptied
  }

  private clear(): void {
    discardSegmentResult(this.env, this.aux);
    this.written = false;
  }

  private write(): void {
    writeSegmentResult(this.env, this.shape, this.rows, this.aux);
    this.written = true;
    this.log.info(
      { rows: this.rows.length, msAfterLastFrame: +(performance.now() - this.lastRowAt).toFixed(3) },
      `${segmentName(this.env)}: wrote ${this.rows.length} pcoord rows` +
        (this.aux.length ? ` and ${this.aux.map((a) => a.name).join(', ')}` : ''),
    );
  }
}
