// GROMACS (Debian's gromacs package), unmodified: mdrun writes XTC into a
// named pipe and TRR onto tmpfs; westream follows both live and every frame
// matches what MDAnalysis reads from a copy of the same file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { fromTrajectory } from '../src/index.js';
import { native } from '../src/core/native.js';
import { start, tmpdir, westreamBin } from './support/helpers.js';
import { collectFrames, expectSameFrames, fixtures, mdaRead } from './support/trajectory.js';

const mkfifo = (p: string) => (native() as unknown as { mkfifo(p: string, m: number): void }).mkfifo(p, 0o600);

let dir: string;
let tpr: string;

function mdrun(args: string[], cwd: string) {
  const child = spawn('gmx', ['-quiet', 'mdrun', '-nt', '1', '-s', tpr, ...args], {
    cwd,
    env: { ...process.env, GMX_MAXBACKUP: '-1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { child, exited };
}

beforeAll(async () => {
  dir = tmpdir('westream-gmx-');
  const r = await start('bash', [path.join(fixtures, 'gromacs_nacl.sh'), dir, '200']).exit;
  if (r.code !== 0) throw new Error(`building the GROMACS system failed: ${r.stderr}`);
  tpr = path.join(dir, 'md.tpr');
}, 120_000);

describe('GROMACS mdrun, unmodified', () => {
  it('XTC into a named pipe: streamed live, identical to MDAnalysis on the copy', async () => {
    const work = tmpdir('westream-gmx-xtc-');
    const fifo = path.join(work, 'stream.xtc');
    mkfifo(fifo);
    const copy = path.join(work, 'copy.xtc');
    let run: ReturnType<typeof mdrun> | undefined;
    const exited = new Promise<unknown>((resolve) => setImmediate(() => run!.exited.then(resolve)));
    // The reader holds the pipe open read-write before mdrun starts. The
    // frames (about 110 kB) do not fit a pipe's buffer: mdrun only finishes
    // because they are read while it runs.
    const framesP = collectFrames(fromTrajectory(fifo, { fifoReadWrite: true, until: exited, tee: copy }));
    run = mdrun(['-deffnm', path.join(work, 'md'), '-x', fifo], work);
    const frames = await framesP;
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(frames.length).toBe(21); // 200 steps, every 10th
    expect(frames[20].step).toBe(200);
    expect(frames[20].natoms).toBe(frames[0].natoms);
    const mda = await mdaRead(copy, { top: path.join(dir, 'em.gro') });
    // Same file, same arithmetic: identical up to float32 rounding.
    expectSameFrames(frames, mda, 1e-4);
  }, 120_000);

  it('TRR onto tmpfs, followed as it grows: positions, velocities and box match MDAnalysis', async () => {
    const work = fs.mkdtempSync('/dev/shm/westream-test-gmx-');
    try {
      const trr = path.join(work, 'stream.trr');
      fs.writeFileSync(trr, '');
      let run: ReturnType<typeof mdrun> | undefined;
      const exited = new Promise<unknown>((resolve) => setImmediate(() => run!.exited.then(resolve)));
      let watch = '';
      const framesP = collectFrames(fromTrajectory(trr, { follow: true, until: exited, onOpen: (i) => (watch = i.watch) }));
      run = mdrun(['-deffnm', path.join(work, 'md'), '-o', trr], work);
      const frames = await framesP;
      expect((await run.exited).code).toBe(0);
      expect(watch).toBe('inotify');
      expect(frames.length).toBe(11);
      expect(frames.every((f) => f.velocities !== undefined)).toBe(true);
      const copy = path.join(tmpdir('westream-gmx-trr-'), 'copy.trr');
      fs.copyFileSync(trr, copy);
      const mda = await mdaRead(copy, { top: path.join(dir, 'em.gro') });
      expectSameFrames(frames, mda, 2e-5);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('westream run --trajectory with GROMACS', () => {
  const westream = (args: string[]) => start(process.execPath, [westreamBin, ...args], { WESTREAM_LOG_LEVEL: 'info' });

  it('streams mdrun through a pipe, keeps a copy on request and leaves nothing behind', async () => {
    const work = tmpdir('westream-gmx-run-');
    const kept = path.join(work, 'kept.xtc');
    const where = path.join(work, 'where');
    const r = await westream([
      'run', '--trajectory', 'traj.xtc', '--transport', 'fifo', '--keep-trajectory', kept, '--pipeline', 'print', '--',
      'sh', '-c', `echo "$WESTREAM_TRAJECTORY" > ${where}; exec gmx -quiet mdrun -nt 1 -s ${tpr} -deffnm ${work}/md -x "$1"`, 'sh', 'traj.xtc',
    ]).exit;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(21);
    expect(lines[20]).toMatch(/^frame 20 natoms \d+ step 200 time 0.4 x0 /);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ frames: 21, format: 'xtc', transport: 'fifo' });
    // The pipe lived in a private directory that is gone now.
    const fifo = fs.readFileSync(where, 'utf8').trim();
    expect(fifo).toMatch(/^\/dev\/shm\/westream-[^/]+\/traj\.xtc$/);
    expect(fs.existsSync(path.dirname(fifo))).toBe(false);
    const mda = await mdaRead(kept, { top: path.join(dir, 'em.gro') });
    expect(mda.frames).toBe(21);
  }, 120_000);

  it('a failing engine: its exit status, and the tmpfs file is removed', async () => {
    const work = tmpdir('westream-gmx-fail-');
    const where = path.join(work, 'where');
    // mdrun succeeds (TRR frames at steps 0 and 20), then the job script fails.
    const r = await westream([
      'run', '--trajectory', 'out.trr', '--pipeline', 'count', '--',
      'sh', '-c', `echo "$WESTREAM_TRAJECTORY" > ${where}; gmx -quiet mdrun -nt 1 -s ${tpr} -deffnm ${work}/md -o "$1" -nsteps 30 >/dev/null 2>&1; exit 7`, 'sh', 'out.trr',
    ]).exit;
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/sh failed with exit code 7 after 2 frames/);
    const file = fs.readFileSync(where, 'utf8').trim();
    expect(fs.existsSync(path.dirname(file))).toBe(false);
  }, 120_000);
});
