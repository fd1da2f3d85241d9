// `westream run`: the engine wrapper, end to end with real processes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { isAlive, start, synthetic, tmpdir, venvPython, westreamBin } from './support/helpers.js';

const westream = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  start(process.execPath, [westreamBin, ...args], { WESTREAM_LOG_LEVEL: 'info', ...env });

describe('westream run', () => {
  it('streams the command\'s frames through the print pipeline and exits 0', async () => {
    const r = await westream(['run', '--', synthetic, '--atoms', '7', '--frames', '4']).exit;
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(4);
    expect(lines[2]).toMatch(/^frame 2 natoms 7 step 20 time 0.04 x0 -?\d+\.\d{3} -?\d+\.\d{3} -?\d+\.\d{3}$/);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ frames: 4, natoms: 7, msg: 'streamed 4 frames of 7 atoms' + summary.msg.slice(28) });
  });

  it('an unbuilt checkout: a message saying to build, exit 70', async () => {
    const dir = tmpdir('westream-unbuilt-');
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(westreamBin, path.join(dir, 'bin', 'westream.cjs'));
    const r = await start(process.execPath, [path.join(dir, 'bin', 'westream.cjs'), '--version']).exit;
    expect(r.code).toBe(70);
    expect(r.stderr).toContain(`westream: ${path.join(dir, 'dist', 'bundle', 'westream.cjs')} is missing: build the checkout with \`npm ci\` or \`npm run build\``);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs in colour on a terminal (pino-pretty, loaded only then)', async () => {
    // util-linux `script` gives westream a pseudo-terminal for stdout and stderr.
    const cmd = [process.execPath, westreamBin, 'run', '--pipeline', 'count', '--', synthetic, '--atoms', '3', '--frames', '2'].join(' ');
    const r = await start('script', ['-qec', cmd, '/dev/null'], { WESTREAM_LOG_LEVEL: 'info' }).exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\x1b\[\d+mINFO\x1b\[39m.*streamed 2 frames of 3 atoms/);
    expect(r.stdout).not.toMatch(/"level":30/);
  });

  it('exports WESTREAM_ADDRESS and runs the command in its own process group', async () => {
    const r = await westream(['run', '--', 'sh', '-c', `echo "addr=$WESTREAM_ADDRESS pgid=$(ps -o pgid= $$) pid=$$" >&2; exec ${synthetic} --frames 1`]).exit;
    expect(r.code).toBe(0);
    const m = /addr=(\S+) pgid=\s*(\d+) pid=(\d+)/.exec(r.stderr)!;
    expect(m[1]).toMatch(/^\/.*\/westream-[^/]+\/channel\.sock$/);
    expect(m[2]).toBe(m[3]); // the command leads its own group
    expect(fs.existsSync(path.dirname(m[1]))).toBe(false);
  });

  it('--via-stream with --trajectory or --imd: refused before anything starts (the stream side only takes the channel)', async () => {
    for (const other of [['--trajectory', 'md.xtc'], ['--imd', 'gromacs']]) {
      const r = await westream(['run', '--via-stream', ...other, '--pipeline', 'pcoord.yaml', '--', 'sh', '-c', 'echo started >&2']).exit;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: option '--via-stream' cannot be used with option '${other[0]} <`);
      expect(r.stderr).not.toContain('started');
    }
  });

  it('a WESTPA segment with --pcoord-len: a wrong row count names --pcoord-len (not west.cfg) and leaves an empty return file', async () => {
    const sim = tmpdir('westream-pcoord-len-');
    fs.writeFileSync(path.join(sim, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
    fs.writeFileSync(path.join(sim, 'pcoord.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
    const ret = path.join(sim, 'pcoord.txt');
    fs.writeFileSync(ret, 'stale\n');
    const env = { WEST_SIM_ROOT: sim, WEST_CURRENT_ITER: '1', WEST_CURRENT_SEG_ID: '0', WEST_CURRENT_SEG_DATA_REF: sim, WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_CONTINUES', WEST_PCOORD_RETURN: ret };
    const r = await westream(['run', '--pipeline', path.join(sim, 'pcoord.yaml'), '--pcoord-len', '5', '--', synthetic, '--atoms', '2', '--frames', '3'], env).exit;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('3 pcoord rows, but --pcoord-len is 5');
    expect(fs.readFileSync(ret, 'utf8')).toBe('');
    fs.rmSync(sim, { recursive: true, force: true });
  });

  it('bad channel options and a bad stdout: a clear error and a non-zero exit, no stack trace', async () => {
    const dir = tmpdir('westream-badopt-');
    fs.writeFileSync(path.join(dir, 'plain'), 'not a socket');
    const cases: [string[], number, string][] = [
      [['--nslots', '1025'], 1, "option '--nslots <n>' argument '1025' is invalid. expected at most 1024 slots"],
      [['--address', path.join(dir, 'no', 'x.sock')], 2, `cannot listen on the channel: cannot create westream channel: binding channel socket ${path.join(dir, 'no', 'x.sock')}: No such file or directory`],
      [['--address', path.join(dir, 'plain')], 2, 'Address already in use (a file that is not a socket is there: pick another address)'],
      [['--address', 'x'.repeat(173)], 2, 'channel address is 173 bytes, the limit for a Unix socket is 107'],
    ];
    for (const [opts, code, message] of cases) {
      const r = await westream(['run', ...opts, '--', synthetic, '--frames', '1']).exit;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack trace
    }
    const full = await start('sh', ['-c', `"${process.execPath}" "${westreamBin}" run -- ${synthetic} --frames 3 > /dev/full`], { WESTREAM_LOG_LEVEL: 'info' }).exit;
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('westream: cannot write to standard output (ENOSPC): its lines are lost');
    const start_ = await westream(['run', '--start', 'bstate.pdb', '--pipeline', 'count', '--', synthetic, '--frames', '1']).exit;
    expect(start_.code).toBe(0);
    expect(start_.stderr).toContain("--start bstate.pdb is ignored: it gives row 0 of a WESTPA segment's pcoord");
    const loud = await westream(['run', '--pipeline', 'count', '--', synthetic, '--frames', '2'], { WESTREAM_LOG_LEVEL: 'loud' }).exit;
    expect(loud.code).toBe(0);
    expect(loud.stderr).toContain('westream: WESTREAM_LOG_LEVEL=loud is not a log level (trace, debug, info, warn, error, silent); using info');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('westream killed outright (SIGKILL): its watchdog stops the engine group and removes the private files', async () => {
    const waitFor = async (ok: () => boolean, ms: number) => {
      for (const t0 = Date.now(); !ok() && Date.now() - t0 < ms; ) await new Promise((r) => setTimeout(r, 20));
      return ok();
    };
    for (const mode of [[], ['--trajectory', 'x.xtc']]) {
      const dir = tmpdir('westream-kill9-');
      const info = path.join(dir, 'info');
      // An engine that ignores SIGTERM (and so does its child): only SIGKILL after the grace stops it.
      const r = westream(['run', ...mode, '--kill-grace', '0.5', '--pipeline', 'count', '--', 'sh', '-c', `trap "" TERM; echo "$$ \${WESTREAM_ADDRESS:-$WESTREAM_TRAJECTORY}" > ${info}.tmp; mv ${info}.tmp ${info}; sleep 600`]);
      expect(await waitFor(() => fs.existsSync(info), 10_000)).toBe(true);
      const [pid, where] = fs.readFileSync(info, 'utf8').trim().split(' ');
      r.child.kill('SIGKILL');
      await r.exit;
      expect(await waitFor(() => !isAlive(Number(pid)), 5_000), `engine ${pid} still runs`).toBe(true);
      expect(await waitFor(() => !fs.existsSync(path.dirname(where)), 2_000), `${path.dirname(where)} is left`).toBe(true);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a normal run leaves no watchdog behind', async () => {
    const r = await westream(['run', '--pipeline', 'count', '--', 'sh', '-c', `echo "pid=$$" >&2; exec ${synthetic} --frames 2`]).exit;
    expect(r.code).toBe(0);
    const pid = /pid=(\d+)/.exec(r.stderr)![1];
    await new Promise((res) => setTimeout(res, 200));
    const ps = spawnSync('pgrep', ['-f', `westream-watchdog ${pid} `], { encoding: 'utf8' });
    expect(ps.stdout.trim()).toBe('');
  });

  it('a WESTPA segment\'s pcoord is written when its last row is computed, before the stream ends; a frame too many empties it again', async () => {
    const sim = tmpdir('westream-early-');
    fs.writeFileSync(path.join(sim, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
    fs.writeFileSync(path.join(sim, 'pcoord.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
    const ret = path.join(sim, 'pcoord.txt');
    const env = { WEST_SIM_ROOT: sim, WEST_CURRENT_ITER: '1', WEST_CURRENT_SEG_ID: '0', WEST_CURRENT_SEG_DATA_REF: sim, WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_CONTINUES', WEST_PCOORD_RETURN: ret };
    // An engine that sends its frames, then takes its time before ending the stream.
    const engine = (n: number) => `import time, numpy as np, westream
with westream.Producer(2) as p:
    for k in range(${n}): p.send(np.array([[0, 0, 0], [3.0 + k, 0, 0]]))
    time.sleep(1.5)
`;
    fs.writeFileSync(ret, '');
    const r = westream(['run', '--pipeline', path.join(sim, 'pcoord.yaml'), '--pcoord-len', '3', '--', venvPython, '-c', engine(3)], env);
    let exited = false;
    void r.exit.then(() => (exited = true));
    let early = '';
    while (!early && !exited) {
      await new Promise((res) => setTimeout(res, 20));
      early = fs.readFileSync(ret, 'utf8');
    }
    expect(exited).toBe(false); // seen while westream still waited for the end of the stream
    expect(early).toBe('3\n4\n5\n');
    const ok = await r.exit;
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.readFileSync(ret, 'utf8')).toBe('3\n4\n5\n');

    const tooMany = await westream(['run', '--pipeline', path.join(sim, 'pcoord.yaml'), '--pcoord-len', '3', '--', venvPython, '-c', engine(4)], env).exit;
    expect(tooMany.code).toBe(3);
    expect(tooMany.stderr).toContain('4 pcoord rows, but --pcoord-len is 3');
    expect(fs.readFileSync(ret, 'utf8')).toBe('');
  });

  it('passes the command\'s failure on as its exit status', async () => {
    const r = await westream(['run', '--', 'sh', '-c', `${synthetic} --frames 2 && exit 4`]).exit;
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/failed with exit code 4 after 2 frames/);
  });

  it('a producer that crashes: non-zero exit naming the last frame', async () => {
    const r = await westream(['run', '--', synthetic, '--atoms', '10', '--frames', '9', '--crash-after', '5']).exit;
    expect(r.code).toBe(137);
    expect(r.stderr).toMatch(/exited after frame 4 \(5 frames\) without ending the stream/);
  });

  it('a command that never connects is an error, not a hang', async () => {
    const r = await westream(['run', '--', 'true']).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/true exited \(exit code 0\) without connecting to the channel/);
  });

  it('a command that cannot start exits 127', async () => {
    const r = await westream(['run', '--', '/nonexistent/engine']).exit;
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/cannot start \/nonexistent\/engine/);
  });

  it('a failed stream stops the whole engine group: nothing is left running', async () => {
    const dir = tmpdir('westream-run-');
    const pids = path.join(dir, 'pids');
    // The shell keeps running after its producer fails; a grandchild sleeps.
    const script = `sleep 60 & echo $! > ${pids}; ${synthetic} --atoms 10 --frames 20 --corrupt seq; sleep 60`;
    const t0 = performance.now();
    const r = await westream(['run', '--kill-grace', '1', '--', 'sh', '-c', script]).exit;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/ring corrupt: slot \d+ holds frame 999999/);
    expect(performance.now() - t0).toBeLessThan(10_000);
    const sleeper = Number(fs.readFileSync(pids, 'utf8'));
    await new Promise((res) => setTimeout(res, 100));
    expect(isAlive(sleeper)).toBe(false);
  });

  it('forwards SIGTERM to the engine group and exits 143', async () => {
    const dir = tmpdir('westream-run-');
    const pids = path.join(dir, 'pids');
    const run = westream(['run', '--', 'sh', '-c', `echo $$ > ${pids}; ${synthetic} --atoms 10 --frames 1000000 --delay-us 1000`]);
    // Wait until frames flow.
    await new Promise<void>((resolve) => run.child.stdout!.on('data', (d) => String(d).includes('frame 3 ') && resolve()));
    run.child.kill('SIGTERM');
    const r = await run.exit;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/received SIGTERM/);
    expect(isAlive(Number(fs.readFileSync(pids, 'utf8')))).toBe(false);
  });

  it('says in its summary whether the analysis or the engine set the pace', async () => {
    // An expensive pipeline (20 coordination counts over 10^6 pairs) on frames
    // sent as fast as possible, then a cheap one on frames 20 ms apart.
    const dir = tmpdir('westream-pace-');
    const natoms = 2000;
    const atom = (i: number) => `ATOM  ${String(i + 1).padStart(5)}  C   UNK A   1    ${'   0.000'.repeat(3)}  1.00  0.00           C`;
    fs.writeFileSync(path.join(dir, 'top.pdb'), `${Array.from({ length: natoms }, (_, i) => atom(i)).join('\n')}\nEND\n`);
    const measures = Array.from({ length: 20 }, (_, k) => `  - {name: c${k}, coordination: {a: index 0-999, b: index 1000-1999, cutoff: ${3 + k / 10}}}`);
    fs.writeFileSync(path.join(dir, 'heavy.yaml'), ['topology: top.pdb', 'pbc: false', 'pcoord:', ...measures, ''].join('\n'));
    const summaryOf = (stderr: string) => JSON.parse(stderr.trim().split('\n').pop()!);

    const heavy = await westream(['run', '--pipeline', path.join(dir, 'heavy.yaml'), '--', synthetic, '--atoms', String(natoms), '--frames', '30', '--fast']).exit;
    expect(heavy.code).toBe(0);
    expect(heavy.stdout.trim().split('\n')).toHaveLength(30);
    const h = summaryOf(heavy.stderr);
    expect(h.pipelineBusyShare).toBeGreaterThan(0.9);
    expect(h.pipelineBusySeconds).toBeGreaterThan(0);
    expect(h.pipelineBusySeconds).toBeLessThanOrEqual(h.seconds);
    expect(h.msg).toMatch(/pipeline busy \d+ % of the time since the first frame \(the analysis paced the stream/);

    const light = await westream(['run', '--pipeline', 'count', '--', synthetic, '--atoms', '10', '--frames', '10', '--delay-us', '20000']).exit;
    expect(light.code).toBe(0);
    const l = summaryOf(light.stderr);
    expect(l.pipelineBusyShare).toBeLessThan(0.2);
    expect(l.msg).not.toMatch(/paced/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a producer with the wrong atom count when asked to', async () => {
    const r = await westream(['run', '--expect-atoms', '5', '--', synthetic, '--atoms', '6', '--frames', '2']).exit;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/sends 6 atoms but 5 were expected/);
  });

  it('--help shows examples; a missing command is a usage error', async () => {
    const help = await westream(['run', '--help']).exit;
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n\s+\$ westream run/);
    const top = await westream(['--help']).exit;
    expect(top.stdout).toMatch(/Examples:/);
    const bad = await westream(['run']).exit;
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/missing required argument/);
  });
});
