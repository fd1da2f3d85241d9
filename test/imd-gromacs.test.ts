// GROMACS 2022 (Debian, IMD v2) through westream's launcher and IMD client.
// The test builds a small SPC/E water box with gmx's own tools, runs mdrun
// under westream, and compares every streamed frame with the TRR the same run
// writes. Which race-free path each test takes is in its name: "netns"
// (private network namespace; needs unprivileged user namespaces, which this
// suite requires: it fails loudly without them unless
// WESTREAM_ALLOW_NO_NETNS=1) or "port0" (mdrun -imdport 0 in the host's
// namespace).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lastValueFrom, map, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { ImdLaunch, netnsSupport } from '../src/launch/index.js';
import { fromImd, type ImdFrame } from '../src/sources/imd/index.js';
import { isAlive, root, start, tmpdir, westreamBin } from './support/helpers.js';

const fixtures = path.join(root, 'test', 'fixtures', 'imd');
let dir: string;
let natoms: number;

interface TrrFrame {
  step: number;
  time: number;
  box: number[];
  x: Float64Array;
}

/** A minimal reader of single-precision TRR files (positions, box, step, time). */
function readTrr(file: string): TrrFrame[] {
  const b = fs.readFileSync(file);
  const out: TrrFrame[] = [];
  let o = 0;
  const i32 = () => {
    const v = b.readInt32BE(o);
    o += 4;
    return v;
  };
  while (o < b.length) {
    expect(i32()).toBe(1993);
    i32(); // string length + 1
    const slen = i32();
    o += (slen + 3) & ~3;
    const [ir, e, box, vir, pres, top, sym, x, v, f, n, step] = Array.from({ length: 12 }, i32);
    i32(); // nre
    expect(box).toBe(36); // single precision
    const time = b.readFloatBE(o);
    o += 8; // t, lambda
    o += ir + e;
    const boxv = Array.from({ length: 9 }, (_, k) => b.readFloatBE(o + 4 * k) * 10);
    o += box + vir + pres + top + sym;
    const xs = new Float64Array(3 * n);
    if (x) for (let k = 0; k < 3 * n; k++) xs[k] = b.readFloatBE(o + 4 * k) * 10;
    o += x + v + f;
    out.push({ step, time, box: boxv, x: xs });
  }
  return out;
}


function requireNetns(): boolean {
  const ns = netnsSupport();
  if (ns.available) return true;
  if (process.env.WESTREAM_ALLOW_NO_NETNS === '1') return false;
  throw new Error(
    `this machine cannot create unprivileged network namespaces (${ns.reason}); the netns tests need them. ` +
      'Set WESTREAM_ALLOW_NO_NETNS=1 to run only the host-namespace paths.',
  );
}

function grompp(mdp: string, tpr: string) {
  execFileSync('gmx', ['-quiet', 'grompp', '-f', mdp, '-c', 'conf.gro', '-p', 'topol.top', '-o', tpr, '-po', `${tpr}.mdout.mdp`, '-maxwarn', '1'], { cwd: dir, stdio: 'pipe' });
}

beforeAll(() => {
  dir = tmpdir('westream-imd-gmx-');
  execFileSync('gmx', ['-quiet', 'solvate', '-cs', 'spc216.gro', '-box', '1.2', '1.2', '1.2', '-o', 'conf.gro'], { cwd: dir, stdio: 'pipe' });
  const waters = fs.readFileSync(path.join(dir, 'conf.gro'), 'utf8').split('\n').filter((l) => /^\s*\d+SOL\s+OW/.test(l)).length;
  natoms = 3 * waters;
  fs.writeFileSync(
    path.join(dir, 'topol.top'),
    `#include "oplsaa.ff/forcefield.itp"\n#include "oplsaa.ff/spce.itp"\n[ system ]\nwater\n[ molecules ]\nSOL ${waters}\n`,
  );
  fs.copyFileSync(path.join(fixtures, 'water.mdp'), path.join(dir, 'water.mdp'));
  grompp('water.mdp', 'topol.tpr');
  const noImd = fs.readFileSync(path.join(fixtures, 'water.mdp'), 'utf8').replace(/^IMD-group.*$/m, '');
  fs.writeFileSync(path.join(dir, 'noimd.mdp'), noImd);
  grompp('noimd.mdp', 'noimd.tpr');
  // A run that lasts (for signals and kills while it streams).
  fs.writeFileSync(path.join(dir, 'long.mdp'), fs.readFileSync(path.join(fixtures, 'water.mdp'), 'utf8').replace(/nsteps\s*=\s*50/, 'nsteps = 5000000'));
  grompp('long.mdp', 'long.tpr');
  fs.chmodSync(dir, 0o777);
}, 120_000);

