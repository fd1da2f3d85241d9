// One line of `westream doctor`: what was checked, how it went, what to do.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** fail: westream cannot work here; warn: a feature falls back; info: optional, absent or found. */
export type Status = 'ok' | 'warn' | 'fail' | 'info';

export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
  /** What to do about a warning or failure. */
  hint?: string;
  /** Machine-readable facts (versions, paths, timings) for --json. */
  data?: Record<string, unknown>;
}

/** An executable on PATH (absolute path), as a shell would find it. */
export function which(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(':').filter(Boolean)) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Runs a short command for its output; `error` when it could not run or timed out. */
export function capture(command: string, args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string; error?: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  const error = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : r.error.message) : undefined;
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error };
}

/** The last non-empty line of a command's error output, for a one-line detail. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}
