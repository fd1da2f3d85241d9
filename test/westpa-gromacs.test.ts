// Real WESTPA (PyPI) driving the GROMACS NaCl example: runseg.sh runs an
// unmodified `gmx mdrun` under `westream run --trajectory seg.xtc --transport
// fifo`, so the XTC goes through a named pipe; every stored pcoord (rows 0..L-1:
// GROMACS writes step 0 itself) is compared with MDAnalysis on the XTC copies
// the segments also keep.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { root, start, tmpdir, venvPython } from './support/helpers.js';
import { checkWestpaRun } from './support/westpa.js';

const example = path.join(root, 'examples', 'gromacs-nacl');

function hasGmx(): boolean {
  try {
    execFileSync('gmx', ['-quiet', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A private parent for the segments' pipe directories, so the test can see that none is left. */
function pipeParent(): string {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : (process.env.TMPDIR ?? '/tmp');
  return fs.mkdtempSync(path.join(base, 'westream-gmxtest-'));
}

function env(sim: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (!fs.existsSync(venvPython)) throw new Error(`${venvPython} is missing: run scripts/setup.sh (npm test does) first`);
  return {
    WESTREAM_HOME: root,
    WESTREAM_PYTHON: venvPython,
    WEST_SIM_ROOT: sim,
    SEG_KEEP: '1',
    SEGS_PER_STATE: '2',
    WESTREAM_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A fresh copy of the example with `edit` applied to west.cfg, built and initialised with w_init. */
async function initSim(edit: (cfg: string) => string = (c) => c): Promise<string> {
  const sim = path.join(tmpdir('westream-westpa-gmx-'), 'nacl');
  fs.cpSync(example, sim, { recursive: true });
  const cfg = path.join(sim, 'west.cfg');
  fs.writeFileSync(cfg, edit(fs.readFileSync(cfg, 'utf8').replace('bin_target_counts: 5', 'bin_target_counts: 2')));
  const init = await start('bash', [path.join(sim, 'init.sh')], env(sim)).exit;
  expect(init.code, init.stdout + init.stderr).toBe(0);
  return sim;
}

const check = (sim: string) => checkWestpaRun(sim, 'bstate.gro', 'seg.xtc');

/** No gmx or westream process runs in the simulation, and no pipe directory is left. */
function nothingLeft(sim: string, pipes: string): void {
  const left: string[] = [];
  for (const line of execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || !/gmx|westream/.test(m[2])) continue;
    let cwd = '';
    try {
      cwd = fs.readlinkSync(`/proc/${m[1]}/cwd`);
    } catch {
      // gone, or not ours
    }
    if (cwd.startsWith(sim) || m[2].includes(sim) || m[2].includes(pipes)) left.push(line);
  }
  expect(left).toEqual([]);
  expect(fs.readdirSync(pipes)).toEqual([]);
  fs.rmdirSync(pipes);
}

describe('WESTPA with the GROMACS NaCl example (XTC through a named pipe)', () => {
  it('has GROMACS (scripts/setup.sh installs Debian\'s gromacs)', () => expect(hasGmx()).toBe(true));

  it('w_init + w_run, processes work manager, 2 workers, 3 iterations: pcoords equal MDAnalysis on the XTC', async () => {
    const sim = await initSim();
    const pipes = pipeParent();
    const run = await start('bash', [path.join(sim, 'run.sh')], env(sim, { WORKERS: '2', SEG_TMPFS_DIR: pipes })).exit;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toMatch(/PropagationError|exception caught/);
    const c = check(sim);
    expect(c.iterations).toBe(3);
    expect(c.statuses.filter((s) => s === 2).length).toBe(c.segments);
    expect(c.segments).toBeGreaterThanOrEqual(6);
    expect(c.rows_checked).toBe(c.segments * 3);
    expect(c.max_dev).toBeLessThan(1e-4);
    // Row 0 (the step-0 frame mdrun streams) is also the parent's last row, or
    // the basis state's pcoord from bstate.gro: both hold the same 0.001 nm values.
    expect(c.start_dev).toBeLessThan(1e-4);
    const log = fs.readFileSync(path.join(sim, 'seg_logs', '000001-000000.log'), 'utf8');
    expect(log).toMatch(/iteration 1 segment 0: wrote 3 pcoord rows/);
    expect(log).toMatch(/streamed 3 frames of \d+ atoms from seg\.xtc/);
    expect(log).toMatch(/"transport":"fifo"/);
    // mdrun wrote its XTC to the pipe in westream's private directory, not to the segment's folder.
    const mdlog = fs.readFileSync(path.join(sim, 'traj_segs', '000001', '000000', 'seg.log'), 'utf8');
    expect(mdlog).toContain(`-x ${pipes}/westream-`);
    nothingLeft(sim, pipes);
  }, 90_000);

  it('a short stream (100 steps: 2 frames for pcoord_len 3): WESTPA records the segments as failed, nothing is left running', async () => {
    const sim = await initSim((c) => c.replace('max_total_iterations: 3', 'max_total_iterations: 1'));
    const pipes = pipeParent();
    const run = await start('bash', [path.join(sim, 'run.sh')], env(sim, { WORKERS: '2', SEG_TMPFS_DIR: pipes, SEG_NSTEPS: '100' })).exit;
    // w_run exits 0 after a failed iteration (westpa-contract.md §1.2): the log tells.
    expect(run.stdout + run.stderr).toMatch(/propagation failed for 2 segments/);
    const log = fs.readFileSync(path.join(sim, 'seg_logs', '000001-000000.log'), 'utf8');
    expect(log).toMatch(/2 pcoord rows, but west.cfg's pcoord_len is 3/);
    expect(check(sim).segments).toBe(0);
    nothingLeft(sim, pipes);
  }, 60_000);
});