/** Runs mdrun under the launcher and returns copies of every frame. */
async function stream(isolation: 'netns' | 'port0', name: string) {
  const launch = new ImdLaunch({
    engine: 'gromacs',
    isolation,
    cwd: dir,
    command: ['gmx', 'mdrun', '-s', 'topol.tpr', '-nt', '1', '-deffnm', name],
    output: () => {},
  });
  const ready = await launch.start();
  let netnsCheck: { engineListens: boolean; hostListens: boolean } | undefined;
  if (isolation === 'netns') {
    // The engine listens inside its namespace and nowhere else.
    const hex = ready.port.toString(16).toUpperCase().padStart(4, '0');
    const listens = (table: string) => table.split('\n').some((l) => l.includes(`:${hex} `) && l.split(/\s+/)[4] === '0A');
    netnsCheck = {
      engineListens: listens(fs.readFileSync(`/proc/${ready.enginePid}/net/tcp`, 'utf8')),
      hostListens: listens(fs.readFileSync('/proc/self/net/tcp', 'utf8')),
    };
  }
  const frames = await lastValueFrom(
    fromImd({ connect: () => launch.connect(), engine: 'gromacs', reconnects: 3 }).pipe(
      map((f) => f.retain() as ImdFrame),
      toArray(),
    ),
  );
  const exit = await launch.exited;
  return { frames, exit, ready, netnsCheck };
}

/** Every TRR frame has its IMD frame (same step) with the same positions, up to whole box vectors. */
function expectMatchesTrr(frames: ImdFrame[], trrFile: string) {
  const trr = readTrr(trrFile);
  expect(trr.map((t) => t.step)).toEqual([0, 10, 20, 30, 40, 50]);
  let shifted = 0;
  let maxDev = 0;
  for (const t of trr) {
    const f = frames.find((g) => g.step === t.step)!;
    expect(f, `IMD frame for step ${t.step}`).toBeDefined();
    expect(f.natoms).toBe(natoms);
    const L = [t.box[0], t.box[4], t.box[8]];
    for (let k = 0; k < 3 * natoms; k++) {
      // GROMACS keeps IMD molecules whole: an atom may differ by whole box vectors.
      const d = f.positions[k] - t.x[k];
      const n = Math.round(d / L[k % 3]);
      if (n !== 0) shifted++;
      maxDev = Math.max(maxDev, Math.abs(d - n * L[k % 3]));
    }
  }
  // float32 rounding: GROMACS sends float(x_nm) * 10 as float (< 1e-5 Å at 12 Å).
  expect(maxDev).toBeLessThan(1e-5);
  return { shifted, maxDev };
}

