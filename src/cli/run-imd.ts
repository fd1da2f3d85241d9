// `westream run --imd gromacs|lammps|namd -- ENGINE ...`: launch an engine
// that streams over IMD so that no port race is possible (src/launch), read
// its frames with fromImd, run the pipeline, and exit like `westream run`.
import {
  ImdLaunch,
  LaunchError,
  lammpsUnitsFromCommand,
  type ImdEngineName,
  type Isolation,
} from '../launch/index.js';
import { fromImd } from '../sources/imd/index.js';
import { LAMMPS_UNITS, lammpsUnitsError } from '../sources/imd/units.js';
import { exitStatus, type EngineExit } from '../core/process-group.js';
import type { Logger } from './logger.js';
import { PipelineRun } from './pipeline-run.js';
import { EXIT_STREAM_FAILED, failureStatus } from './run-outcome.js';
import { SignalForwarder } from './signals.js';
import { createPipelineOutput, type OutputOptions, type PipelineOutput } from './pipeline-output.js';

export interface RunImdOptions extends OutputOptions {
  pipeline: string;
  imd: string;
  imdIsolation?: string;
  imdEvery?: number;
  imdAttempts?: number;
  imdPortVariable?: string;
  imdFlowControl?: 'tcp' | 'pause';
  /** Shared with --trajectory: the LAMMPS `units` style (default: read from the input script). */
  lammpsUnits?: string;
  expectAtoms?: number;
  trajectory?: string;
  killGrace: number; // seconds
}

export async function runImd(command: string[], options: RunImdOptions, log: Logger): Promise<number> {
  if (command.length === 0) {
    log.error('no command given: use `westream run --imd ENGINE [options] -- COMMAND [ARGS...]`');
    return 2;
  }
  if (options.trajectory) {
    log.error('--imd and --trajectory exclude each other: the frames come either over IMD or from the trajectory file');
    return 2;
  }
  const engineName = options.imd as ImdEngineName;
  let output: PipelineOutput;
  try {
    output = await createPipelineOutput(options, log); // a bad pipeline file, west.cfg or WESTPA environment
  } catch (e) {
    log.error((e as Error).message);
    return 2;
  }
  const pipeline = (f: Parameters<PipelineOutput['apply']>[0]) => output.apply(f);

  // LAMMPS sends raw values in its `units` style: know it before starting.
  let lammpsUnits: string | undefined;
  if (engineName === 'lammps') {
    if (options.lammpsUnits !== undefined) {
      const bad = lammpsUnitsError(options.lammpsUnits);
      if (bad) {
        log.error(bad);
        return 2;
      }
      lammpsUnits = options.lammpsUnits;
    } else {
      const found = lammpsUnitsFromCommand(command);
      if (!found.units) {
        log.error(`cannot tell the LAMMPS units style: ${found.reason}; give --lammps-units (${Object.keys(LAMMPS_UNITS).join(', ')})`);
        return 2;
      }
      lammpsUnits = found.units;
      log.debug(`LAMMPS units style: ${lammpsUnits} (from the input script)`);
    }
  }

  let launch: ImdLaunch;
  try {
    launch = new ImdLaunch({
      engine: engineName,
      command,
      isolation: (options.imdIsolation ?? 'auto') as 'auto' | Isolation,
      attempts: options.imdAttempts,
      portVariable: options.imdPortVariable,
      log: { info: (m) => log.info(m), warn: (m) => log.warn(m), debug: (m) => log.debug(m) },
    });
  } catch (e) {
    log.error((e as Error).message);
    return 2;
  }

  // Signals from WESTPA or the batch system go to the engine's whole group,
  // during the start-up attempts too; we exit once it is gone.
  const signals = new SignalForwarder(command[0], log, () => launch.stop(options.killGrace * 1000));
  const cleanup = () => signals.dispose();

  const started = process.hrtime.bigint();
  try {
    const ready = await launch.start();
    log.debug({ ...ready }, `${launch.describe()} listens`);
  } catch (e) {
    cleanup();
    const err = e as LaunchError;
    const received = signals.received;
    if (received) {
      log.error(`stopped by ${received} before ${command[0]} listened for IMD`);
      return exitStatus({ code: null, signal: received });
    }
    log.error(err.message);
    output.finish(false);
    if (err.kind === 'start') return err.exit?.code === 126 ? 126 : 127;
    if (err.kind === 'usage' || err.kind === 'netns') return 2;
    if (err.exit && err.kind !== 'no-imd' && err.exit.code !== 0) return exitStatus(err.exit) || 1;
    return EXIT_STREAM_FAILED;
  }

  let natoms = 0;
  const frames$ = fromImd({
    connect: () => launch.connect(),
    engine: engineName,
    lammpsUnits,
    trate: options.imdEvery,
    expectAtoms: options.expectAtoms,
    flowControl: options.imdFlowControl,
    // GROMACS drops a client whose GO came late and waits for the next one.
    reconnects: engineName === 'gromacs' ? 3 : 0,
    label: launch.describe(),
    onSession: (s) => log.debug({ ...s }, 'IMD session'),
    onWarning: (m) => log.warn(m),
  });
  const run = new PipelineRun(frames$, pipeline, undefined, started);
  // natoms for the summary, from the source's counters.
  const natomsOf = () => frames$.stats?.natoms ?? natoms;

  let exit: EngineExit;
  let stoppedByUs = false;
  let streamErrorLogged = false;
  const outcome0 = await Promise.race([run.outcome, launch.exited.then(() => undefined)]);
  if (outcome0 && !outcome0.ok) {
    log.error(outcome0.error.message);
    streamErrorLogged = true;
    // A stream that broke is usually the engine dying: give it a moment so
    // its own exit status is what we report; otherwise stop it.
    const exitedSoon = await Promise.race([
      launch.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 250).unref()),
    ]);
    if (!exitedSoon && launch.engine?.running) {
      log.warn(`stopping ${command[0]} (pid ${launch.engine.enginePid}) because the stream failed`);
      stoppedByUs = true;
      launch.stop(options.killGrace * 1000);
    }
  } else if (outcome0?.ok && launch.engine?.running) {
    // The stream ended; the engine closes its socket when it exits, so it
    // should follow at once. A pipeline that finished early does not stop it.
    log.debug('stream complete; waiting for the engine to exit');
  }
  exit = await launch.exited.catch(() => ({ code: 127, signal: null }) as EngineExit);
  const outcome = await run.outcome;
  run.subscription.unsubscribe();
  cleanup();
  natoms = natomsOf();
  const frames = run.frames;

  const failed = failureStatus(
    { command: command[0], exit, outcome, frames, received: signals.received, stoppedByUs, errorLogged: streamErrorLogged },
    output,
    log,
  );
  if (failed !== undefined) return failed;
  if (frames === 0) {
    output.finish(false);
    log.error(`${command[0]} ended its IMD session without sending a frame`);
    return EXIT_STREAM_FAILED;
  }
  try {
    output.finish(true);
  } catch (e) {
    log.error((e as Error).message);
    return EXIT_STREAM_FAILED;
  }
  const stats = frames$.stats;
  const { fields, text } = run.summary(natoms);
  log.info(
    {
      ...fields,
      imd: { engine: engineName, version: stats?.version, isolation: launch.isolation, port: launch.port, bytes: stats?.bytes, pauses: stats?.pauses },
    },
    text,
  );
  return 0;
}
