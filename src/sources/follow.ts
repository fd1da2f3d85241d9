// Helpers of fromTrajectory's follow mode: when to look for new data, and
// when the writer is done.
import fs from 'node:fs';

import { isObservable, type Observable } from 'rxjs';

/** Something that says the writer is done: a promise, an observable (first value or completion), or a process id. */
export type Until = PromiseLike<unknown> | Observable<unknown> | { pid: number };

/** True while `pid` runs (a zombie counts as gone: it writes nothing more). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may contain ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * Calls `done` once when `until` fires (resolves, rejects, emits, completes,
 * errors, or the process exits). Returns a function that cancels the wait.
 */
export function onUntil(until: Until, done: () => void, pidPollMs = 50): () => void {
  let fired = false;
  const fire = () => {
    if (!fired) {
      fired = true;
      done();
    }
  };
  if (isObservable(until)) {
    const sub = until.subscribe({ next: fire, error: fire, complete: fire });
    return () => {
      fired = true;
      sub.unsubscribe();
    };
  }
  if (typeof (until as PromiseLike<unknown>).then === 'function') {
    (until as PromiseLike<unknown>).then(fire, fire);
    return () => {
      fired = true;
    };
  }
  const pid = (until as { pid: number }).pid;
  if (!Number.isInteger(pid) || pid <= 0) throw new TypeError(`until.pid must be a process id, got ${pid}`);
  const timer = setInterval(() => {
    if (!processAlive(pid)) {
      clearInterval(timer);
      fire();
    }
  }, pidPollMs);
  return () => {
    fired = true;
    clearInterval(timer);
  };
}
