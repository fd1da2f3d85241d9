// Robustness of the trajectory decoders against input an audit found
// accepted or mishandled: a LAMMPS dump cut inside its last number, bytes
// after the last AMBER NetCDF record, and a tiny file whose header claims a
// huge atom count. Bad input: a clear error naming file, frame and byte
// offset and a non-zero exit; never wrong data, never memory for a claim.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { fromTrajectory, TrajectoryError } from '../src/index.js';
import { start, tmpdir, venvPython, westreamBin } from './support/helpers.js';
import { collectFrames, fixtures, mdaRead } from './support/trajectory.js';

const westream = (args: string[]) => start(process.execPath, [westreamBin, ...args], { WESTREAM_LOG_LEVEL: 'info' });

const lammps =
  'ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 20\n0 20\n0 20\n' +
  'ITEM: ATOMS id type x y z\n1 1 1.0 1.0 1.0\n2 1 1.0 1.0 16.5302\n';
const cutLammps = lammps.slice(0, -6); // the last line is now "2 1 1.0 1.0 16"

describe('a LAMMPS dump cut inside its last number', () => {
  it('analyze: a truncation error at frame 0, exit 1 (not z = 16)', async () => {
    const dir = tmpdir('westream-robust-');
    const f = path.join(dir, 'cut.lammpstrj');
    fs.writeFileSync(f, cutLammps);
    const r = await westream(['analyze', f, '--pipeline', 'print', '--lammps-units', 'real']).exit;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${f}: frame 0 at byte 0: truncated lammpsdump data: the file ends ${cutLammps.length} bytes inside frame 0`);
    const good = path.join(dir, 'good.lammpstrj');
    fs.writeFileSync(good, lammps);
    const frames = await collectFrames(fromTrajectory(good));
    expect(frames[0].positions[5]).toBeCloseTo(16.5302, 4);
  });

  it.each(['tmpfs', 'fifo'])('run --trajectory (%s): the engine stops mid-line, the run fails', async (transport) => {
    const dir = tmpdir('westream-robust-');
    const part = path.join(dir, 'part.lammpstrj');
    fs.writeFileSync(part, cutLammps);
    const r = await westream([
      'run', '--trajectory', 'd.lammpstrj', '--transport', transport, '--lammps-units', 'real', '--pipeline', 'print', '--',
      'sh', '-c', `cat ${part} > "$1"; sleep 0.3`, 'sh', 'd.lammpstrj',
    ]).exit;
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/d\.lammpstrj: frame 0 at byte 0: truncated lammpsdump data: the (file|stream) ends \d+ bytes inside frame 0.*the writer exited mid-frame/);
  });

  it('followed: a partial last line waits for its rest while the writer runs', async () => {
    const dir = tmpdir('westream-robust-');
    const r = await westream([
      'run', '--trajectory', 'd.lammpstrj', '--lammps-units', 'real', '--pipeline', 'print', '--',
      'sh', '-c', `printf '%s' '${cutLammps}' > "$1"; sleep 0.5; printf '.5302\\n' >> "$1"`, 'sh', 'd.lammpstrj',
    ]).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('bytes after the last AMBER NetCDF record', () => {
  it('a finished file: numrecs frames, as MDAnalysis reads it', async () => {
    const dir = tmpdir('westream-robust-');
    const nc = path.join(dir, 't.nc');
    expect((await start(venvPython, [path.join(fixtures, 'netcdf_writer.py'), nc, '2', '2']).exit).code).toBe(0);
    const good = fs.readFileSync(nc);
    const pad = path.join(dir, 'pad.nc');
    const recsize = await recordSize(dir);
    fs.writeFileSync(pad, Buffer.concat([good, Buffer.alloc(recsize), Buffer.alloc(7)]));
    expect((await mdaRead(pad, { natoms: 2, format: 'NCDF' })).frames).toBe(2);
    const r = await westream(['analyze', pad, '--pipeline', 'print']).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('a followed file: an error naming numrecs and the frames decoded once the writer is done', async () => {
    const dir = tmpdir('westream-robust-');
    const nc = path.join(dir, 't.nc');
    expect((await start(venvPython, [path.join(fixtures, 'netcdf_writer.py'), nc, '2', '2']).exit).code).toBe(0);
    const good = fs.readFileSync(nc);
    const recsize = await recordSize(dir);
    const pad = path.join(dir, 'pad.nc');
    fs.writeFileSync(pad, Buffer.concat([good, Buffer.alloc(recsize)]));
    const r = await westream([
      'run', '--trajectory', 'md.nc', '--pipeline', 'print', '--', 'sh', '-c', `cat ${pad} > "$1"`, 'sh', 'md.nc',
    ]).exit;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/md\.nc: frame 2 at byte \d+: the NetCDF header's numrecs is 2 now that the writer is done, but 2 frames were decoded/);
  });
});

describe('a tiny file whose header claims a huge atom count', () => {
  // A 1-frame 2-atom DCD whose atom count (byte 348) says 200 million.
  function bigDcd(dir: string): string {
    const b: Buffer[] = [];
    const i32 = (...v: number[]) => {
      const x = Buffer.alloc(4 * v.length);
      v.forEach((n, k) => x.writeInt32LE(n, 4 * k));
      b.push(x);
    };
    i32(84);
    b.push(Buffer.from('CORD'));
    const icntrl = new Array(20).fill(0);
    icntrl[19] = 24;
    i32(...icntrl, 84, 244, 3); // three 80-byte titles, as MDAnalysis writes them
    b.push(Buffer.alloc(240, 0x20));
    i32(244, 4, 200_000_000, 4);
    for (let d = 0; d < 3; d++) {
      i32(8);
      b.push(Buffer.alloc(8));
      i32(8);
    }
    const f = path.join(dir, 'big.dcd');
    fs.writeFileSync(f, Buffer.concat(b));
    expect(fs.readFileSync(f).readInt32LE(348)).toBe(200_000_000);
    return f;
  }

  it('followed: memory follows the file, not the claim', async () => {
    const dir = tmpdir('westream-robust-');
    const big = bigDcd(dir);
    const shm = fs.mkdtempSync('/dev/shm/westream-test-robust-');
    try {
      const f = path.join(shm, 'grow.dcd');
      fs.copyFileSync(big, f);
      let done!: () => void;
      const writerDone = new Promise<void>((r) => (done = r));
      const before = process.memoryUsage().rss;
      const result = collectFrames(fromTrajectory(f, { follow: true, until: writerDone })).catch((e) => e);
      await new Promise((r) => setTimeout(r, 300)); // the reader has read what is there and waits
      const grown = process.memoryUsage().rss - before;
      done();
      const e = await result;
      expect(e).toBeInstanceOf(TrajectoryError);
      expect((e as Error).message).toMatch(/grow\.dcd: frame 0 at byte 356: truncated dcd data: .*the writer exited mid-frame/);
      expect(grown).toBeLessThan(200 * 2 ** 20); // it was 2.4 GB
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it('run --trajectory: a truncation error, and a small peak RSS', async () => {
    const dir = tmpdir('westream-robust-');
    const big = bigDcd(dir);
    const time = '/usr/bin/time';
    const args = ['run', '--trajectory', 's.dcd', '--pipeline', 'count', '--', 'sh', '-c', `cat ${big} > "$1"; sleep 0.3`, 'sh', 's.dcd'];
    const measured = fs.existsSync(time);
    const r = measured
      ? await start(time, ['-f', 'maxrss %M', process.execPath, westreamBin, ...args], { WESTREAM_LOG_LEVEL: 'info' }).exit
      : await westream(args).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/s\.dcd: frame 0 at byte 356: truncated dcd data: the file ends 48 bytes inside frame 0 \(which needs 2400000024\)/);
    if (measured) {
      const kb = Number(/maxrss (\d+)/.exec(r.stderr)![1]);
      expect(kb).toBeLessThan(400 * 1024); // it was 2.4 GB
    }
  });
});

/** Bytes per record of netcdf_writer.py's 2-atom files: a 2-frame file less a 1-frame one. */
async function recordSize(dir: string): Promise<number> {
  const size = async (frames: number) => {
    const f = path.join(dir, `n${frames}.nc`);
    const r = await start(venvPython, [path.join(fixtures, 'netcdf_writer.py'), f, '2', String(frames)]).exit;
    if (r.code !== 0) throw new Error(r.stderr);
    return fs.statSync(f).size;
  };
  return (await size(2)) - (await size(1));
}
