// `westream pcoord`: the pcoord of one structure (WESTPA's get_pcoord for
// basis and initial states), through the same pipeline file as the segments.
import fs from 'node:fs';

import { loadPipeline } from '../pipeline/index.js';
import { checkWritable, clearReturnFile, writeRows } from '../westpa/return-files.js';
import { structureRow } from '../westpa/structure-pcoord.js';
import { findWestConfig, readWestConfig } from '../westpa/west-config.js';
import type { Logger } from './logger.js';

export interface PcoordOptions {
  pipeline: string;
  structure: string;
  out?: string;
  westCfg?: string;
}

/** Writes one row: to --out, else WEST_PCOORD_RETURN, else stdout. Returns the exit status. */
export function pcoord(options: PcoordOptions, log: Logger): number {
  const target = options.out ?? process.env.WEST_PCOORD_RETURN;
  try {
    if (target && target !== '-') checkWritable(target, options.out ? '--out' : 'WEST_PCOORD_RETURN');
    const pipeline = loadPipeline(options.pipeline);
    const row = structureRow(options.structure, pipeline);
    const cfg = findWestConfig(options.westCfg);
    if (cfg) {
      const { pcoordNdim } = readWestConfig(cfg);
      if (pcoordNdim !== row.pcoord.length) {
        throw new Error(`${cfg} says pcoord_ndim ${pcoordNdim}, but ${options.pipeline} computes ${row.pcoord.length} value(s)`);
      }
    }
    if (target && target !== '-') writeRows(target, [row.pcoord]);
    else process.stdout.write(Array.from(row.pcoord).join(' ') + '\n');
    for (const [name, values] of Object.entries(row.aux)) {
      const file = process.env[`WEST_${name.toUpperCase()}_RETURN`];
      if (file) writeRows(file, [values]);
    }
    log.debug({ pcoord: Array.from(row.pcoord) }, `pcoord of ${options.structure}`);
    return 0;
  } catch (e) {
    if (target && target !== '-' && fs.existsSync(target) && fs.statSync(target).isFile()) clearReturnFile(target);
    log.error((e as Error).message);
    return 1;
  }
}
