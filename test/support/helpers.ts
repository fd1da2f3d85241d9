// Shared helpers for the channel tests.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray, map, type Observable } from 'rxjs';

import { frameChecksum } from '../../src/core/checksum.js';
import type { Frame } from '../../src/index.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const synthetic = path.join(root, 'build', 'Release', 'westream-synthetic');
export const westreamBin = path.join(root, 'bin', 'westream.cjs');
export const venvPython = path.join(root, '.venv', 'bin', 'python');

export { fnv1a, frameChecksum } from '../../src/core/checksum.js';

export interface Received {
  index: number;
  step?: number;
  time?: number;
  checksum: number;
}

/** Collects a summary of every frame (computed while the frame is valid). */
export function collect(frames: Observable<Frame>): Promise<Received[]> {
  return lastValueFrom(
    frames.pipe(
      map((f) => ({ index: f.index, step: f.step, time: f.time, checksum: frameChecksum(f) })),
      toArray(),
    ),
  );
}

export function readChecksums(file: string): number[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[1]));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process exited. */
  at: number;
}

/** Starts a process and returns it with a promise of its exit and output. */
export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, at: performance.now() }));
  });
  return { child, exit };
}

const tmpdirs = new Set<string>();

/** A fresh directory under $TMPDIR, removed after the test file (test/support/cleanup.ts). */
export function tmpdir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', prefix));
  tmpdirs.add(dir);
  return dir;
}

/** Removes every tmpdir() of this test file; WESTREAM_KEEP_TEST_DIRS=1 keeps them for a post mortem. */
export function removeTmpdirs(): void {
  if (process.env.WESTREAM_KEEP_TEST_DIRS === '1') return;
  for (const dir of tmpdirs) fs.rmSync(dir, { recursive: true, force: true });
  tmpdirs.clear();
}

/** Open fds of this process, with what they point to. */
export function openFds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed while listing (the readdir's own fd)
    }
  }
  return out;
}

export function ringMappings(): string[] {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes('westream-ring'));
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
