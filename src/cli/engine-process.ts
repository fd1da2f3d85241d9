// The engine command as a child in its own process group, so that signals
// reach everything it started and nothing it started outlives westream.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class EngineProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<EngineExit>;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    // detached: the child leads a new process group (and session).
    this.child = spawn(command, args, { stdio: 'inherit', detached: true, env });
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (err) => {
        this.done = true;
        reject(err);
      });
      this.child.once('exit', (code, signal) => {
        this.done = true;
        clearTimeout(this.killTimer);
        // Leftovers of the group (background helpers of the engine) go too.
        this.signalGroup('SIGTERM');
        resolve({ code, signal });
      });
    });
    this.exited.catch(() => {});
  }

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
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    this.killTimer.unref();
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
