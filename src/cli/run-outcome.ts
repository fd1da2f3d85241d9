// How a `westream run` ends, the same for every mode: a signal, the
// engine's own failure, or an incomplete stream, each with its exit status
// and with the WESTPA return files emptied.
import { describeExit, exitStatus, type EngineExit } from '../core/process-group.js';
import type { Logger } from './logger.js';
import type { PipelineOutput } from './pipeline-output.js';

/** Exit status when the stream failed while the command itself succeeded. */
export const EXIT_STREAM_FAILED = 3;

export type Outcome = { ok: true; frames: number } | { ok: false; error: Error };

export interface Ending {
  command: string;
  exit: EngineExit;
  outcome: Outcome;
  frames: number;
  /** The signal forwarded to the engine, if one came. */
  received?: NodeJS.Signals;
  /** We stopped the engine ourselves (after the stream failed): its status is not its fault. */
  stoppedByUs: boolean;
  /** The stream's error was logged already, when it happened. */
  errorLogged: boolean;
}

/** The exit status of a failed run (after logging why), or undefined when it succeeded. */
export function failureStatus(e: Ending, output: PipelineOutput, log: Logger): number | undefined {
  if (!e.outcome.ok && !e.errorLogged) log.error(e.outcome.error.message);
  const engineFailed = e.exit.code !== 0 && !e.stoppedByUs;
  if (!e.received && !engineFailed && e.outcome.ok) return undefined;
  output.finish(false);
  if (e.received) {
    log.error(`stopped by ${e.received} after ${e.frames} frames`);
    return exitStatus({ code: null, signal: e.received });
  }
  if (engineFailed) {
    log.error(`${e.command} failed with ${describeExit(e.exit)} after ${e.frames} frames`);
    return exitStatus(e.exit) || 1;
  }
  return EXIT_STREAM_FAILED;
}
