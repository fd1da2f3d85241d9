// The launcher against fake engines that mimic NAMD and LAMMPS (their log
// lines, port rules and GO timeout): paths that the real engines here cannot
// exercise (NAMD has no redistributable build), start-up failures, signals
// during start-up, and the fallback when no network namespace is available.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { ImdLaunch, chooseIsolation, lammpsUnitsFromCommand, netnsSupport } from '../src/launch/index.js';
import { fromImd } from '../src/sources/imd/index.js';
import { fakeEngineScript } from './support/fake-imd-engine.js';
import { isAlive, start, tmpdir, westreamBin, type Exit } from './support/helpers.js';

let dir: string;
let fake: string;

const westream = (args: string[], env: NodeJS.ProcessEnv = {}) => start(process.execPath, [westreamBin, 'run', ...args], { WESTREAM_LOG_LEVEL: 'info', ...env }, dir);
const summary = (r: Exit) => JSON.parse(r.stderr.trim().split('\n').pop()!);

beforeAll(async () => {
  dir = tmpdir('westream-imd-launch-');
  fake = await fakeEngineScript(dir);
  fs.writeFileSync(path.join(dir, 'in.real'), 'units real\nfix 2 all imd ${imd_port} version 3\n');
});

describe('this machine', () => {
  it('offers unprivileged network namespaces (the netns path); fails loudly if not', () => {
    const ns = netnsSupport();
    if (!ns.available && process.env.WESTREAM_ALLOW_NO_NETNS !== '1') {
      expect.fail(`no unprivileged network namespaces (${ns.reason}): the default IMD path is unavailable; set WESTREAM_ALLOW_NO_NETNS=1 to accept that`);
    }
    expect(chooseIsolation('lammps').isolation).toBe(ns.available ? 'netns' : 'probe');
    expect(chooseIsolation('gromacs').isolation).toBe(ns.available ? 'netns' : 'port0');
  });
});

describe('NAMD (fake: NAMD\'s log lines and port rules)', () => {
  it('netns: the configured port inside the namespace, read from "Interactive MD listening on port N"', async () => {
    if (!netnsSupport().available) return;
    const r = await westream(['--imd', 'namd', '--pipeline', 'count', '--', process.execPath, fake, '--mimic', 'namd', '--frames', '6', 'alanin.namd']).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r)).toMatchObject({ frames: 6, imd: { engine: 'namd', isolation: 'netns', port: 3000, version: 3 } });
    expect(r.stderr).toMatch(/fake engine done: 6 frames, 1 connection\(s\)/);
  });

  it('netns: a NAMD that only says it awaits a connection: the one listener of its namespace, from /proc', async () => {
    if (!netnsSupport().available) return;
    const r = await westream(['--imd', 'namd', '--pipeline', 'count', '--', process.execPath, fake, '--mimic', 'namd', '--no-port-line', '--frames', '3', 'alanin.namd']).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/listening on port/);
    expect(summary(r)).toMatchObject({ frames: 3, imd: { isolation: 'netns', port: 3000 } });
  });

  it('probe: a busy port makes NAMD scan 1025-4095; westream connects to the port NAMD reports', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const out: string[] = [];
    const launch = new ImdLaunch({
      engine: 'namd',
      isolation: 'probe',
      cwd: dir,
      command: [process.execPath, fake, '--mimic', 'namd', '--frames', '3', 'alanin.namd'],
      pickPort: async () => taken,
      output: (c) => out.push(String(c)),
    });
    const ready = await launch.start();
    const frames = await lastValueFrom(fromImd({ connect: () => launch.connect(), engine: 'namd' }).pipe(toArray()));
    blocker.close();
    expect((await launch.exited).code).toBe(0);
    expect(out.join('')).toMatch(new RegExp(`Interactive MD failed to bind to port ${taken}`));
    expect(ready.port).not.toBe(taken);
    expect(ready.port).toBeGreaterThanOrEqual(1025);
    expect(ready.port).toBeLessThan(4096);
    expect(ready.attempts).toBe(1);
    expect(frames.length).toBe(3);
  });

  it('probe: --IMDport goes before the configuration file', () => {
    const launch = new ImdLaunch({ engine: 'namd', isolation: 'probe', command: ['namd3', '+p2', 'run.namd'] });
    expect(launch.adapter.command(['namd3', '+p2', 'run.namd'], { kind: 'fixed', port: 4321 }, 'probe')).toEqual(['namd3', '+p2', '--IMDport', '4321', 'run.namd']);
    expect(() => launch.adapter.command(['namd3', '--IMDport', '5', 'run.namd'], { kind: 'fixed', port: 4321 }, 'probe')).toThrow(/sets --IMDport itself/);
  });
});

