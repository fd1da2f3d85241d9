// Real WESTPA (PyPI) driving the OpenMM NaCl example: runseg.sh uses
// `westream run` with the Python StreamReporter over the channel; every
// stored pcoord is compared with MDAnalysis on the DCDs the segments also keep.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { root, start, tmpdir, venvPython } from './support/helpers.js';
import { checkWestpaRun } from './support/westpa.js';

const example = path.join(root, 'examples', 'openmm-nacl');

function env(sim: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (!fs.existsSync(venvPython)) throw new Error(`${venvPython} is missing: run scripts/setup.sh (npm test does) first`);
  return {
    WESTREAM_HOME: root,
    WESTREAM_PYTHON: venvPython,
    WEST_SIM_ROOT: sim,
    SEG_DCD: '1',
    SEGS_PER_STATE: '2',
    WESTREAM_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A fresh copy of the example with `edit` applied to west.cfg, initialised with w_init. */
async function initSim(edit: (cfg: string) => string = (c) => c, extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const sim = path.join(tmpdir('westream-westpa-'), 'nacl');
  fs.cpSync(example, sim, { recursive: true });
  const cfg = path.join(sim, 'west.cfg');
  fs.writeFileSync(cfg, edit(fs.readFileSync(cfg, 'utf8').replace('bin_target_counts: 5', 'bin_target_counts: 2')));
  const init = await start('bash', [path.join(sim, 'init.sh')], env(sim, extra)).exit;
  expect(init.code, init.stdout + init.stderr).toBe(0);
  return sim;
}

const check = (sim: string) => checkWestpaRun(sim, 'bstate.pdb', 'seg.dcd');

function noEngineLeft(sim: string): void {
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(sim) && /segment\.py|westream/.test(l));
  expect(left).toEqual([]);
}

describe('WESTPA with the OpenMM NaCl example', () => {
  it('w_init + w_run, processes work manager, 2 workers, 3 iterations: pcoords equal MDAnalysis post hoc', async () => {
    const sim = await initSim();
    const run = await start('bash', [path.join(sim, 'run.sh')], env(sim, { WORKERS: '2' })).exit;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/PropagationError|exception caught/);
    const c = check(sim);
    expect(c.iterations).toBe(3);
    expect(c.statuses.filter((s) => s === 2).length).toBe(c.segments);
    expect(c.segments).toBeGreaterThanOrEqual(6);
    expect(c.rows_checked).toBe(c.segments * 3);
    expect(c.max_dev).toBeLessThan(1e-4);
    expect(c.start_dev).toBeLessThan(1e-4);
    // Each segment's log says how many frames arrived and when the pcoord was written.
    const log = fs.readFileSync(path.join(sim, 'seg_logs', '000001-000000.log'), 'utf8');
    expect(log).toMatch(/iteration 1 segment 0: wrote 3 pcoord rows/);
    expect(log).toMatch(/streamed 3 frames of \d+ atoms .*; pipeline busy \d+ % of the time since the first frame/);
    // The demo's closing summary (scripts/demo.sh runs it) reads the same run.
    const summary = execFileSync(venvPython, [path.join(sim, 'summary.py'), sim], { encoding: 'utf8' });
    expect(summary).toContain(`iterations: 3   segments: ${c.segments}`);
    expect(summary).toMatch(/per segment \(mean\): [\d.]+ s wall in WESTPA = engine [\d.]+ s \+ /);
    expect(summary).toMatch(/westream's pipeline computed [\d.]+ ms per segment \(median\) while the engine ran; pcoord written [\d.]+ ms/);
    noEngineLeft(sim);
  });

  it('the same under the zmq work manager: a master and two node clients on this machine', async () => {
    const sim = await initSim((c) => c.replace('max_total_iterations: 3', 'max_total_iterations: 2'));
    const e = env(sim);
    const wRun = path.join(path.dirname(venvPython), 'w_run');
    const info = path.join(sim, 'zmq_host_info.json');
    const common = ['--work-manager', 'zmq', '--zmq-comm-mode', 'ipc'];
    const master = start('bash', ['-c', `cd ${sim} && source env.sh && exec ${wRun} ${common.join(' ')} --n-workers 0 --zmq-mode master --zmq-write-host-info ${info}`], e);
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(info) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fs.existsSync(info)).toBe(true);
    const clients = [0, 1].map(() =>
      start('bash', ['-c', `cd ${sim} && source env.sh && exec ${wRun} ${common.join(' ')} --n-workers 1 --zmq-mode client --zmq-read-host-info ${info}`], e),
    );
    const m = await master.exit;
    expect(m.code, m.stdout + m.stderr).toBe(0);
    for (const c of clients) c.child.kill('SIGTERM');
    await Promise.all(clients.map((c) => c.exit));
    const c = check(sim);
    expect(c.iterations).toBe(2);
    expect(c.segments).toBeGreaterThanOrEqual(4);
    expect(c.max_dev).toBeLessThan(1e-4);
    expect(c.start_dev).toBeLessThan(1e-4);
    noEngineLeft(sim);
  });

  it('StreamForce instead of StreamReporter (SEG_STREAM=force), 2 iterations: pcoords equal MDAnalysis post hoc', async () => {
    const sim = await initSim((c) => c.replace('max_total_iterations: 3', 'max_total_iterations: 2'));
    const run = await start('bash', [path.join(sim, 'run.sh')], env(sim, { WORKERS: '2', SEG_STREAM: 'force' })).exit;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/PropagationError|exception caught/);
    const c = check(sim);
    expect(c.iterations).toBe(2);
    expect(c.statuses.filter((s) => s === 2).length).toBe(c.segments);
    expect(c.rows_checked).toBe(c.segments * 3);
    expect(c.max_dev).toBeLessThan(1e-4);
    expect(c.start_dev).toBeLessThan(1e-4); // row 0: StreamForce's own step-0 frame
    const log = fs.readFileSync(path.join(sim, 'seg_logs', '000002-000000.log'), 'utf8');
    expect(log).toMatch(/streamed 3 frames of \d+ atoms/);
    noEngineLeft(sim);
  });

  it.each([
    ['an engine that crashes', 'crash', /exited after frame 1 \(2 frames\) without ending the stream|failed with signal SIGKILL after 2 frames/],
    ['a short stream', 'short', /2 pcoord rows, but west.cfg's pcoord_len is 3 \(row 0 is the start point, then one row per frame: expected 2 frames after the start, got 1\)/],
    ['a pipeline that throws', 'throws', /atoms/],
  ])('%s: WESTPA records the segment as failed, stores no pcoord, nothing is left running', async (_name, fault, message) => {
    const sim = await initSim((c) => c.replace('max_total_iterations: 3', 'max_total_iterations: 1'));
    const extra: NodeJS.ProcessEnv = {};
    if (fault === 'crash') {
      // The engine dies (SIGKILL) right after streaming its second frame.
      extra.SEG_SCRIPT = path.join(sim, 'crash.py');
      fs.writeFileSync(
        extra.SEG_SCRIPT,
        `import os, runpy, signal, sys
from westream.openmm import StreamReporter
report, sent = StreamReporter.report, []
def dying_report(self, simulation, state):
    report(self, simulation, state)
    self.frames  # report() hands the frame to a background thread: wait until it is out
    sent.append(1)
    if len(sent) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
StreamReporter.report = dying_report
runpy.run_path(os.path.join(os.environ["WEST_SIM_ROOT"], "segment.py"), run_name="__main__")
`,
      );
    } else if (fault === 'short') {
      extra.SEG_STEPS = '100'; // one frame after the start point instead of two
    } else {
      // A pipeline whose topology has 2 atoms: the first 734-atom frame makes it throw.
      fs.writeFileSync(path.join(sim, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
      fs.writeFileSync(path.join(sim, 'bad.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
      extra.SEG_PIPELINE = path.join(sim, 'bad.yaml');
    }
    const run = await start('bash', [path.join(sim, 'run.sh')], env(sim, { WORKERS: '2', ...extra })).exit;
    // w_run exits 0 after a failed iteration (westpa-contract.md §1.2): the log tells.
    expect(run.stdout + run.stderr).toMatch(/propagation failed for 2 segments/);
    const log = fs.readFileSync(path.join(sim, 'seg_logs', '000001-000000.log'), 'utf8');
    expect(log).toMatch(message);
    const c = check(sim);
    expect(c.segments).toBe(0); // no segment completed, so no pcoord of them is stored as valid
    noEngineLeft(sim);
  });
});
