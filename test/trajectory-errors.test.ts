// Bad input of every format: zero-length, truncated, bit-flipped files and
// a writer that dies mid-frame give a clear error naming file, frame and
// byte offset; never a crash, a hang or a wrong frame.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { fromTrajectory, TrajectoryError } from '../src/index.js';
import { native } from '../src/core/native.js';
import { start, tmpdir, venvPython, westreamBin } from './support/helpers.js';
import { collectFrames, fixtures } from './support/trajectory.js';

let dir: string;
const files: Record<string, string> = {};

function lammpsText(natoms: number, frames: number): string {
  let s = '';
  for (let f = 0; f < frames; f++) {
    s += `ITEM: TIMESTEP\n${f * 10}\nITEM: NUMBER OF ATOMS\n${natoms}\nITEM: BOX BOUNDS pp pp pp\n0 20\n0 20\n0 20\nITEM: ATOMS id type x y z\n`;
    for (let i = natoms; i >= 1; i--) s += `${i} 1 ${(i * 0.31 + f) % 20} ${(i * 0.17) % 20} ${(i * 0.13) % 20}\n`;
  }
  return s;
}

beforeAll(async () => {
  dir = tmpdir('westream-bad-');
  const r = await start(venvPython, [path.join(fixtures, 'make_files.py'), dir, '60', '3']).exit;
  if (r.code !== 0) throw new Error(r.stderr);
  fs.writeFileSync(path.join(dir, 'small.lammpstrj'), lammpsText(60, 3));
  for (const ext of ['xtc', 'trr', 'dcd', 'nc', 'lammpstrj']) files[ext] = path.join(dir, `small.${ext}`);
}, 60_000);

async function outcome(file: string, options = {}): Promise<{ frames: number; error?: TrajectoryError }> {
  try {
    const frames = await collectFrames(fromTrajectory(file, options));
    return { frames: frames.length };
  } catch (e) {
    expect(e).toBeInstanceOf(TrajectoryError);
    return { frames: -1, error: e as TrajectoryError };
  }
}