describe('LAMMPS (fake): readiness from the log line, never a trial connect', () => {
  it('waits for an engine that takes its time to listen, connects exactly once, GO in time', async () => {
    const r = await westream(['--imd', 'lammps', '--pipeline', 'count', '--', process.execPath, fake, '--mimic', 'lammps', '-in', 'in.real', '--start-delay-ms', '1500', '--frames', '4']).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fake engine done: 4 frames, 1 connection\(s\), control 3\n/);
    expect(summary(r)).toMatchObject({ frames: 4 });
  });

  it('without namespaces (WESTREAM_IMD_NO_NETNS=1) auto falls back to probe, and says why', async () => {
    const r = await westream(['--imd', 'lammps', '--pipeline', 'count', '--', process.execPath, fake, '--mimic', 'lammps', '-in', 'in.real', '--frames', '2'], {
      WESTREAM_IMD_NO_NETNS: '1',
    }).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no private network namespace \(WESTREAM_IMD_NO_NETNS=1 is set\); lammps uses bind-probe-and-retry and listens on all interfaces/);
    expect(summary(r)).toMatchObject({ frames: 2, imd: { isolation: 'probe' } });
  });

  it('--imd-isolation netns where namespaces are unavailable: exit 2 with the reason', async () => {
    const r = await westream(['--imd', 'lammps', '--imd-isolation', 'netns', '--', process.execPath, fake, '-in', 'in.real'], { WESTREAM_IMD_NO_NETNS: '1' }).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--imd-isolation netns: WESTREAM_IMD_NO_NETNS=1 is set/);
  });

  it('a user-set port variable in probe mode is refused (westream must choose the port)', async () => {
    const r = await westream(['--imd', 'lammps', '--imd-isolation', 'probe', '--', process.execPath, fake, '-in', 'in.real', '-var', 'imd_port', '9999']).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sets -var imd_port 9999 itself/);
  });

  it('SIGTERM before the engine listens: the engine group is stopped, exit 143', async () => {
    const pidFile = path.join(dir, 'slow.pid');
    const run = westream(['--imd', 'lammps', '--', process.execPath, fake, '--mimic', 'lammps', '-in', 'in.real', '--start-delay-ms', '30000', '--pid-file', pidFile]);
    const t0 = performance.now();
    while (!fs.existsSync(pidFile) && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    run.child.kill('SIGTERM');
    const r = await run.exit;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/stopped by SIGTERM before .* listened for IMD/);
    expect(isAlive(pid)).toBe(false);
  });
});

describe('start-up errors', () => {
  it('an engine that cannot be started: exit 127', async () => {
    const r = await westream(['--imd', 'lammps', '--lammps-units', 'real', '--', '/nonexistent/lmp', '-in', 'x']).exit;
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cannot start \/nonexistent\/lmp/);
  });

  it('isolations an engine cannot use are usage errors (exit 2)', async () => {
    const a = await westream(['--imd', 'lammps', '--imd-isolation', 'port0', '--', 'lmp', '-in', 'in.real']).exit;
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/lammps refuses port 0; use netns or probe/);
    const b = await westream(['--imd', 'gromacs', '--imd-isolation', 'probe', '--', 'gmx', 'mdrun']).exit;
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/GROMACS picks its own port/);
    const c = await westream(['--imd', 'gromacs', '--trajectory', 'x.xtc', '--', 'gmx', 'mdrun']).exit;
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--imd and --trajectory exclude each other/);
  });
});

describe('LAMMPS units style from the input script', () => {
  it('reads `units`, follows include, defaults to lj, and says when it cannot know', () => {
    fs.writeFileSync(path.join(dir, 'a.in'), '# setup\ninclude b.in\nrun 10\n');
    fs.writeFileSync(path.join(dir, 'b.in'), 'units metal # comment\n');
    expect(lammpsUnitsFromCommand(['lmp', '-in', 'a.in'], dir)).toEqual({ units: 'metal' });
    fs.writeFileSync(path.join(dir, 'c.in'), 'atom_style atomic\n');
    expect(lammpsUnitsFromCommand(['lmp', '-i', 'c.in'], dir)).toEqual({ units: 'lj' });
    fs.writeFileSync(path.join(dir, 'd.in'), 'units ${u}\n');
    expect(lammpsUnitsFromCommand(['lmp', '-in', 'd.in'], dir).reason).toMatch(/`units \$\{u\}` in d.in is not a literal units style/);
    expect(lammpsUnitsFromCommand(['lmp'], dir).reason).toMatch(/stdin/);
    expect(lammpsUnitsFromCommand(['lmp', '-in', 'missing.in'], dir).reason).toMatch(/cannot read missing.in/);
  });
});
