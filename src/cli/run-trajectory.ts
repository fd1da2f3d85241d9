// `westream run --trajectory traj.xtc -- gmx mdrun ... -x traj.xtc`: an
// unmodified engine writes its ordinary trajectory into a file on tmpfs (or a
// named pipe) that westream created in a private directory; westream streams
// it while the engine runs and removes everything afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { native } from '../core/native.js';
import { lammpsUnitsError } from '../sources/imd/units.js';
import { fromTrajectory, trajectoryFormats, type TrajectoryFormat } from '../sources/trajectory.js';
import { EngineProcess, type EngineExit } from '../core/process-group.js';
import { startWatchdog, type Watchdog } from '../core/watchdog.js';
import { checkWritable } from '../westpa/return-files.js';
import type { Logger } from './logger.js';
import { PipelineRun } from './pipeline-run.js';
import { EXIT_STREAM_FAILED, failureStatus } from './run-outcome.js';
import { SignalForwarder } from './signals.js';
import { createPipelineOutput, type OutputOptions, type PipelineOutput } from './pipeline-output.js';

export interface RunTrajectoryOptions extends OutputOptions {
  pipeline: string;
  trajectory: string;
  keepTrajectory?: string;
  transport?: string; // 'tmpfs' | 'fifo'
  format?: string;
  tmpfsDir?: string;
  lammpsUnits?: string;
  killGrace: number; // seconds
}

const FORMAT_BY_EXT: Record<string, TrajectoryFormat> = {
  xtc: 'xtc',
  trr: 'trr',
  dcd: 'dcd',
  nc: 'netcdf',
  ncdf: 'netcdf',
  netcdf: 'netcdf',
  lammpstrj: 'lammpsdump',
  lammpsdump: 'lammpsdump',
  dump: 'lammpsdump',
};

// Formats whose writers seek (DCD header counts, NetCDF numrecs): no pipes.
const NEEDS_FILE: TrajectoryFormat[] = ['dcd', 'netcdf'];

/** Where private directories go: tmpfs when there is one. */
function privateParent(requested: string | undefined, log: Logger): string {
  if (requested) return requested;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK | fs.constants.X_OK);
    if (fs.statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no tmpfs
  }
  log.warn(`/dev/shm is not usable; the trajectory goes to ${os.tmpdir()} instead (give --tmpfs-dir to choose)`);
  return os.tmpdir();
}

/** Replaces the trajectory path in the command's arguments (VALUE, --opt=VALUE). */
export function substitute(args: string[], from: string, to: string): { args: string[]; count: number } {
  let count = 0;
  const out = args.map((a) => {
    if (a === from) {
      count++;
      return to;
    }
    const eq = a.indexOf('=');
    if (eq > 0 && a.slice(eq + 1) === from) {
      count++;
      return a.slice(0, eq + 1) + to;
    }
    return a;
  });
  return { args: out, count };
}

