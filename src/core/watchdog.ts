// Beside every engine westream runs directly: westream-watchdog (a tiny C
// process, native/tools/watchdog.c) that stops the engine's process group and
// removes westream's private files if westream itself is killed (SIGKILL,
// the OOM killer), when nothing in this process can run any more. It learns
// of the death by its stdin pipe closing without "done".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { buildDir } from './native.js';

export interface Watchdog {
  /** westream is finishing normally: the watchdog exits without doing anything. */
  done(): void;
}

const binary = path.join(buildDir, 'westream-watchdog');

/**
 * Watches over the process group `pgid` (an engine leading its own group):
 * if this process dies first, the group gets SIGTERM, SIGKILL after
 * `graceMs`, and `paths` are removed. Undefined when the watchdog was not
 * built (a node-gyp build); then nothing guards against a SIGKILL.
 */
export function startWatchdog(pgid: number | undefined, graceMs: number, paths: string[]): Watchdog | undefined {
  if (pgid === undefined || !fs.existsSync(binary)) return undefined;
  // Its own session: a Ctrl-C for westream and the engine is not for it.
  const child = spawn(binary, [String(pgid), String(Math.round(graceMs)), ...paths], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return {
    done() {
      child.stdin!.end('done\n');
    },
  };
}
