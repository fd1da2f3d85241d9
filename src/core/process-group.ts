// A child that leads its own process group (spawned detached), so that
// signals reach everything it started and nothing it started outlives
// westream. Engines run this way, directly or under their supervisor.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** The signals that end a run (WESTPA, the batch system, a terminal): each mode stops its engine group on them. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ProcessGroup {
  /** Resolves with the leader's exit; rejects when it could not start. */
  readonly exited: Promise<EngineExit>;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  /** `child` must have been spawned with `detached: true` (it leads a new group). */
  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve, reject) => {
      child.once('error', (err) => {
        this.done = true;
        this.onError(err);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        this.done = true;
        clearTimeout(this.killTimer);
        // Leftovers of the group (helpers the engine started) go too.
        this.signalGroup('SIGTERM');
        this.onExit({ code, signal });
        resolve({ code, signal });
      });
    });
    this.exited.catch(() => {});
  }

  /** The leader's pid = the process group's id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done && this.child.pid !== undefined;
  }

  /** Sends `signal` to the whole process group; false if it is gone. */
  signalGroup(signal: NodeJS.Signals): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM the group, then SIGKILL after `graceMs` if the leader still runs. */
  stop(graceMs: number): void {
    if (!this.running) return;
    this.signalGroup('SIGTERM');
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    this.killTimer.unref();
  }

  /** Subclasses: the leader could not be started. */
  protected onError(_err: Error): void {}

  /** Subclasses: the leader exited (the group was just sent SIGTERM). */
  protected onExit(_exit: EngineExit): void {}
}

/** An engine command run directly, output inherited, leading its own group (and session). */
export class EngineProcess extends ProcessGroup {
  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    super(spawn(command, args, { stdio: 'inherit', detached: true, env }));
  }
}

/** Shell-style exit status for a child's exit. */
export function exitStatus(exit: EngineExit): number {
  if (exit.code !== null) return exit.code;
  const n = exit.signal ? constants.signals[exit.signal] : undefined;
  return 128 + (n ?? 1);
}

export function describeExit(exit: EngineExit): string {
  return exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}