describe('GROMACS 2022 over IMD v2', () => {
  it('netns: every step streamed; every TRR frame matches within float32 rounding; no port outside the namespace', async () => {
    if (!requireNetns()) return;
    const { frames, exit, ready, netnsCheck } = await stream('netns', 'ns');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(ready.isolation).toBe('netns');
    expect(netnsCheck).toEqual({ engineListens: true, hostListens: false });
    expect(frames.map((f) => f.step)).toEqual(Array.from({ length: 51 }, (_, i) => i));
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 51 }, (_, i) => i));
    expect(frames[10].energies!.step).toBe(11); // as GROMACS sends it
    expect(frames[10].energies!.temperature).toBeGreaterThan(100);
    expectMatchesTrr(frames, path.join(dir, 'ns.trr'));
  });

  it('port0: the same through -imdport 0 in the host namespace', async () => {
    const { frames, exit, ready } = await stream('port0', 'p0');
    expect(exit.code).toBe(0);
    expect(ready.isolation).toBe('port0');
    expect(ready.port).toBeGreaterThan(0);
    expect(frames.length).toBe(51);
    expectMatchesTrr(frames, path.join(dir, 'p0.trr'));
  });

  it('westream run --imd gromacs --imd-every 10: the TRR\'s steps, a summary, exit 0', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--imd-every', '10', '--', 'gmx', 'mdrun', '-s', 'topol.tpr', '-nt', '1', '-deffnm', 'cli'], {
      WESTREAM_LOG_LEVEL: 'info',
    }, dir).exit;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => Number(/ step (\d+)/.exec(l)![1]))).toEqual([0, 10, 20, 30, 40, 50]);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ frames: 6, natoms, imd: { engine: 'gromacs', version: 2 } });
  });

  it('a .tpr without an IMD group: stopped at once with a clear error, exit 3', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--', 'gmx', 'mdrun', '-s', 'noimd.tpr', '-nt', '1', '-deffnm', 'noimd'], {}, dir).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/GROMACS runs without IMD: the .tpr has no IMD group: set `IMD-group = System`/);
  });

  it('a command without mdrun is a usage error (exit 2), nothing started', async () => {
    const r = await start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--', 'gmx', 'grompp'], {}, dir).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot find `mdrun` in the command/);
  });

  it('32 segments started at once: no collisions, all complete', async () => {
    const runs = Array.from({ length: 32 }, (_, i) =>
      start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--pipeline', 'count', '--', 'gmx', 'mdrun', '-s', 'topol.tpr', '-nt', '1', '-deffnm', `seg${i}`], {
        WESTREAM_LOG_LEVEL: 'info',
      }, dir).exit,
    );
    const results = await Promise.all(runs);
    const summaries = results.map((r) => {
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      return JSON.parse(r.stderr.trim().split('\n').pop()!);
    });
    expect(summaries.every((s) => s.frames === 51 && s.natoms === natoms)).toBe(true);
    const isolation = new Set(summaries.map((s) => s.imd.isolation));
    expect([...isolation]).toEqual([netnsSupport().available ? 'netns' : 'port0']);
  }, 180_000);

  it('32 segments at once with port0 (host namespace): distinct ports, all complete', async () => {
    const runs = Array.from({ length: 32 }, (_, i) =>
      start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--imd-isolation', 'port0', '--pipeline', 'count', '--', 'gmx', 'mdrun', '-s', 'topol.tpr', '-nt', '1', '-deffnm', `host${i}`], {
        WESTREAM_LOG_LEVEL: 'info',
      }, dir).exit,
    );
    const summaries = (await Promise.all(runs)).map((r) => {
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      return JSON.parse(r.stderr.trim().split('\n').pop()!);
    });
    expect(summaries.every((s) => s.frames === 51)).toBe(true);
    expect(new Set(summaries.map((s) => s.imd.port)).size).toBe(32);
  }, 180_000);

  it('netns as an unprivileged user: the engine runs under its own uid, not as root', async () => {
    if (!requireNetns()) return;
    if (process.getuid?.() !== 0) return; // already unprivileged: the other tests covered it
    const run = start('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, westreamBin, 'run', '--imd', 'gromacs', '--imd-every', '10', '--', 'gmx', 'mdrun', '-s', 'topol.tpr', '-nt', '1', '-deffnm', 'unpriv'], {
      WESTREAM_LOG_LEVEL: 'debug',
    }, dir);
    let err = '';
    let uidMap = '';
    run.child.stderr!.on('data', (d) => {
      err += d;
      const m = /"enginePid":(\d+)/.exec(err);
      if (m && !uidMap) uidMap = fs.readFileSync(`/proc/${m[1]}/uid_map`, 'utf8');
    });
    const r = await run.exit;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // Seen from here: the engine's uid 65534 is uid 65534 outside (a nested user namespace maps it back).
    expect(uidMap.trim().split(/\s+/)).toEqual(['65534', '65534', '1']);
    expect(JSON.parse(r.stderr.trim().split('\n').pop()!)).toMatchObject({ frames: 6, imd: { isolation: 'netns' } });
    expect(fs.statSync(path.join(dir, 'unpriv.trr')).uid).toBe(65534);
  });

  it('SIGKILL of westream: the engine does not outlive it (netns and port0)', async () => {
    for (const isolation of ['netns', 'port0'] as const) {
      if (isolation === 'netns' && !requireNetns()) continue;
      const run = start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--imd-isolation', isolation, '--imd-every', '100', '--', 'gmx', 'mdrun', '-s', 'long.tpr', '-nt', '1', '-deffnm', 'long'], {
        WESTREAM_LOG_LEVEL: 'debug',
      }, dir);
      let err = '';
      run.child.stderr!.on('data', (d) => (err += d));
      await new Promise<void>((resolve) => run.child.stdout!.on('data', (d) => String(d).includes('frame 2 ') && resolve()));
      const enginePid = Number(/"enginePid":(\d+)/.exec(err)![1]);
      expect(isAlive(enginePid)).toBe(true);
      run.child.kill('SIGKILL');
      await run.exit;
      const t0 = performance.now();
      while (isAlive(enginePid) && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(isAlive(enginePid), `${isolation}: engine ${enginePid} still alive`).toBe(false);
    }
  });

  it('an engine killed mid-run: westream reports its signal (exit 137) and what the stream got', async () => {
    const run = start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--imd-every', '100', '--', 'gmx', 'mdrun', '-s', 'long.tpr', '-nt', '1', '-deffnm', 'killed'], {
      WESTREAM_LOG_LEVEL: 'debug',
    }, dir);
    let err = '';
    run.child.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve) => run.child.stdout!.on('data', (d) => String(d).includes('frame 2 ') && resolve()));
    process.kill(Number(/"enginePid":(\d+)/.exec(err)![1]), 'SIGKILL');
    const r = await run.exit;
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(/gmx failed with signal SIGKILL after \d+ frames/);
  });

  it('SIGTERM to westream reaches the engine group: exit 143, nothing left', async () => {
    const run = start(process.execPath, [westreamBin, 'run', '--imd', 'gromacs', '--imd-every', '100', '--', 'gmx', 'mdrun', '-s', 'long.tpr', '-nt', '1', '-deffnm', 'term'], {
      WESTREAM_LOG_LEVEL: 'debug',
    }, dir);
    let err = '';
    run.child.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve) => run.child.stdout!.on('data', (d) => String(d).includes('frame 2 ') && resolve()));
    const enginePid = Number(/"enginePid":(\d+)/.exec(err)![1]);
    run.child.kill('SIGTERM');
    const r = await run.exit;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/received SIGTERM/);
    expect(isAlive(enginePid)).toBe(false);
  });
});
