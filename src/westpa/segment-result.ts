// A segment's pcoord and auxiliary rows, checked against west.cfg and written
// where WESTPA reads them (reference: westpa-contract.md §3, §5).
import fs from 'node:fs';

import type { PcoordRow } from '../pipeline/index.js';
import { writeNpy } from './npy.js';
import { checkPcoordShape, clearReturnFile, PcoordShapeError, writeRows } from './return-files.js';
import { segmentName, type SegmentEnv } from './segment-env.js';
import type { WestConfig } from './west-config.js';

export interface SegmentShape {
  pcoordLen: number;
  pcoordNdim: number;
  /** Where these numbers came from, for error messages. */
  source: string;
}

/** pcoord_len / pcoord_ndim from west.cfg, or from the command line. */
export function segmentShape(config: WestConfig | undefined, overrides: { pcoordLen?: number }, pipelineNdim: number): SegmentShape {
  if (overrides.pcoordLen) return { pcoordLen: overrides.pcoordLen, pcoordNdim: config?.pcoordNdim ?? pipelineNdim, source: '--pcoord-len' };
  if (config) {
    if (config.pcoordNdim !== pipelineNdim) {
      throw new PcoordShapeError(
        `${config.file} says pcoord_ndim ${config.pcoordNdim}, but the pipeline computes ${pipelineNdim} value(s) per frame`,
      );
    }
    return { pcoordLen: config.pcoordLen, pcoordNdim: config.pcoordNdim, source: config.file };
  }
  throw new PcoordShapeError(
    'cannot tell how many pcoord rows WESTPA expects: no west.cfg in WEST_SIM_ROOT or the current directory; pass --west-cfg FILE or --pcoord-len N',
  );
}

/** Which aux datasets go where: pipeline aux name → WEST_<NAME>_RETURN file and loader. */
export interface AuxTarget {
  name: string;
  file: string;
  loader: string;
}

/**
 * Matches the pipeline's auxiliary datasets with the datasets WESTPA
 * enabled. A dataset WESTPA expects that the pipeline does not compute is an
 * error (WESTPA would fail on the empty file later, with a worse message).
 */
export function auxTargets(env: SegmentEnv, config: WestConfig | undefined, pipelineAux: { name: string }[]): { targets: AuxTarget[]; unused: string[] } {
  const computed = new Map(pipelineAux.map((a) => [a.name.toLowerCase(), a.name]));
  const targets: AuxTarget[] = [];
  for (const [lower, file] of env.auxReturns) {
    const name = computed.get(lower);
    const loader = config?.datasets.find((d) => d.name.toLowerCase() === lower)?.loader ?? 'default';
    if (!name) {
      throw new PcoordShapeError(
        `WESTPA expects dataset "${lower}" (WEST_${lower.toUpperCase()}_RETURN), but the pipeline computes ` +
          (pipelineAux.length ? `only ${pipelineAux.map((a) => a.name).join(', ')}` : 'no auxiliary datasets') +
          ': add it under "aux:" in the pipeline file or disable it in west.cfg',
      );
    }
    targets.push({ name, file, loader });
  }
  const unused = pipelineAux.map((a) => a.name).filter((n) => !targets.some((t) => t.name === n));
  return { targets, unused };
}

/** Writes a finished segment's rows; on any error nothing readable is left behind. */
export function writeSegmentResult(env: SegmentEnv, shape: SegmentShape, rows: PcoordRow[], aux: AuxTarget[]): void {
  const context = segmentName(env);
  try {
    const pcoord = rows.map((r) => r.pcoord);
    checkPcoordShape(pcoord, shape.pcoordLen, shape.pcoordNdim, context, shape.source === '--pcoord-len' ? '--pcoord-len' : undefined);
    for (const a of aux) {
      const values = rows.map((r) => r.aux[a.name]);
      if (a.loader === 'npy_loader' || a.loader === 'numpy_loader') writeNpy(a.file, values);
      else if (a.loader === 'default' || a.loader === 'aux_data_loader') writeRows(a.file, values);
      else throw new PcoordShapeError(`${context}: dataset "${a.name}" uses loader "${a.loader}", which westream cannot write; use default or npy_loader`);
    }
    writeRows(env.pcoordReturn, pcoord);
  } catch (e) {
    discardSegmentResult(env, aux);
    throw e;
  }
}

/** Empties every return file of the segment (after a failure). */
export function discardSegmentResult(env: SegmentEnv, aux: AuxTarget[] = []): void {
  clearReturnFile(env.pcoordReturn);
  for (const a of aux) if (fs.existsSync(a.file)) clearReturnFile(a.file);
}
