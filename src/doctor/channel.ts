// A live round trip through a real channel: a producer process writes frames
// into shared memory and this process checks every one of them. It exercises
// what the channel needs from the machine at once: Unix sockets (path or
// abstract), SO_PEERCRED, memfd with seals, SCM_RIGHTS and eventfd.
import { spawn } from 'node:child_process';

import type { Frame } from '../core/frame.js';
import { ProcessGroup } from '../core/process-group.js';
import { fromChannel } from '../sources/channel.js';

export interface RoundTrip {
  frames: number;
  natoms: number;
  ms: number;
}

/**
 * Runs `command` with WESTREAM_ADDRESS set to a fresh channel and checks each
 * frame with `check(frame, index)` (a message when it is wrong). Rejects with
 * what went wrong: no connection, a producer failure, a bad frame, a timeout.
 */
export function roundTrip(
  command: string,
  args: string[],
  check: (frame: Frame, index: number) => string | undefined,
  options: { abstract?: boolean; timeoutMs?: number } = {},
): Promise<RoundTrip> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let natoms = 0;
    let frames = 0;
    let stderr = '';
    let settled = false;
    const frames$ = fromChannel({ abstract: options.abstract, onConnect: (info) => (natoms = info.natoms) });
    // Its own process group, killed as a whole: nothing it started outlives the check.
    const child = spawn(command, args, { env: { ...process.env, WESTREAM_ADDRESS: frames$.address }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const group = new ProcessGroup(child);
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription.unsubscribe();
      group.signalGroup('SIGKILL');
      if (error) reject(new Error(error));
      else resolve({ frames, natoms, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(`no complete stream within ${(options.timeoutMs ?? 30_000) / 1000} s (${frames} frames arrived)`), options.timeoutMs ?? 30_000);
    child.on('error', (e) => finish(`cannot start ${command}: ${e.message}`));
    // A connected producer cannot exit before its handshake set natoms; one
    // that never connects would otherwise leave us waiting for the timeout.
    child.on('exit', (code, signal) =>
      setImmediate(() => {
        const why = stderr ? `: ${stderr.trim().split('\n').pop()}` : '';
        if (code !== 0) finish(`${command} exited with ${code ?? signal} after ${frames} frames${why}`);
        else if (natoms === 0) finish(`${command} exited without connecting to the channel${why}`);
      }),
    );
    const subscription = frames$.subscribe({
      next: (frame) => {
        const wrong = check(frame, frames);
        if (wrong) finish(`frame ${frames}: ${wrong}`);
        frames++;
      },
      error: (e: Error) => finish(e.message),
      complete: () => finish(),
    });
  });
}
