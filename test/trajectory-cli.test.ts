// `westream run --trajectory` and `westream analyze` without a real engine:
// the lifecycle (private directory, substitution, exit statuses, cleanup).
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { start, tmpdir, venvPython, westreamBin } from './support/helpers.js';
import { fixtures } from './support/trajectory.js';

const westream = (args: string[]) => start(process.execPath, [westreamBin, ...args], { WESTREAM_LOG_LEVEL: 'info' });
let dir: string;

beforeAll(async () => {
  dir = tmpdir('westream-cli-traj-');
  const r = await start(venvPython, [path.join(fixtures, 'make_files.py'), dir, '30', '4']).exit;
  if (r.code !== 0) throw new Error(r.stderr);
}, 60_000);

describe('westream run --trajectory', () => {
  it('an engine writing a DCD onto tmpfs: the argument is replaced and everything is removed', async () => {
    const where = path.join(dir, 'where-dcd');
    const r = await westream([
      'run', '--trajectory', 'out.dcd', '--pipeline', 'print', '--tmpfs-dir', dir, '--',
      'sh', '-c', `echo "$1 $WESTREAM_TRAJECTORY $GMX_MAXBACKUP" > ${where}; cat ${dir}/small.dcd > "$1"`, 'sh', 'out.dcd',
    ]).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    const [arg, env, backups] = fs.readFileSync(where, 'utf8').trim().split(' ');
    expect(arg).toBe(env);
    expect(path.dirname(arg)).toMatch(new RegExp(`^${dir}/westream-`));
    expect(backups).toBe('-1');
    expect(fs.existsSync(path.dirname(arg))).toBe(false);
  });

  it('--opt=FILE arguments are replaced too, and --keep-trajectory keeps a tmpfs copy', async () => {
    const kept = path.join(dir, 'kept.nc');
    const r = await westream([
      'run', '--trajectory', 'md.nc', '--keep-trajectory', kept, '--pipeline', 'count', '--',
      'sh', '-c', `f=\${1#--out=}; cat ${dir}/small.nc > "$f"`, 'sh', '--out=md.nc',
    ]).exit;
    expect(r.code, r.stderr).toBe(0);
    const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(logs.find((l) => /^streamed/.test(l.msg))).toMatchObject({ frames: 4, natoms: 30, format: 'netcdf' });
    expect(logs.map((l) => l.msg)).toContain(`kept the trajectory as ${kept}`); // before the summary: a failed copy fails the run
    expect(fs.readFileSync(kept)).toEqual(fs.readFileSync(path.join(dir, 'small.nc')));
  });

  it('an engine that writes nothing: exit 3, an empty-trajectory error, nothing left', async () => {
    const where = path.join(dir, 'where-none');
    const r = await westream(['run', '--trajectory', 'x.xtc', '--', 'sh', '-c', `echo "$WESTREAM_TRAJECTORY" > ${where}`]).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/x\.xtc: frame 0 at byte 0: empty file \(0 bytes\)/);
    expect(r.stderr).toMatch(/never mentions x\.xtc/);
    expect(fs.existsSync(path.dirname(fs.readFileSync(where, 'utf8').trim()))).toBe(false);
  });

  it('an engine that dies mid-frame: its status, the truncation logged, nothing left', async () => {
    const where = path.join(dir, 'where-die');
    const r = await westream([
      'run', '--trajectory', 't.trr', '--transport', 'fifo', '--pipeline', 'count', '--',
      'sh', '-c', `echo "$1" > ${where}; head -c 1000 ${dir}/small.trr > "$1"; kill -9 $$`, 'sh', 't.trr',
    ]).exit;
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(/t\.trr: frame 2 at byte 960: truncated trr data: the stream ends 40 bytes inside frame 2 .*the writer exited mid-frame/);
    expect(fs.existsSync(path.dirname(fs.readFileSync(where, 'utf8').trim()))).toBe(false);
  });

  it('refuses a pipe for formats whose writers seek, and an unknown extension', async () => {
    const a = await westream(['run', '--trajectory', 'a.dcd', '--transport', 'fifo', '--', 'true']).exit;
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/dcd writers seek back .* use --transport tmpfs/);
    const b = await westream(['run', '--trajectory', 'a.traj', '--', 'true']).exit;
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/cannot tell the format of a\.traj/);
  });

  it('a command that cannot start: 127, nothing left', async () => {
    const before = fs.readdirSync(dir).filter((n) => n.startsWith('westream-'));
    const r = await westream(['run', '--trajectory', 'a.xtc', '--tmpfs-dir', dir, '--', '/nonexistent/engine', 'a.xtc']).exit;
    expect(r.code).toBe(127);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('westream-'))).toEqual(before);
  });
});

