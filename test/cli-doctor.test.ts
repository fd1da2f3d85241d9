// `westream doctor`: each check against what this machine really has, and
// the failures it must report (exit 1) or only warn about (exit 0).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { isAlive, start, tmpdir, venvPython, westreamBin } from './support/helpers.js';

interface Check {
  name: string;
  status: string;
  detail: string;
  hint?: string;
  data?: Record<string, unknown>;
}

async function doctor(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) {
  const r = await start(process.execPath, [westreamBin, 'doctor', '--json', ...args], env, cwd).exit;
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  const byName = new Map(report.checks.map((c) => [c.name, c]));
  return { code: r.code, report, check: (name: string) => byName.get(name)! };
}

// A Python without westream (nor numpy): a fresh virtual environment.
function barePython(): string {
  const dir = tmpdir('westream-doctor-venv-');
  execFileSync(venvPython, ['-m', 'venv', '--without-pip', dir]);
  return path.join(dir, 'bin', 'python');
}

describe('westream doctor', () => {
  it('on this machine: every check westream needs passes, and the facts match the installed parts', async () => {
    const { code, report, check } = await doctor(['--python', venvPython]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    for (const name of ['node', 'addon', 'channel', 'channel @abstract', 'fifo', 'python', 'python producer', 'openmm', 'westpa']) {
      expect(check(name).status, `${name}: ${check(name).detail}`).toBe('ok');
    }
    expect(check('channel').data).toMatchObject({ frames: 50, natoms: 20000 });
    expect(check('python producer').detail).toContain('5 frames sent by westream.Producer arrived exact');
    const versions = JSON.parse(
      execFileSync(venvPython, ['-c', 'import json, openmm, westpa; print(json.dumps([openmm.__version__, westpa.__version__]))'], { encoding: 'utf8' }),
    );
    expect(check('openmm').data).toMatchObject({ version: versions[0], streamForce: true });
    expect(check('openmm').detail).toContain('StreamForce built');
    expect((check('openmm').data!.platforms as string[])).toContain('CPU');
    expect(check('westpa').data).toMatchObject({ version: versions[1], w_run: path.join(path.dirname(venvPython), 'w_run') });
    const gmx = /GROMACS version:\s*(\S+)/.exec(execFileSync('gmx', ['--version'], { encoding: 'utf8' }))![1];
    expect(check('gromacs').detail).toContain(`(GROMACS ${gmx})`);
    expect(check('west.cfg').status).toBe('info');
  });

  it('a named Python that does not run, or lacks the westream package: FAIL with what to do, exit 1', async () => {
    const missing = await doctor(['--python', '/nonexistent/python3']);
    expect(missing.code).toBe(1);
    expect(missing.check('python')).toMatchObject({ status: 'fail' });
    expect(missing.check('python').detail).toContain('/nonexistent/python3 (from --python) does not run');
    expect(missing.check('python').hint).toContain('--python');
    const notPython = await doctor(['--python', '/bin/echo']); // runs, but is no Python
    expect(notPython.code).toBe(1);
    expect(notPython.check('python').detail).toContain('/bin/echo (from --python) printed no report');

    const bare = barePython();
    const r = await doctor([], { WESTREAM_PYTHON: bare });
    expect(r.code).toBe(1);
    expect(r.check('python').detail).toContain('(from WESTREAM_PYTHON)');
    expect(r.check('python producer')).toMatchObject({ status: 'fail' });
    expect(r.check('python producer').detail).toContain("No module named 'westream'");
    expect(r.check('python producer').hint).toContain(`${bare} -m pip install ${path.resolve('python')}`);
    expect(r.check('openmm').status).toBe('info');
    fs.rmSync(path.dirname(path.dirname(bare)), { recursive: true, force: true });
  });

  it('a --python that hangs is stopped at the timeout with everything it started, exit 1', async () => {
    const dir = tmpdir('westream-doctor-hang-');
    const script = path.join(dir, 'python');
    // A wrapper whose child hangs: the child must not outlive doctor.
    fs.writeFileSync(script, `#!/bin/sh\nsleep 300 &\necho $! > ${dir}/child.pid\nwait\n`, { mode: 0o755 });
    const t0 = performance.now();
    const r = await doctor(['--python', script], { WESTREAM_DOCTOR_TIMEOUT: '1' });
    expect(r.code).toBe(1);
    expect(r.check('python')).toMatchObject({ status: 'fail' });
    expect(r.check('python').detail).toBe(`${script} (from --python) does not run: timed out after 1 s`);
    expect(performance.now() - t0).toBeLessThan(20_000);
    const child = Number(fs.readFileSync(path.join(dir, 'child.pid'), 'utf8'));
    expect(child).toBeGreaterThan(0);
    expect(isAlive(child)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a --python that fails silently, or prints binary garbage, is described in one clean line', async () => {
    const silent = await doctor(['--python', '/bin/false']);
    expect(silent.code).toBe(1);
    expect(silent.check('python').detail).toBe('/bin/false (from --python) does not run: exit status 1, no output');

    const dir = tmpdir('westream-doctor-garbage-');
    const garbage = path.join(dir, 'python');
    fs.writeFileSync(garbage, `#!/bin/sh\nhead -c 4000 ${process.execPath}\nexit 3\n`, { mode: 0o755 });
    const g = await doctor(['--python', garbage]);
    expect(g.code).toBe(1);
    const detail = g.check('python').detail;
    expect(detail).toMatch(/does not run: exit status 3: \S/);
    const echoed = detail.slice(detail.indexOf('exit status 3: ') + 'exit status 3: '.length);
    expect(echoed.length).toBeLessThanOrEqual(200);
    expect(detail).toMatch(/^[\x20-\x7e…]*$/); // printable only
    // the same garbage with exit status 0: "printed no report", equally clean
    fs.writeFileSync(garbage, `#!/bin/sh\nhead -c 4000 ${process.execPath}\n`, { mode: 0o755 });
    const g0 = await doctor(['--python', garbage]);
    expect(g0.check('python').detail).toMatch(/printed no report: \S/);
    expect(g0.check('python').detail).toMatch(/^[\x20-\x7e…]*$/);
    const text = await start(process.execPath, [westreamBin, 'doctor', '--python', garbage]).exit;
    expect(text.stdout).toMatch(/^[\x20-\x7e\n…→]*$/u);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('python3 on PATH without westream is only a warning (engines may not use Python), exit 0', async () => {
    const bare = barePython();
    const r = await doctor([], { PATH: `${path.dirname(bare)}:${process.env.PATH}`, WESTREAM_PYTHON: '' });
    expect(r.code).toBe(0);
    expect(r.check('python').detail).toContain('(from PATH)');
    expect(r.check('python producer').status).toBe('warn');
    fs.rmSync(path.dirname(path.dirname(bare)), { recursive: true, force: true });
  });

  it('a westream package that does not stream: the live round trip fails, naming why', async () => {
    // A stand-in package that imports fine but never connects, then one that dies mid-way.
    const dir = tmpdir('westream-doctor-fake-');
    fs.mkdirSync(path.join(dir, 'westream'));
    const init = path.join(dir, 'westream', '__init__.py');
    fs.writeFileSync(init, '__version__ = "0.0.0"\nclass Producer:\n    def __init__(self, n): pass\n    def __enter__(self): return self\n    def __exit__(self, *a): pass\n    def send(self, *a, **k): pass\n');
    const silent = await doctor(['--python', venvPython], { PYTHONPATH: dir });
    expect(silent.code).toBe(1);
    expect(silent.check('python producer').detail).toMatch(/exited without connecting to the channel/);
    // That package has no westream._openmm: OpenMM is there, StreamForce is not.
    expect(silent.check('openmm').status).toBe('warn');
    expect(silent.check('openmm').detail).toMatch(/StreamForce is not built for it \(ModuleNotFoundError: No module named 'westream.openmm'\)/);
    expect(silent.check('openmm').hint).toContain(`${venvPython} -m pip install --no-build-isolation`);

    fs.writeFileSync(init, '__version__ = "0.0.0"\nclass Producer:\n    def __init__(self, n): raise RuntimeError("wire protocol 2 is not spoken here")\n');
    const dies = await doctor(['--python', venvPython], { PYTHONPATH: dir });
    expect(dies.code).toBe(1);
    expect(dies.check('python producer').detail).toMatch(/exited with 1 after 0 frames: RuntimeError: wire protocol 2 is not spoken here/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads west.cfg as `westream run` does: its pcoord shape, or FAIL on a broken one', async () => {
    const dir = tmpdir('westream-doctor-sim-');
    const cfg = (len: number) => `west:\n  system:\n    system_options:\n      pcoord_ndim: 2\n      pcoord_len: ${len}\n`;
    fs.writeFileSync(path.join(dir, 'west.cfg'), cfg(11));
    const good = await doctor(['--no-python'], { WEST_SIM_ROOT: '' }, dir);
    expect(good.code).toBe(0);
    expect(good.check('west.cfg')).toMatchObject({ status: 'ok', data: { pcoordLen: 11, pcoordNdim: 2 } });
    expect(good.report.checks.some((c) => c.name.startsWith('python'))).toBe(false);

    fs.writeFileSync(path.join(dir, 'west.cfg'), cfg(0));
    const bad = await doctor(['--no-python'], { WEST_SIM_ROOT: dir });
    expect(bad.code).toBe(1);
    expect(bad.check('west.cfg').status).toBe('fail');
    expect(bad.check('west.cfg').detail).toContain('pcoord_len must be a positive integer, got 0');
    // An alias bomb is refused, naming the file.
    fs.writeFileSync(path.join(dir, 'west.cfg'), 'a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n');
    const bomb = await doctor(['--no-python'], { WEST_SIM_ROOT: dir });
    expect(bomb.check('west.cfg')).toMatchObject({ status: 'fail', detail: `${path.join(dir, 'west.cfg')}: Excessive alias count indicates a resource exhaustion attack` });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints one line per check and a summary; --help has examples', async () => {
    const r = await start(process.execPath, [westreamBin, 'doctor', '--no-python']).exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}node {15}Node v\d+/m);
    expect(r.stdout).toMatch(/^ok {4}channel {12}50 frames of 20000 atoms from westream-synthetic, bit-exact/m);
    expect(r.stdout).toMatch(/\n\d+ ok, \d+ warnings, 0 failed\n$/);
    const help = await start(process.execPath, [westreamBin, 'doctor', '--help']).exit;
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('$ westream doctor --python');
  });
});
