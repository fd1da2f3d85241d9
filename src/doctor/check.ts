// One line of `westream doctor`: what was checked, how it went, what to do.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ProcessGroup, STOP_SIGNALS } from '../core/process-group.js';

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

export interface Captured {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Could not start, or timed out. */
  error?: string;
}

/** Output kept per stream; a probe prints a few kB. */
const CAPTURE_LIMIT = 1 << 20;

/**
 * Runs a short command for its output; `error` when it could not run or
 * timed out. The command runs in a process group of its own, and the whole
 * group is killed when it times out or once the command has exited: a
 * wrapper script's children (a `sleep` in a hanging "python") go with it.
 * If doctor itself is interrupted meanwhile, the group is killed first.
 */
export function capture(command: string, args: string[], timeoutMs = 30_000): Promise<Captured> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ status: null, signal: null, stdout: '', stderr: '', error: (e as Error).message });
      return;
    }
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const sizes = { stdout: 0, stderr: 0 };
    for (const name of ['stdout', 'stderr'] as const) {
      child[name]!.on('data', (d: Buffer) => {
        if (sizes[name] >= CAPTURE_LIMIT) return;
        out[name].push(d.subarray(0, CAPTURE_LIMIT - sizes[name]));
        sizes[name] += d.length;
      });
    }
    let error: string | undefined;
    let settled = false;
    const group = new ProcessGroup(child);
    const killGroup = () => group.signalGroup('SIGKILL');
    const onSignal = (signal: NodeJS.Signals) => {
      killGroup();
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      process.kill(process.pid, signal); // as if no handler had been there
    };
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
    const timer = setTimeout(() => {
      error = `timed out after ${timeoutMs / 1000} s`;
      killGroup();
    }, timeoutMs);
    const finish = (status: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      killGroup();
      resolve({ status, signal, stdout: Buffer.concat(out.stdout).toString('utf8'), stderr: Buffer.concat(out.stderr).toString('utf8'), error });
    };
    child.once('error', (e) => {
      error ??= e.message;
      if (child.pid === undefined) finish(null, null); // never started: no 'close' to wait for
    });
    // Leftovers of the group would hold the pipes open: kill them as soon as the command exits.
    child.once('exit', () => killGroup());
    child.once('close', (status, signal) => finish(status, signal));
  });
}

/** Why a command that ran did not succeed, in a few words, never empty. */
export function failure(r: Captured): string {
  if (r.error) return r.error;
  const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
  const said = printable(lastLine(r.stderr) || lastLine(r.stdout));
  return said ? `${how}: ${said}` : `${how}, no output`;
}

/**
 * Text from a command made safe to print on one line: control characters
 * and undecodable bytes become "?", whitespace runs one space, at most
 * `max` characters (a binary printed by mistake must not flood the terminal).
 */
export function printable(text: string, max = 200): string {
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd\u2028\u2029]/g, '?').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** The last non-empty line of a command's error output, for a one-line detail. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}
