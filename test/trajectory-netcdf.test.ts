// AMBER NetCDF written by an independent writer (MDAnalysis' NCDFWriter),
// read complete and followed while it grows.
import fs from 'node:fs';
import path from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { fromTrajectory } from '../src/index.js';
import { start, tmpdir, venvPython } from './support/helpers.js';
import { collectFrames, expectSameFrames, fixtures, mdaRead, writer } from './support/trajectory.js';

const script = path.join(fixtures, 'netcdf_writer.py');

describe('AMBER NetCDF', () => {
  it('a complete file with velocities: frames, cell and time match MDAnalysis', async () => {
    const dir = tmpdir('westream-nc-');
    const nc = path.join(dir, 'traj.nc');
    const r = await start(venvPython, [script, nc, '301', '6', '--velocities']).exit;
    expect(r.code, r.stderr).toBe(0);
    const frames = await collectFrames(fromTrajectory(nc));
    expectSameFrames(frames, await mdaRead(nc, { natoms: 301, format: 'NCDF' }), 0);
    expect(frames[5].velocities).toBeDefined();
    expect(frames[3].box![0]).toBeCloseTo(33, 5);
  }, 60_000);

  it('followed while it grows, frame by frame', async () => {
    const dir = fs.mkdtempSync('/dev/shm/westream-test-nc-');
    try {
      const nc = path.join(dir, 'grow.nc');
      fs.writeFileSync(nc, '');
      let seen = 0;
      const w = writer(venvPython, [script, nc, '97', '5', '--step']);
      const framesP = collectFrames(fromTrajectory(nc, { follow: true, until: w.exit }).pipe(tap(() => seen++)));
      for (let i = 0; i < 5; i++) {
        await w.line(new RegExp(`frame ${i}\\n`));
        // The writer waits for us: frame i must arrive from the file as it is now.
        await until(() => seen === i + 1);
        w.send('next');
      }
      const frames = await framesP;
      expect((await w.exit).code).toBe(0);
      const copy = path.join(tmpdir('westream-nc-copy-'), 'copy.nc');
      fs.copyFileSync(nc, copy);
      expectSameFrames(frames, await mdaRead(copy, { natoms: 97, format: 'NCDF' }), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('numrecs lagging the data: gated while the writer runs; once the data is final, numrecs counts the frames', async () => {
    const dir = tmpdir('westream-nc-lag-');
    const nc = path.join(dir, 'lag.nc');
    expect((await start(venvPython, [script, nc, '10', '4']).exit).code).toBe(0);
    const setNumrecs = (file: string, n: number) => {
      const fd = fs.openSync(file, 'r+');
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n, 0);
      fs.writeSync(fd, b, 0, 4, 4); // in place: a followed file must not shrink
      fs.closeSync(fd);
    };
    setNumrecs(nc, 1); // numrecs = 1, four records present
    // A finished file holds numrecs records, as MDAnalysis reads it.
    expect((await collectFrames(fromTrajectory(nc))).length).toBe(1);
    expect((await mdaRead(nc, { natoms: 10, format: 'NCDF' })).frames).toBe(1);
    // Followed: only the synced record while the "writer" runs; numrecs
    // still 1 once it is done: the records past it are an error, not frames.
    const follow = async (file: string, atDone: () => void) => {
      let done!: () => void;
      const writerDone = new Promise<void>((r) => (done = r));
      let seen = 0;
      const followed = collectFrames(fromTrajectory(file, { follow: true, until: writerDone }).pipe(tap(() => seen++)));
      await until(() => seen === 1);
      atDone();
      done();
      return followed;
    };
    await expect(follow(nc, () => {})).rejects.toThrow(
      new RegExp(`^${nc}: frame 1 at byte \\d+: the NetCDF header's numrecs is 1 now that the writer is done, but 1 frames were decoded`),
    );
    // A writer that syncs numrecs as it exits: every record.
    expect((await follow(nc, () => setNumrecs(nc, 4))).length).toBe(4);
  }, 60_000);
});

function until(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) resolve();
      else if (performance.now() - t0 > timeoutMs) reject(new Error('timed out'));
      else setTimeout(check, 5);
    };
    check();
  });
}