describe('westream run --trajectory: bad places', () => {
  it('an unwritable --keep-trajectory or --tmpfs-dir: exit 2 before the engine starts', async () => {
    const marker = path.join(dir, 'engine-ran');
    const engine = ['--', 'sh', '-c', `touch ${marker}`];
    const keep = await westream(['run', '--trajectory', 'seg.xtc', '--keep-trajectory', path.join(dir, 'no', 'k.xtc'), ...engine]).exit;
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain(`cannot write --keep-trajectory (${path.join(dir, 'no', 'k.xtc')}): its directory ${path.join(dir, 'no')} does not exist`);
    const tmpfs = await westream(['run', '--trajectory', 'seg.xtc', '--tmpfs-dir', path.join(dir, 'none'), ...engine]).exit;
    expect(tmpfs.code).toBe(2);
    expect(tmpfs.stderr).toContain(`cannot create a private directory in ${path.join(dir, 'none')}: it does not exist; give --tmpfs-dir a writable directory`);
    expect(fs.existsSync(marker)).toBe(false);
    for (const args of [['run', '--trajectory', 'd.lammpstrj', '--lammps-units', 'bogus', ...engine], ['analyze', path.join(dir, 'small.dcd'), '--lammps-units', 'bogus']]) {
      const r = await westream(args).exit;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown LAMMPS units style \\"bogus\\": use real, metal, si, cgs, electron, micro, nano, lj');
    }
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a trajectory that cannot be kept after all: the run fails (exit 3) and the trajectory is left where it is, named', async () => {
    const keepDir = path.join(dir, 'keep-gone');
    fs.mkdirSync(keepDir);
    // The engine writes its trajectory, then the directory for the copy disappears.
    const r = await westream([
      'run', '--trajectory', 'seg.dcd', '--keep-trajectory', path.join(keepDir, 'k.dcd'), '--tmpfs-dir', dir, '--pipeline', 'count', '--',
      'sh', '-c', `cat ${dir}/small.dcd > "$1"; rmdir ${keepDir}`, 'sh', 'seg.dcd',
    ]).exit;
    expect(r.code).toBe(3);
    const m = new RegExp(`cannot keep the trajectory as ${path.join(keepDir, 'k.dcd')}: .*; it is left at (\\S+seg\\.dcd)`).exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(fs.readFileSync(m![1])).toEqual(fs.readFileSync(path.join(dir, 'small.dcd')));
    fs.rmSync(path.dirname(m![1]), { recursive: true, force: true });
  });
});

describe('westream analyze: progress', () => {
  it('a long file: progress lines (frames, % of the file, rate) as it goes, none with --progress 0', async () => {
    const file = path.join(dir, 'long.lammpstrj');
    const natoms = 400;
    const atoms = Array.from({ length: natoms }, (_, i) => `${i + 1} 1 ${(i % 10) + 0.5} ${Math.floor(i / 10) % 10 + 0.5} ${Math.floor(i / 100) + 0.5}`).join('\n');
    const fd = fs.openSync(file, 'w');
    for (let k = 0; k < 4000; k++) {
      fs.writeSync(fd, `ITEM: TIMESTEP\n${k}\nITEM: NUMBER OF ATOMS\n${natoms}\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\nITEM: ATOMS id type x y z\n${atoms}\n`);
    }
    fs.closeSync(fd);
    const run = async (progress: string) => {
      const r = await westream(['analyze', file, '--pipeline', 'count', '--lammps-units', 'real', '--progress', progress]).exit;
      expect(r.code, r.stderr).toBe(0);
      return r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; frames: number; percent?: number });
    };
    const logs = await run('0.01');
    const progress = logs.filter((l) => l.msg.startsWith(`analyzing ${file}: `));
    expect(progress.length).toBeGreaterThan(0);
    for (const [k, p] of progress.entries()) {
      expect(p.msg).toMatch(/: \d+ frames, \d+ % of the file, \d+ frames\/s$/);
      expect(p.percent).toBeGreaterThan(0);
      expect(p.percent).toBeLessThanOrEqual(100);
      expect(p.frames).toBeLessThanOrEqual(4000);
      if (k > 0) expect(p.frames).toBeGreaterThan(progress[k - 1].frames);
    }
    expect(logs.at(-1)).toMatchObject({ frames: 4000 });
    expect((await run('0')).some((l) => l.msg.startsWith('analyzing '))).toBe(false);
  });
});
