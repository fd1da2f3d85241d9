// `westream run -- COMMAND`: run an engine with a private channel and stream its frames.
import path from 'node:path';

import { fromChannel } from '../sources/channel.js';
import { EngineProcess, describeExit, type EngineExit } from '../core/process-group.js';
import { startWatchdog } from '../core/watchdog.js';
import type { Logger } from './logger.js';
import { PipelineRun } from './pipeline-run.js';
import { failureStatus } from './run-outcome.js';
import { SignalForwarder } from './signals.js';
import { createPipelineOutput, type OutputOptions, type PipelineOutput } from './pipeline-output.js';

export interface RunOptions extends OutputOptions {
  pipeline: string;
  address?: string;
  abstract?: boolean;
  nslots?: number;
  expectAtoms?: number;
  killGrace: number; // seconds
}

export async function run(command: string[], options: RunOptions, log: Logger): Promise<number> {
  if (command.length === 0) {
    log.error('no command given: use `westream run [options] -- COMMAND [ARGS...]`');
    return 2;
  }
  let output: PipelineOutput;
  try {
    output = await createPipelineOutput(options, log);
  } catch (e) {
    // e.g. an invalid pipeline file (file:line:column: why), west.cfg or WESTPA environment
    log.error((e as Error).message);
    return 2;
  }
  const pipeline = (frames: Parameters<PipelineOutput['apply']>[0]) => output.apply(frames);
  let natoms = 0;
  let frames$: ReturnType<typeof fromChannel>;
  try {
    frames$ = fromChannel({
      address: options.address,
      abstract: options.abstract,
      nslots: options.nslots,
      expectAtoms: options.expectAtoms,
      onConnect: (info) => {
        natoms = info.natoms;
        log.debug({ ...info }, 'producer connected');
        if (info.copyReason) log.debug(`copying every frame: ${info.copyReason}`);
      },
      onWarning: (message) => log.warn(message),
    });
  } catch (e) {
    // a bad --address: a missing directory, too long, taken
    log.error(`cannot listen on the channel: ${(e as Error).message}`);
    return 2;
  }
  log.debug({ address: frames$.address }, 'channel listening');

  let engine: EngineProcess;
  try {
    engine = new EngineProcess(command[0], command.slice(1), { ...process.env, WESTREAM_ADDRESS: frames$.address });
  } catch (e) {
    frames$.close();
    log.error(`cannot start ${command[0]}: ${(e as Error).message}`);
    return 127;
  }

  const signals = new SignalForwarder(command[0], log, () => engine.stop(options.killGrace * 1000));
  // Should this process be killed outright, the engine and the channel's files go too.
  const socketFile = frames$.address.startsWith('@') ? undefined : frames$.address;
  const watchdog = startWatchdog(engine.pid, options.killGrace * 1000, socketFile ? [options.address ? socketFile : path.dirname(socketFile)] : []);

  // A segment's pcoord is written with its last row (SegmentOutput), checked
  // again when the stream completes, not after the engine exits (its
  // teardown can take long); discarded below if the engine then fails.
  const run = new PipelineRun(frames$, pipeline, () => output.finish(true));
  // A command that exits without ever connecting would leave us waiting.
  engine.exited.then(
    (exit) =>
      setImmediate(() => {
        if (natoms === 0)
          run.fail(
            new Error(
              `${command[0]} exited (${describeExit(exit)}) without connecting to the channel; ` +
                'it must open WESTREAM_ADDRESS with a westream producer (C library, Python package or OpenMM reporter)',
            ),
          );
      }),
    () => {},
  );

  let exit: EngineExit;
  let stoppedByUs = false;
  let streamErrorLogged = false;
  try {
    const outcome = await Promise.race([run.outcome, engine.exited.then(() => undefined)]);
    if (outcome && !outcome.ok) {
      log.error(outcome.error.message);
      streamErrorLogged = true;
      // A producer that crashed is usually the engine dying: give it a moment
      // so its own exit status is what we report; otherwise stop it.
      const exitedSoon = await Promise.race([
        engine.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 250).unref()),
      ]);
      if (!exitedSoon && engine.running) {
        log.warn(`stopping ${command[0]} (pid ${engine.pid}) because the stream failed`);
        stoppedByUs = true;
        engine.stop(options.killGrace * 1000);
      }
    }
    exit = await engine.exited;
  } catch (e) {
    frames$.close();
    cleanup();
    log.error(`cannot start ${command[0]}: ${(e as Error).message}`);
    return 127;
  }
  const outcome = await run.outcome;
  cleanup();
  const frames = run.frames;

  const failed = failureStatus(
    { command: command[0], exit, outcome, frames, received: signals.received, stoppedByUs, errorLogged: streamErrorLogged },
    output,
    log,
  );
  if (failed !== undefined) return failed;
  const { fields, text } = run.summary(natoms);
  log.info(fields, text);
  return 0;

  function cleanup() {
    signals.dispose();
    watchdog?.done();
  }
}
