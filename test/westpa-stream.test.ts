// `westream stream` (WESTPA's stream_trajectory, PR #495) and `westream run
// --via-stream` (the propagator side). PyPI's WESTPA has no
// stream_trajectory block, so both sides get the exact environment WESTPA's
// PR #495 gives them: the stream child only WEST_SIM_ROOT, WEST_CURRENT_ITER,
// WEST_SEG_PORT (10000 + seg id) and the random variables; the propagator
// the usual segment variables.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { start, tmpdir, venvPython, westreamBin } from './support/helpers.js';

function simRoot(): string {
  const sim = tmpdir('westream-stream-');
  fs.writeFileSync(
    path.join(sim, 'west.cfg'),
    'west:\n  system:\n    system_options:\n      pcoord_ndim: 1\n      pcoord_len: 4\n      pcoord_dtype: !!python/name:numpy.float32\n',
  );
  fs.writeFileSync(
    path.join(sim, 'two.pdb'),
    'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n',
  );
  fs.writeFileSync(path.join(sim, 'pcoord.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
  // The engine: 4 frames, Cl at x = 3, 4, 5, 6 Å.
  fs.writeFileSync(
    path.join(sim, 'engine.py'),
    'import numpy as np, westream\nwith westream.Producer(2) as p:\n    for k in range(4):\n        p.send(np.array([[0, 0, 0], [3.0 + k, 0, 0]]), step=k)\n',
  );
  return sim;
}

const streamEnv = (sim: string, seg: number) => ({
  WEST_SIM_ROOT: sim,
  WEST_CURRENT_ITER: '2',
  WEST_SEG_PORT: String(10000 + seg),
  WEST_RAND16: '1234',
  WEST_PCOORD_RETURN: '',
  WEST_CURRENT_SEG_ID: '',
});

function propagatorEnv(sim: string, seg: number): NodeJS.ProcessEnv {
  const ret = path.join(sim, `pcoord-${seg}.txt`);
  fs.writeFileSync(ret, '');
  return {
    WEST_SIM_ROOT: sim,
    WEST_CURRENT_ITER: '2',
    WEST_CURRENT_SEG_ID: String(seg),
    WEST_CURRENT_SEG_DATA_REF: sim,
    WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_CONTINUES',
    WEST_PCOORD_RETURN: ret,
  };
}

const recordFile = (sim: string, seg: number, side: 'stream' | 'propagator') => path.join(sim, '.westream', 'rendezvous', '2', `${seg}.${side}.json`);

function readRecord(sim: string, seg: number, side: 'stream' | 'propagator'): { mode?: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(sim, seg, side), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A record as a side leaves it (iteration 2). */
function writeRecord(sim: string, seg: number, record: { side: 'stream' | 'propagator'; mode?: string; host: string; pid: number; at: number }): void {
  const file = recordFile(sim, seg, record.side);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record));
}

/** The pid of a process that has exited (and been reaped). */
const deadPid = () => spawnSync('true').pid!;

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('westream stream + westream run --via-stream', () => {
  it('frames go to the stream process; its pcoords come back and are written by the propagator', async () => {
    const sim = simRoot();
    const streamSide = start(process.execPath, [westreamBin, 'stream', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 7));
    const env = propagatorEnv(sim, 7);
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).toMatch(/streaming to westream stream/);
    expect(prop.stderr).toMatch(/wrote 4 pcoord rows from the stream side/);
    const s = await streamSide.exit;
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/iteration 2 segment 7: analysed 4 frames/);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
  });

  it('on different nodes both sides say so within seconds; the propagator analyses locally', async () => {
    const sim = simRoot();
    // Another hostname (a UTS namespace) stands in for another node.
    const streamSide = start('unshare', ['--uts', 'sh', '-c', `hostname other-node && exec "${process.execPath}" "${westreamBin}" stream --pipeline "${path.join(sim, 'pcoord.yaml')}"`], streamEnv(sim, 3));
    const env = propagatorEnv(sim, 3);
    const t0 = performance.now();
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).toMatch(/the stream side runs on node other-node .*; analysing this segment locally/);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
    const s = await streamSide.exit;
    expect(s.code).toBe(4);
    expect(s.stderr).toMatch(/the propagator side runs on node .*this stream side on other-node/);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });

  it('without a stream side the propagator falls back to local analysis after --stream-wait', async () => {
    const sim = simRoot();
    const env = propagatorEnv(sim, 1);
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--stream-wait', '0.5', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).toMatch(/no stream_trajectory process announced itself within 0.5 s; analysing this segment locally/);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
    // A stream side that starts late learns it is not needed, and stops. The
    // propagator has exited and wrote its record before this side started,
    // as a previous attempt's would look: trusted once no live propagator
    // replaced it within min(--connect-timeout, 10 s).
    const late = await start(process.execPath, [westreamBin, 'stream', '--connect-timeout', '2', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 1)).exit;
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).toMatch(/the propagator of this segment \(pid \d+\) analysed it itself at .* and has exited; nothing to stream/);
    expect(fs.existsSync(recordFile(sim, 1, 'propagator'))).toBe(false);
  });

  it('a stream side that comes late while the propagator analyses locally stops at once', async () => {
    const sim = simRoot();
    // An engine slow enough to still run when the stream side starts.
    fs.writeFileSync(path.join(sim, 'slow.py'), 'import time\ntime.sleep(3)\n' + fs.readFileSync(path.join(sim, 'engine.py'), 'utf8'));
    const env = propagatorEnv(sim, 2);
    const prop = start(process.execPath, [westreamBin, 'run', '--via-stream', '--stream-wait', '0.3', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'slow.py')], env);
    await until(() => readRecord(sim, 2, 'propagator')?.mode === 'local');
    const t0 = performance.now();
    const late = await start(process.execPath, [westreamBin, 'stream', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 2)).exit;
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).toMatch(/the propagator analysed this segment itself; nothing to stream/);
    expect(performance.now() - t0).toBeLessThan(2500);
    const p = await prop.exit;
    expect(p.code, p.stderr).toBe(0);
  });

  it('a stream side ended by a signal removes its record; a propagator then analyses locally', async () => {
    const sim = simRoot();
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const s = start(process.execPath, [westreamBin, 'stream', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 11));
      await until(() => fs.existsSync(recordFile(sim, 11, 'stream')));
      s.child.kill(signal);
      const exit = await s.exit;
      expect(exit.code, exit.stderr).toBe(128 + os.constants.signals[signal]);
      expect(exit.stderr).toMatch(new RegExp(`received ${signal}, stopping`));
      expect(fs.existsSync(recordFile(sim, 11, 'stream'))).toBe(false);
    }
    expect(fs.readdirSync(path.dirname(recordFile(sim, 11, 'stream')))).toEqual([]);
    const env = propagatorEnv(sim, 11);
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--stream-wait', '0.5', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
  });

  it('a stream record left by a dead process (SIGKILL) is ignored: the propagator analyses locally', async () => {
    const sim = simRoot();
    writeRecord(sim, 12, { side: 'stream', host: os.hostname(), pid: deadPid(), at: Date.now() });
    const env = propagatorEnv(sim, 12);
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--stream-wait', '0.5', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).not.toMatch(/streaming to westream stream/);
    expect(prop.stderr).toMatch(/no stream_trajectory process announced itself within 0.5 s; analysing this segment locally/);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
  });

  it('a stream record whose pid lives but does not listen (a reused pid) makes the propagator analyse locally', async () => {
    const sim = simRoot();
    writeRecord(sim, 13, { side: 'stream', host: os.hostname(), pid: process.pid, at: Date.now() });
    const env = propagatorEnv(sim, 13);
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).toMatch(new RegExp(`the stream side's record names pid ${process.pid}, but nothing listens at @westream-\\S+; analysing this segment locally`));
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
  });

  it("a previous attempt's 'local' propagator record does not stop a fresh stream side", async () => {
    const sim = simRoot();
    writeRecord(sim, 14, { side: 'propagator', mode: 'local', host: os.hostname(), pid: deadPid(), at: Date.now() - 5_000 });
    const streamSide = start(process.execPath, [westreamBin, 'stream', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 14));
    await new Promise((r) => setTimeout(r, 1500)); // the stream side has looked at the stale record several times
    const env = propagatorEnv(sim, 14);
    const t0 = performance.now();
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], env).exit;
    expect(prop.code, prop.stderr).toBe(0);
    expect(prop.stderr).toMatch(/streaming to westream stream/);
    expect(prop.stderr).toMatch(/wrote 4 pcoord rows from the stream side/);
    expect(performance.now() - t0).toBeLessThan(8_000); // not the whole --stream-wait
    const s = await streamSide.exit;
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/analysed this segment itself/);
    expect(fs.readFileSync(env.WEST_PCOORD_RETURN!, 'utf8').trim().split('\n').map(Number)).toEqual([3, 4, 5, 6]);
  });

  it('a WEST_SIM_ROOT that does not exist is refused by both sides and never created', async () => {
    const base = tmpdir('westream-stream-');
    const sim = simRoot();
    const missing = path.join(base, 'no', 'such', 'sim');
    const s = await start(process.execPath, [westreamBin, 'stream', '--connect-timeout', '1', '--pipeline', path.join(sim, 'pcoord.yaml')], { ...streamEnv(sim, 5), WEST_SIM_ROOT: missing }).exit;
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(new RegExp(`WEST_SIM_ROOT ${missing} does not exist`));
    expect(s.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const prop = await start(process.execPath, [westreamBin, 'run', '--via-stream', '--stream-wait', '0.5', '--pipeline', path.join(sim, 'pcoord.yaml'), '--', venvPython, path.join(sim, 'engine.py')], { ...propagatorEnv(sim, 5), WEST_SIM_ROOT: missing }).exit;
    expect(prop.code).toBe(2);
    expect(prop.stderr).toMatch(new RegExp(`WEST_SIM_ROOT ${missing} does not exist`));
    expect(fs.readdirSync(base)).toEqual([]);
    // a file is no simulation folder either
    const file = path.join(base, 'file');
    fs.writeFileSync(file, '');
    const f = await start(process.execPath, [westreamBin, 'stream', '--connect-timeout', '1', '--pipeline', path.join(sim, 'pcoord.yaml')], { ...streamEnv(sim, 5), WEST_SIM_ROOT: file }).exit;
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/is not a folder/);
  });

  it('a stream side whose engine never comes times out with a clear message', async () => {
    const sim = simRoot();
    const s = await start(process.execPath, [westreamBin, 'stream', '--connect-timeout', '1', '--pipeline', path.join(sim, 'pcoord.yaml')], streamEnv(sim, 5)).exit;
    expect(s.code).toBe(3);
    expect(s.stderr).toMatch(/no engine connected within 1 s/);
  });

  it('a stream side without WEST_SEG_PORT or WEST_CURRENT_SEG_ID says what is missing', async () => {
    const sim = simRoot();
    const s = await start(process.execPath, [westreamBin, 'stream', '--pipeline', path.join(sim, 'pcoord.yaml')], { ...streamEnv(sim, 5), WEST_SEG_PORT: '' }).exit;
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/neither WEST_CURRENT_SEG_ID nor WEST_SEG_PORT is set/);
  });
});
