// `westream analyze TRAJ --pipeline ...`: the same pipeline over a finished
// trajectory file.
import fs from 'node:fs';

import { defaultIfEmpty, lastValueFrom, tap } from 'rxjs';

import { lammpsUnitsError } from '../sources/imd/units.js';
import { fromTrajectory, TrajectoryError, type TrajectoryFormat } from '../sources/trajectory.js';
import { readTopology } from '../topology/index.js';
import type { Logger } from './logger.js';
import { pipelineFor } from './pipelines.js';

export interface AnalyzeOptions {
  pipeline: string;
  topology?: string;
  format?: TrajectoryFormat;
  lammpsUnits?: string;
  follow?: boolean;
  /** Seconds between progress lines on a long file (0: none). */
  progress?: number;
}

/** Exit status for an unreadable trajectory. */
export const EXIT_BAD_TRAJECTORY = 1;

export async function analyze(trajectory: string, options: AnalyzeOptions, log: Logger): Promise<number> {
  let pipeline;
  try {
    pipeline = await pipelineFor(options.pipeline);
  } catch (e) {
    log.error((e as Error).message);
    return 2;
  }
  const badUnits = options.lammpsUnits === undefined ? undefined : lammpsUnitsError(options.lammpsUnits);
  if (badUnits) {
    log.error(badUnits);
    return 2;
  }
  // A topology must describe the trajectory's atoms (pipeline files name their own).
  let topologyAtoms: number | undefined;
  if (options.topology) {
    if (!fs.existsSync(options.topology)) {
      log.error(`topology ${options.topology} does not exist`);
      return 2;
    }
    try {
      topologyAtoms = readTopology(options.topology).natoms;
    } catch (e) {
      log.error((e as Error).message);
      return 2;
    }
  }
  let frames = 0;
  let natoms = 0;
  const started = process.hrtime.bigint();
  const frames$ = fromTrajectory(trajectory, {
    format: options.format,
    follow: options.follow,
    lammpsUnits: options.lammpsUnits,
    onProgress: progressReporter(trajectory, options, log),
    onOpen: (info) => {
      natoms = info.natoms;
      log.debug({ ...info }, 'trajectory open');
      if (topologyAtoms !== undefined && topologyAtoms !== info.natoms)
        throw new TrajectoryError(`${trajectory} has ${info.natoms} atoms, the topology ${options.topology} ${topologyAtoms}`);
    },
  });
  try {
    await lastValueFrom(
      pipeline(frames$).pipe(
        tap((line) => {
          frames++;
          if (line !== undefined) process.stdout.write(line + '\n');
        }),
        defaultIfEmpty(undefined),
      ),
    );
  } catch (e) {
    log.error((e as Error).message);
    return EXIT_BAD_TRAJECTORY;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log.info(
    { frames, natoms, seconds: +seconds.toFixed(3), framesPerSecond: +(frames / seconds).toFixed(1) },
    `analyzed ${frames} frames of ${natoms} atoms in ${seconds.toFixed(3)} s`,
  );
  return 0;
}

/**
 * Progress lines for a long, finished file: every `options.progress` seconds,
 * frames so far, the share of the file decoded and the rate.
 */
function progressReporter(trajectory: string, options: AnalyzeOptions, log: Logger) {
  const every = (options.progress ?? 5) * 1000;
  let size = 0;
  try {
    const st = fs.statSync(trajectory);
    if (st.isFile()) size = st.size;
  } catch {
    // the reader reports a missing file
  }
  if (every <= 0 || size === 0 || options.follow) return undefined;
  const t0 = performance.now();
  let next = t0 + every;
  return ({ frames, bytes }: { frames: number; bytes: number }) => {
    const now = performance.now();
    if (now < next) return;
    next = now + every;
    const percent = (100 * bytes) / size;
    log.info(
      { frames, percent: +percent.toFixed(1), framesPerSecond: +((1000 * frames) / (now - t0)).toFixed(1) },
      `analyzing ${trajectory}: ${frames} frames, ${percent.toFixed(0)} % of the file, ${((1000 * frames) / (now - t0)).toFixed(0)} frames/s`,
    );
  };
}