export async function runTrajectory(command: string[], options: RunTrajectoryOptions, log: Logger): Promise<number> {
  if (command.length === 0) {
    log.error('no command given: use `westream run --trajectory FILE [options] -- COMMAND [ARGS...]`');
    return 2;
  }
  let output: PipelineOutput;
  try {
    output = await createPipelineOutput(options, log);
  } catch (e) {
    log.error((e as Error).message); // a bad pipeline file, west.cfg or WESTPA environment
    return 2;
  }
  const pipeline = (f: Parameters<PipelineOutput['apply']>[0]) => output.apply(f);
  const name = path.basename(options.trajectory);
  let format = options.format as TrajectoryFormat | undefined;
  if (format !== undefined && !trajectoryFormats.includes(format)) {
    log.error(`unknown trajectory format "${format}": use ${trajectoryFormats.join(', ')}`);
    return 2;
  }
  format ??= FORMAT_BY_EXT[path.extname(name).slice(1).toLowerCase()];
  if (!format) {
    log.error(`cannot tell the format of ${name} from its extension: give --format (${trajectoryFormats.join(', ')})`);
    return 2;
  }
  const badUnits = options.lammpsUnits === undefined ? undefined : lammpsUnitsError(options.lammpsUnits);
  if (badUnits) {
    log.error(badUnits);
    return 2;
  }
  const transport = options.transport ?? 'tmpfs';
  if (transport !== 'tmpfs' && transport !== 'fifo') {
    log.error(`unknown transport "${transport}": use tmpfs or fifo`);
    return 2;
  }
  if (transport === 'fifo' && NEEDS_FILE.includes(format)) {
    log.error(`${format} writers seek back to rewrite their header, which a named pipe cannot do: use --transport tmpfs`);
    return 2;
  }
  const keep = options.keepTrajectory ? path.resolve(options.keepTrajectory) : undefined;
  if (keep) {
    try {
      checkWritable(keep, '--keep-trajectory');
    } catch (e) {
      log.error((e as Error).message);
      return 2;
    }
  }

  // The private directory, and the trajectory in it.
  const parent = privateParent(options.tmpfsDir, log);
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(parent, 'westream-'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message;
    log.error(`cannot create a private directory in ${parent}: ${why}; give --tmpfs-dir a writable directory (a tmpfs)`);
    return 2;
  }
  const file = path.join(dir, name);
  let leaveDir = false; // a trajectory that could not be kept stays where it is
  const removeDir = () => leaveDir || fs.rmSync(dir, { recursive: true, force: true });
  try {
    if (transport === 'fifo') (native() as unknown as { mkfifo(p: string, mode: number): void }).mkfifo(file, 0o600);
    else fs.writeFileSync(file, '', { mode: 0o644 });
  } catch (e) {
    removeDir();
    log.error(`cannot create ${file}: ${(e as Error).message}`);
    return 1;
  }

  const { args, count } = substitute(command.slice(1), options.trajectory, file);
  if (count === 0)
    log.warn(
      `the command line never mentions ${options.trajectory}: the engine must write its trajectory to $WESTREAM_TRAJECTORY (${file})`,
    );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WESTREAM_TRAJECTORY: file,
    // GROMACS would rename our file to a backup and write a new one.
    GMX_MAXBACKUP: '-1',
  };
  log.debug({ file, transport, format, substituted: count }, 'trajectory ready');

  // Subscribe before the engine starts: a pipe is then already open
  // read-write, so the engine's probing open() never blocks.
  let engine: EngineProcess | undefined;
  let resolveExit!: (e: unknown) => void;
  const engineDone = new Promise<unknown>((r) => (resolveExit = r));
  let natoms = 0;
  const frames$ = fromTrajectory(file, {
    format,
    follow: true,
    until: engineDone,
    fifoReadWrite: transport === 'fifo',
    tee: transport === 'fifo' ? keep : undefined,
    discardConsumed: transport === 'tmpfs' && !keep,
    lammpsUnits: options.lammpsUnits,
    onOpen: (info) => {
      natoms = info.natoms;
      log.debug({ ...info }, 'trajectory open');
    },
  });
  const run = new PipelineRun(frames$, pipeline);

  const signals = new SignalForwarder(command[0], log, () => engine?.stop(options.killGrace * 1000));
  // --keep-trajectory on tmpfs: copied once the engine is done, also after a
  // failure (best effort, for a post mortem); a failed copy fails a run that
  // succeeded and leaves the trajectory in place.
  let kept = !(keep && transport === 'tmpfs');
  const keepCopy = (): boolean => {
    if (kept) return true;
    kept = true;
    try {
      fs.copyFileSync(file, keep!);
      log.info(`kept the trajectory as ${keep}`);
      return true;
    } catch (e) {
      leaveDir = true;
      log.error(`cannot keep the trajectory as ${keep}: ${(e as Error).message}; it is left at ${file}`);
      return false;
    }
  };
  let watchdog: Watchdog | undefined;
  const cleanup = () => {
    signals.dispose();
    watchdog?.done();
    run.subscription.unsubscribe();
    keepCopy();
    removeDir();
  };

  try {
    try {
      engine = new EngineProcess(command[0], args, env);
      // Should this process be killed outright, the engine and the private directory go too.
      watchdog = startWatchdog(engine.pid, options.killGrace * 1000, [dir]);
    } catch (e) {
      log.error(`cannot start ${command[0]}: ${(e as Error).message}`);
      return 127;
    }
    let exit: EngineExit;
    let stoppedByUs = false;
    let streamErrorLogged = false;
    const first = await Promise.race([run.outcome, engine.exited.then(() => undefined, () => undefined)]);
    if (first && !first.ok) {
      // Corrupt data while the engine runs: stop it, there is no point going on.
      log.error(first.error.message);
      streamErrorLogged = true;
      if (engine.running) {
        log.warn(`stopping ${command[0]} (pid ${engine.pid}) because the stream failed`);
        stoppedByUs = true;
        engine.stop(options.killGrace * 1000);
      }
    }
    try {
      exit = await engine.exited;
    } catch (e) {
      log.error(`cannot start ${command[0]}: ${(e as Error).message}`);
      resolveExit(undefined);
      return 127;
    }
    // Everything the engine wrote is in the file now: drain it, then end.
    resolveExit(exit);
    const outcome = await run.outcome;
    const frames = run.frames;
    const failed = failureStatus(
      { command: command[0], exit, outcome, frames, received: signals.received, stoppedByUs, errorLogged: streamErrorLogged },
      output,
      log,
    );
    if (failed !== undefined) return failed;
    if (!keepCopy()) {
      output.finish(false);
      return EXIT_STREAM_FAILED;
    }
    try {
      output.finish(true);
    } catch (e) {
      log.error((e as Error).message);
      return EXIT_STREAM_FAILED;
    }
    const { fields, text } = run.summary(natoms, ` from ${name}`);
    log.info({ ...fields, format, transport }, text);
    return 0;
  } finally {
    cleanup();
  }
}