const errorShape = (file: string) => new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: frame \\d+ at byte \\d+: .+`);

describe.each(['xtc', 'trr', 'dcd', 'nc', 'lammpstrj'])('%s', (ext) => {
  it('reads the good file', async () => {
    expect((await outcome(files[ext])).frames).toBe(3);
  });

  it('zero-length file: a clear error', async () => {
    const f = path.join(dir, `empty.${ext}`);
    fs.writeFileSync(f, '');
    const r = await outcome(f);
    expect(r.error?.message).toBe(`${f}: frame 0 at byte 0: empty file (0 bytes): no trajectory was written`);
  });

  it('truncated inside the second frame: frame 1 and its offset', async () => {
    const good = fs.readFileSync(files[ext]);
    const frame1 = await frameOffsets(files[ext]);
    const cut = Math.floor((frame1[1] + frame1[2]) / 2);
    const f = path.join(dir, `cut.${ext}`);
    fs.writeFileSync(f, good.subarray(0, cut));
    const r = await outcome(f);
    expect(r.error?.message).toMatch(errorShape(f));
    expect(r.error?.message).toContain(`: frame 1 at byte ${frame1[1]}: truncated`);
  });

  it('truncated inside the header', async () => {
    const f = path.join(dir, `head.${ext}`);
    fs.writeFileSync(f, fs.readFileSync(files[ext]).subarray(0, 10));
    const r = await outcome(f);
    expect(r.error?.message).toMatch(errorShape(f));
    expect(r.error?.message).toMatch(/truncated|bad|not a|expected/);
  });

  it('a flipped bit in the structure: an error at that frame', async () => {
    const good = fs.readFileSync(files[ext]);
    const offs = await frameOffsets(files[ext]);
    const f = path.join(dir, `flip.${ext}`);
    const b = Buffer.from(good);
    // The first byte of frame 2's structure: magic (XTC/TRR), record marker (DCD),
    // "ITEM" (LAMMPS); NetCDF has none per record, so flip its header tag.
    const at = ext === 'nc' ? 11 : offs[2] + (ext === 'xtc' || ext === 'trr' ? 3 : 0);
    b[at] ^= 0x10;
    fs.writeFileSync(f, b);
    const r = await outcome(f);
    expect(r.error?.message).toMatch(errorShape(f));
    if (ext !== 'nc') expect(r.error?.message).toContain(`: frame 2 at byte ${offs[2]}:`);
  });

  it('random bit flips: frames or a TrajectoryError, never a crash or a hang', async () => {
    const good = fs.readFileSync(files[ext]);
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let t = 0; t < 60; t++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      const f = path.join(dir, `rnd${t}.${ext}`);
      fs.writeFileSync(f, b);
      const r = await outcome(f, ext === 'lammpstrj' ? {} : { format: ext === 'nc' ? 'netcdf' : ext });
      if (r.error) expect(r.error.message).toMatch(errorShape(f));
      else expect(r.frames).toBeLessThanOrEqual(3);
    }
  });

  it('a writer that dies mid-frame while followed: truncated, the writer exited', async () => {
    const good = fs.readFileSync(files[ext]);
    const offs = await frameOffsets(files[ext]);
    const shm = fs.mkdtempSync('/dev/shm/westream-test-bad-');
    try {
      const f = path.join(shm, `dies.${ext}`);
      fs.writeFileSync(f, '');
      const part = path.join(dir, `part.${ext}`);
      fs.writeFileSync(part, good.subarray(0, offs[2] + 7));
      // Appends two frames and a bit, then kills itself.
      const child = spawn('sh', ['-c', `cat ${part} >> ${f}; kill -9 $$`], { stdio: 'ignore' });
      const died = new Promise((r) => child.once('close', r));
      const r = await outcome(f, { follow: true, until: died });
      expect(r.error?.message).toContain(`${f}: frame 2 at byte ${offs[2]}: truncated`);
      expect(r.error?.message).toContain('the writer exited mid-frame');
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });
});

describe('other bad input', () => {
  it('an atom count that changes mid-file', async () => {
    const f = path.join(dir, 'change.lammpstrj');
    const text = lammpsText(5, 1) + lammpsText(6, 1);
    fs.writeFileSync(f, text);
    const r = await outcome(f);
    expect(r.error?.message).toMatch(new RegExp(`frame 1 at byte \\d+: atom count changed from 5 to 6`));
  });

  it('a format the extension does not match is detected by its magic', async () => {
    const f = path.join(dir, 'really-xtc.dcd');
    fs.copyFileSync(files.xtc, f);
    expect((await outcome(f)).frames).toBe(3);
    const r = await outcome(f, { format: 'trr' });
    expect(r.error?.message).toContain('bad TRR magic number 1995');
  });

  it('unknown content', async () => {
    const f = path.join(dir, 'notes.txt');
    fs.writeFileSync(f, 'hello world\n');
    const r = await outcome(f);
    expect(r.error?.message).toContain('cannot tell the trajectory format');
  });

  it('a missing file', async () => {
    const r = await outcome(path.join(dir, 'nope.xtc'));
    expect(r.error?.message).toMatch(/cannot open .*nope\.xtc: No such file or directory/);
  });

  it('westream analyze: exit 1 with the error, 0 and a count otherwise', async () => {
    const f = path.join(dir, 'an-cut.trr');
    fs.writeFileSync(f, fs.readFileSync(files.trr).subarray(0, 1000));
    const bad = await start(process.execPath, [westreamBin, 'analyze', f, '--pipeline', 'count']).exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${f}: frame 1 at byte`);
    const good = await start(process.execPath, [westreamBin, 'analyze', files.dcd, '--pipeline', 'print']).exit;
    expect(good.code).toBe(0);
    expect(good.stdout.trim().split('\n')).toHaveLength(3);
    expect(JSON.parse(good.stderr.trim().split('\n').pop()!)).toMatchObject({ frames: 3, natoms: 60 });
  });

  it('westream analyze --topology: the atom counts must agree', async () => {
    const pdb = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        `ATOM  ${String(i + 1).padStart(5)}  AR  AR A${String(i + 1).padStart(4)}    ${'0.000'.padStart(8)}${'0.000'.padStart(8)}${'0.000'.padStart(8)}  1.00  0.00          AR`,
      ).join('\n') + '\nEND\n';
    const top60 = path.join(dir, 'top60.pdb');
    const top2 = path.join(dir, 'top2.pdb');
    fs.writeFileSync(top60, pdb(60));
    fs.writeFileSync(top2, pdb(2));
    const ok = await start(process.execPath, [westreamBin, 'analyze', files.xtc, '--topology', top60, '--pipeline', 'count']).exit;
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await start(process.execPath, [westreamBin, 'analyze', files.xtc, '--topology', top2, '--pipeline', 'count']).exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${files.xtc} has 60 atoms, the topology ${top2} 2`);
  });
});

/** Byte offsets where each frame starts, from the native reader over the good file. */
async function frameOffsets(file: string): Promise<number[]> {
  const Reader = (native() as unknown as { TrajectoryReader: new (p: string, o: object) => { next(): number; meta: Float64Array; close(): void } })
    .TrajectoryReader;
  const r = new Reader(file, {});
  const starts: number[] = [];
  let end = 0;
  while (r.next() === 1) {
    const frameEnd = r.meta[7];
    // Fixed-size or not, a frame starts where the previous one ended; the
    // first starts after the header: its end minus its own size, which for
    // these small files equals the second frame's size.
    starts.push(end);
    end = frameEnd;
  }
  r.close();
  starts[0] = starts[1] - (starts[2] - starts[1]);
  return starts;
}
