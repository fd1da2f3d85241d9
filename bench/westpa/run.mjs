#!/usr/bin/env node
// npm run bench:westpa [-- --reps N] [-- --heavy-reps N] [-- --no-write] [-- --results NAME] [-- --parts 1,2,3]
//                       [-- --heavy-steps 1000] [-- --heavy-arms mdtraj,analyze,stream]
//
// --parts picks what runs (1 the tutorial pcoord, 2 start-up, 3 α ≈ 1); the
// Python is WESTREAM_PYTHON if set, else .venv/bin/python (MDAnalysis is needed
// by part 2 only). On a GPU node's spare CPUs (bench/gpu/bundle.sh):
//   bench/gpu/bundle/run.sh westpa --parts 1,3 --results westpa-16-cores
//
// OPENMM_CPU_THREADS=1 npm run bench:westpa -- --results westpa-openmm-1-thread
// records the same comparison with the engine on one core (bench/results/NAME.json
// and the README block of that name).
//
// The OpenMM NaCl segment of examples/openmm-nacl run side by side, in one
// run, two ways:
//   (a) tutorial: WESTPA's tutorial7.1-basic-nacl way — the engine writes a DCD
//       (DCDReporter), exits, and a fresh Python process computes the pcoord
//       with mdtraj (bench/westpa/runseg_tutorial.sh + get_distance.py);
//   (b) westream: the example's runseg.sh — `westream run --pipeline
//       pcoord.yaml -- python segment.py ...`, the pcoord computed per frame
//       while the engine runs.
// Then process start-up (westream vs `python -c "import MDAnalysis"`), and the
// speed-up at α ≈ 1 with an expensive pcoord (many water O–H coordination
// counts per frame, 101 frames per segment) in three arms: tutorial-style
// mdtraj after the run, `westream analyze` after the run (same kernels as
// streaming, no overlap) and `westream run` streaming.
//
// A benchmark, not a test: never part of `npm test`. A full run writes
// bench/results/westpa.json and the "WESTPA" block of bench/README.md
// (between its markers; other sections are left alone).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cpuTicks, flag, foreignPercent, machine as machineInfo, root, writeResults as write } from '../common.mjs';

const here = import.meta.dirname;
const work = path.join(root, 'bench', '.work', 'westpa');
const simRoot = path.join(work, 'sim');
const python = process.env.WESTREAM_PYTHON || path.join(root, '.venv', 'bin', 'python');
const example = path.join(root, 'examples', 'openmm-nacl');
const westreamBin = path.join(root, 'bin', 'westream.cjs');
const synthetic = path.join(root, 'build', 'Release', 'westream-synthetic');

const argv = process.argv.slice(2);
const reps = Number(flag('reps', 10));
const heavyReps = Number(flag('heavy-reps', 5));
const startupReps = Number(flag('startup-reps', 9));
const writeResults = !argv.includes('--no-write');
const resultsName = flag('results', 'westpa');
const parts = new Set(String(flag('parts', '1,2,3')).split(',').map(Number));
if (![...parts].every((p) => [1, 2, 3].includes(p))) {
  console.error(`--parts takes a comma-separated subset of 1,2,3 (got ${flag('parts')})`);
  process.exit(2);
}
const STEPS = 1000; // tutorial7.1: 1000 × 2 fs
const INTERVAL = 500; // tutorial7.1: DCD every 500 steps → pcoord_len 3
// α ≈ 1 rows: 101 frames per segment of --heavy-steps (default: the tutorial's 1000)
const HEAVY_STEPS = Number(flag('heavy-steps', STEPS));
const HEAVY_INTERVAL = HEAVY_STEPS / 100;
const heavyArms = String(flag('heavy-arms', 'mdtraj,analyze,stream')).split(',');
if (!Number.isInteger(HEAVY_INTERVAL) || HEAVY_INTERVAL < 1) {
  console.error(`--heavy-steps must be a multiple of 100 (got ${flag('heavy-steps')})`);
  process.exit(2);
}
if (!heavyArms.includes('analyze') || !heavyArms.includes('stream') || !heavyArms.every((a) => ['mdtraj', 'analyze', 'stream'].includes(a))) {
  console.error(`--heavy-arms takes analyze,stream and optionally mdtraj (got ${flag('heavy-arms')})`);
  process.exit(2);
}

for (const f of [path.join(root, 'dist', 'index.js'), path.join(root, 'build', 'Release', 'westream.node'), python, synthetic]) {
  if (!fs.existsSync(f)) {
    console.error(`missing ${path.relative(root, f)}: run \`npm ci\` / \`npm run build\` (and scripts/setup.sh for .venv, or set WESTREAM_PYTHON) first`);
    process.exit(1);
  }
}

// ------------------------------------------------------------------ helpers

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, values: xs.map((x) => +x.toFixed(4)) });
const fmt = (s, digits = 2, k = 1) => `${(s.median * k).toFixed(digits)} [${(s.min * k).toFixed(digits)}–${(s.max * k).toFixed(digits)}]`;

const env = {
  ...process.env,
  PATH: `${path.join(root, 'bin')}:${path.join(root, '.venv', 'bin')}:${process.env.PATH}`,
  WESTREAM_PYTHON: python,
  WEST_SIM_ROOT: simRoot,
  OPENMM_PLATFORM: 'CPU',
};

/** Runs cmd under timed.py; returns {wall, cpu, start, end, rc, othersShare}. */
function timed(cmd, args, { cwd = root, extraEnv = {}, stdout, stderr } = {}) {
  const report = path.join(work, `timed-${process.pid}.json`);
  const pre = ['--json', report, ...(stdout ? ['--stdout', stdout] : []), '--'];
  const errFd = stderr ? fs.openSync(stderr, 'w') : 'ignore';
  const s0 = cpuTicks();
  const r = spawnSync(python, [path.join(here, 'timed.py'), ...pre, cmd, ...args], {
    cwd,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', stdout ? 'ignore' : 'ignore', errFd],
  });
  const s1 = cpuTicks();
  if (typeof errFd === 'number') fs.closeSync(errFd);
  if (r.status !== 0) throw new Error(`timed.py failed for ${cmd} ${args.join(' ')}`);
  const t = JSON.parse(fs.readFileSync(report, 'utf8'));
  if (t.rc !== 0) {
    const tail = stderr && fs.existsSync(stderr) ? fs.readFileSync(stderr, 'utf8').slice(-2000) : '';
    throw new Error(`${cmd} ${args.join(' ')} exited ${t.rc}\n${tail}`);
  }
  // Share of the machine's CPUs used by other processes during the run (not
  // this driver, timed.py or the command: all reaped children of ours).
  t.othersShare = foreignPercent(s0, s1) / 100;
  return t;
}

const mtime = (f) => fs.statSync(f, { bigint: true }).mtimeNs;
const nsDiffSeconds = (a, b) => Number(a - b) / 1e9;

/** A fresh WESTPA-like segment folder and environment. */
function segment(name, seed, pcoordFile = 'pcoord.txt') {
  const dir = path.join(work, 'segs', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return {
    dir,
    env: {
      WEST_CURRENT_ITER: '1',
      WEST_CURRENT_SEG_ID: String(seed),
      WEST_CURRENT_SEG_DATA_REF: dir,
      WEST_PARENT_DATA_REF: path.join(simRoot, 'bstates', 'nacl'),
      WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_NEWTRAJ',
      WEST_PCOORD_RETURN: path.join(dir, pcoordFile),
      WEST_RAND16: String(seed),
    },
  };
}

const readRows = (f) =>
  fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));

function westreamLog(file) {
  const out = { wrote: undefined, streamed: undefined };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line);
      if (/wrote \d+ pcoord rows/.test(j.msg)) out.wrote = j;
      if (/^streamed \d+ frames? /.test(j.msg)) out.streamed = j;
    } catch {}
  }
  return out;
}

// ------------------------------------------------------------------ set-up

// MDAnalysis is optional (part 2 only): null when the Python lacks it.
const versionsScript = [
  'import importlib.util, json, platform, openmm, mdtraj, numpy',
  'mda = importlib.util.find_spec("MDAnalysis") and __import__("MDAnalysis").__version__',
  'print(json.dumps({"python": platform.python_version(), "openmm": openmm.__version__, "mdtraj": mdtraj.__version__, "MDAnalysis": mda, "numpy": numpy.__version__}))',
].join('\n');
let pyVersions;
try {
  pyVersions = JSON.parse(execFileSync(python, ['-c', versionsScript], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString());
} catch (e) {
  console.error(`${python} cannot import openmm, mdtraj and numpy (${String(e.stderr ?? e.message).trim().split('\n').pop()}): use the checkout's .venv (scripts/setup.sh) or set WESTREAM_PYTHON`);
  process.exit(2);
}

fs.mkdirSync(work, { recursive: true });
const nacl = path.join(simRoot, 'bstates', 'nacl');
if (!fs.existsSync(path.join(nacl, 'bstate.xml'))) {
  console.log('building the NaCl system (examples/openmm-nacl/build_system.py) …');
  execFileSync(python, [path.join(example, 'build_system.py'), nacl], { cwd: example, env, stdio: 'inherit' });
}
fs.copyFileSync(path.join(example, 'pcoord.yaml'), path.join(simRoot, 'pcoord.yaml'));
const westCfg = (len, ndim) => `---\nwest:\n  system:\n    system_options:\n      pcoord_ndim: ${ndim}\n      pcoord_len: ${len}\n`;
fs.writeFileSync(path.join(simRoot, 'west.cfg'), westCfg(STEPS / INTERVAL + 1, 1));
const natoms = fs.readFileSync(path.join(nacl, 'bstate.pdb'), 'utf8').split('\n').filter((l) => /^(ATOM|HETATM)/.test(l)).length;

const machine = machineInfo({
  ...pyVersions,
  openmmPlatform: 'CPU',
  openmmThreads: process.env.OPENMM_CPU_THREADS || `default (${os.cpus().length})`,
});
const { commit } = machine;
if (parts.has(2) && !machine.MDAnalysis) {
  console.error(`part 2 compares with \`import MDAnalysis\`, which ${python} lacks: install it or leave 2 out of --parts`);
  process.exit(2);
}
console.log(`westream WESTPA benchmark: ${machine.cpu}, ${machine.cores} cores, ${machine.kernel}, Node ${machine.node}, Python ${machine.python}, OpenMM ${machine.openmm}; load ${machine.loadavgStart.join(' ')}`);
console.log(`NaCl system: ${natoms} atoms; segment ${STEPS} steps × 2 fs, a frame every ${INTERVAL} steps (pcoord_len ${STEPS / INTERVAL + 1})\n`);

// Each part runs, prints and reports on its own: { json, lines, targets }.
const tutorialScript = path.join(here, 'runseg_tutorial.sh');
const westreamScript = path.join(example, 'westpa_scripts', 'runseg.sh');
const target = (what, value, unit, goal, atLeast) => ({ what, value, unit, goal, atLeast, met: atLeast ? value >= goal : value <= goal });

// ------------------------------------------------ 1. the tutorial pcoord

function tutorialPcoord() {
  const seg = { tutorial: [], westream: [] };
  const pcoordCheck = [];
  console.log(`1. per-segment wall time and time to pcoord, ${reps} segments each, interleaved`);
  for (let r = 0; r < reps; r++) {
    const seed = 1000 + r;
    const order = r % 2 ? ['westream', 'tutorial'] : ['tutorial', 'westream'];
    const rows = {};
    for (const arm of order) {
      const s = segment(`${arm}-${r}`, seed);
      const log = path.join(s.dir, 'runseg.log');
      if (arm === 'tutorial') {
        const t = timed('bash', [tutorialScript], { cwd: s.dir, extraEnv: { ...s.env, BASELINE_STEPS: String(STEPS), BASELINE_INTERVAL: String(INTERVAL) }, stderr: log });
        const last = fs.readFileSync(path.join(s.dir, 'engine.out'), 'utf8').match(/last_report_unix=([\d.]+)/);
        const lastNs = BigInt(Math.round(Number(last[1]) * 1e6)) * 1000n;
        const toPcoord = nsDiffSeconds(mtime(s.env.WEST_PCOORD_RETURN), lastNs);
        const toDistDat = nsDiffSeconds(mtime(path.join(s.dir, 'dist.dat')), lastNs);
        const engineExit = nsDiffSeconds(mtime(path.join(s.dir, 'seg.xml')), lastNs);
        seg.tutorial.push({ wall: t.wall, cpu: t.cpu, msToPcoord: toPcoord * 1e3, msToDistDat: toDistDat * 1e3, msEngineSaveState: engineExit * 1e3, othersShare: t.othersShare });
      } else {
        const t = timed('bash', [westreamScript], {
          cwd: s.dir,
          extraEnv: { ...s.env, SEG_STEPS: String(STEPS), SEG_INTERVAL: String(INTERVAL), SEG_SCRIPT: path.join(example, 'segment.py') },
          stderr: log,
        });
        const l = westreamLog(log);
        if (!l.wrote) throw new Error(`no "wrote N pcoord rows" line in ${log}`);
        seg.westream.push({ wall: t.wall, cpu: t.cpu, msAfterLastFrame: l.wrote.msAfterLastFrame, msStreamEndAfterLastFrame: l.streamed?.msAfterLastFrame, othersShare: t.othersShare });
      }
      rows[arm] = readRows(s.env.WEST_PCOORD_RETURN).map((x) => x[0]);
    }
    pcoordCheck.push({ seed, tutorial: rows.tutorial, westream: rows.westream });
    const a = seg.tutorial.at(-1), b = seg.westream.at(-1);
    console.log(`   seg ${r}: tutorial ${a.wall.toFixed(3)} s (pcoord ${a.msToPcoord.toFixed(0)} ms after last frame), westream ${b.wall.toFixed(3)} s (${b.msAfterLastFrame} ms); others ${(100 * Math.max(a.othersShare, b.othersShare)).toFixed(0)}%`);
  }
  const row0Diff = Math.max(...pcoordCheck.map((p) => Math.abs(p.tutorial[0] - p.westream[0])));
  const rowsDiff = Math.max(...pcoordCheck.flatMap((p) => p.tutorial.map((v, k) => Math.abs(v - p.westream[k]))));
  const part1 = {
    tutorial: {
      wall: stats(seg.tutorial.map((x) => x.wall)),
      cpu: stats(seg.tutorial.map((x) => x.cpu)),
      msToPcoord: stats(seg.tutorial.map((x) => x.msToPcoord)),
      msToDistDat: stats(seg.tutorial.map((x) => x.msToDistDat)),
      msEngineSaveState: stats(seg.tutorial.map((x) => x.msEngineSaveState)),
    },
    westream: {
      wall: stats(seg.westream.map((x) => x.wall)),
      cpu: stats(seg.westream.map((x) => x.cpu)),
      msAfterLastFrame: stats(seg.westream.map((x) => x.msAfterLastFrame)),
      msStreamEndAfterLastFrame: stats(seg.westream.map((x) => x.msStreamEndAfterLastFrame ?? NaN)),
    },
    othersShare: stats([...seg.tutorial, ...seg.westream].map((x) => x.othersShare)),
    pcoordRow0MaxDiffA: row0Diff,
    pcoordAllRowsMaxDiffA: rowsDiff,
    raw: seg,
  };
  const lines = [];
  const out = (s = '') => lines.push(s);
  out(`**1. The tutorial pcoord** (${natoms} atoms, ${STEPS} steps × 2 fs, a frame every ${INTERVAL} steps → pcoord_len ${STEPS / INTERVAL + 1}; ${reps} segments per arm, interleaved, the same seeds)`);
  out();
  out('| Arm | Segment wall (s) | CPU (s) | Last frame → pcoord written (ms) |');
  out('|---|---:|---:|---:|');
  out(`| (a) tutorial7.1: DCDReporter, then \`python get_distance.py\` (mdtraj) | ${fmt(part1.tutorial.wall, 3)} | ${fmt(part1.tutorial.cpu, 2)} | ${fmt(part1.tutorial.msToPcoord, 0)} |`);
  out(`| (b) \`westream run --pipeline pcoord.yaml -- python segment.py\` (runseg.sh) | ${fmt(part1.westream.wall, 3)} | ${fmt(part1.westream.cpu, 2)} | **${fmt(part1.westream.msAfterLastFrame, 2)}** |`);
  out();
  out(`Per segment (b) saves ${(part1.tutorial.wall.median - part1.westream.wall.median).toFixed(3)} s (${((1 - part1.westream.wall.median / part1.tutorial.wall.median) * 100).toFixed(0)} %; ratio ${(part1.tutorial.wall.median / part1.westream.wall.median).toFixed(2)}×). For (a) "last frame → pcoord" runs from the engine's timestamp after its last DCD frame (flushed) to the mtime of WEST_PCOORD_RETURN; of it, ${part1.tutorial.msEngineSaveState.median.toFixed(0)} ms is the engine saving seg.xml and the rest the exit, a fresh Python, \`import mdtraj\`, loading and \`cat\`. For (b) it is westream's \`msAfterLastFrame\` in "wrote N pcoord rows" (last pcoord row computed → return file written; the file is written as soon as the last row west.cfg asks for is computed, without waiting for the producer to end the stream); westream itself ends ${fmt(part1.westream.msStreamEndAfterLastFrame, 0)} ms after the last frame, once segment.py has ended the stream, saved seg.xml and exited. Both arms give the same row 0 (max |Δ| ${row0Diff.toExponential(1)} Å); later rows differ by up to ${rowsDiff.toFixed(2)} Å (OpenMM CPU runs with the same seed are not bit-reproducible across processes).`);
  out();
  const targets = [target('time after the last frame until the pcoord is written (westream, median)', part1.westream.msAfterLastFrame.median, 'ms', 5, false)];
  return { json: part1, lines, targets };
}

// ------------------------------------------------------------ 2. start-up

function startupCosts() {
  console.log(`\n2. process start-up, ${startupReps} runs each, interleaved`);
  const startupCmds = [
    { key: 'nodeEmpty', label: '`node -e 0`', cmd: process.execPath, args: ['-e', '0'] },
    { key: 'westreamVersion', label: '`westream --version`', cmd: process.execPath, args: [westreamBin, '--version'] },
    {
      key: 'westreamRunMinimal',
      label: '`westream run --pipeline count -- westream-synthetic --atoms 1 --frames 1` (start, accept, 1 frame, exit)',
      cmd: process.execPath,
      args: [westreamBin, 'run', '--pipeline', 'count', '--', synthetic, '--atoms', '1', '--frames', '1', '--fast'],
    },
    { key: 'westreamRunPipeline', label: '`westream run --pipeline pcoord.yaml -- westream-synthetic --atoms 734 --frames 1` (also loads the YAML pipeline and PDB topology)', cmd: process.execPath, args: [westreamBin, 'run', '--pipeline', path.join(simRoot, 'pcoord.yaml'), '--', synthetic, '--atoms', String(natoms), '--frames', '1', '--fast'] },
    { key: 'pythonEmpty', label: '`python -c pass` (.venv)', cmd: python, args: ['-c', 'pass'] },
    { key: 'importMDAnalysis', label: '`python -c "import MDAnalysis"`', cmd: python, args: ['-c', 'import MDAnalysis'] },
    { key: 'importMdtraj', label: '`python -c "import mdtraj"`', cmd: python, args: ['-c', 'import mdtraj'] },
  ];
  const startup = Object.fromEntries(startupCmds.map((c) => [c.key, []]));
  for (const c of startupCmds) timed(c.cmd, c.args, { stderr: path.join(work, 'startup.log') }); // warm the page cache
  for (let r = 0; r < startupReps; r++) {
    for (const c of startupCmds) startup[c.key].push(timed(c.cmd, c.args, { stderr: path.join(work, 'startup.log') }).wall);
  }
  const part2 = Object.fromEntries(startupCmds.map((c) => [c.key, { label: c.label, ...stats(startup[c.key]) }]));
  for (const c of startupCmds) console.log(`   ${c.label}: ${fmt(part2[c.key], 0, 1e3)} ms`);
  const ratioStart = part2.westreamVersion.median / part2.importMDAnalysis.median;
  const ratioRun = part2.westreamRunMinimal.median / part2.importMDAnalysis.median;
  const lines = [];
  const out = (s = '') => lines.push(s);
  out(`**2. Process start-up** (${startupReps} runs each, interleaved, after one warm-up run)`);
  out();
  out('| Command | ms |');
  out('|---|---:|');
  for (const c of startupCmds) out(`| ${c.label} | ${fmt(part2[c.key], 0, 1e3)} |`);
  out();
  out(`\`westream --version\` / \`import MDAnalysis\` = **${ratioStart.toFixed(2)}×**; minimal \`westream run\` / \`import MDAnalysis\` = **${ratioRun.toFixed(2)}×**; bare \`node -e 0\` / \`import MDAnalysis\` = ${(part2.nodeEmpty.median / part2.importMDAnalysis.median).toFixed(2)}×.`);
  out();
  const targets = [
    target('start-up: `westream --version` / `import MDAnalysis`', ratioStart, 'x', 0.25, false),
    target('start-up: minimal `westream run` (start → accept → exit) / `import MDAnalysis`', ratioRun, 'x', 0.25, false),
  ];
  return { json: part2, lines, targets };
}

// ---------------------------------------------------- 3. α ≈ 1 speed-up

function alphaOne() {
  console.log(`\n3. speed-up at α ≈ 1: expensive pcoord, a frame every ${HEAVY_INTERVAL} of ${HEAVY_STEPS} steps (${HEAVY_STEPS / HEAVY_INTERVAL + 1} rows)`);
  const heavySel = { a: 'name O', b: 'name H1 or name H2' };
  const heavyYaml = (n) =>
    [
      '# Generated by bench/westpa/run.mjs: an expensive pcoord for the α ≈ 1 rows.',
      'topology: bstates/nacl/bstate.pdb',
      'pcoord:',
      '  - distance: {a: name NA, b: name CL}',
      ...Array.from({ length: n }, (_, k) => `  - {name: c${k}, coordination: {a: ${heavySel.a}, b: ${heavySel.b}, cutoff: ${cutoffOf(k)}}}`),
      '',
    ].join('\n');
  // Cutoffs cycle over 1.6–2.09 Å so that each measure costs about the same.
  function cutoffOf(k) {
    return +(1.6 + 0.01 * (k % 50)).toFixed(3);
  }
  function writeHeavy(n) {
    fs.writeFileSync(path.join(simRoot, 'heavy.yaml'), heavyYaml(n));
    fs.writeFileSync(path.join(simRoot, 'heavy.cfg'), westCfg(HEAVY_STEPS / HEAVY_INTERVAL + 1, n + 1));
    fs.writeFileSync(path.join(simRoot, 'heavy.json'), JSON.stringify({ ...heavySel, cutoffs: Array.from({ length: n }, (_, k) => cutoffOf(k)) }));
  }

  // One segment of an arm: 'stream' is `westream run`; 'analyze' and 'mdtraj'
  // run the engine (DCD), then analyse the DCD in a fresh process.
  function heavyRun(arm, name, seed) {
    const s = segment(name, seed);
    const log = path.join(s.dir, 'runseg.log');
    if (arm === 'stream') {
      const t = timed(
        process.execPath,
        [westreamBin, 'run', '--pipeline', path.join(simRoot, 'heavy.yaml'), '--west-cfg', path.join(simRoot, 'heavy.cfg'), '--', python, path.join(example, 'segment.py'), nacl, path.join(nacl, 'bstate.xml'), '--steps', String(HEAVY_STEPS), '--interval', String(HEAVY_INTERVAL)],
        { cwd: s.dir, extraEnv: s.env, stderr: log },
      );
      const l = westreamLog(log);
      return { wall: t.wall, cpu: t.cpu, msAfterLastFrame: l.wrote?.msAfterLastFrame, pipelineBusy: l.streamed?.pipelineBusySeconds ?? NaN, othersShare: t.othersShare };
    }
    const extra =
      arm === 'mdtraj'
        ? { BASELINE_PCOORD: path.join(here, 'heavy_mdtraj.py'), BASELINE_PCOORD_ARGS: path.join(simRoot, 'heavy.json') }
        : { BASELINE_ANALYZE: path.join(simRoot, 'heavy.yaml') };
    const t = timed('bash', [tutorialScript], { cwd: s.dir, extraEnv: { ...s.env, ...extra, BASELINE_STEPS: String(HEAVY_STEPS), BASELINE_INTERVAL: String(HEAVY_INTERVAL) }, stderr: log });
    const startNs = BigInt(Math.round(t.start * 1e6)) * 1000n;
    const engine = nsDiffSeconds(mtime(path.join(s.dir, 'seg.xml')), startNs);
    const eo = fs.readFileSync(path.join(s.dir, 'engine.out'), 'utf8');
    const stamp = (k) => Number(eo.match(new RegExp(`${k}=([\\d.]+)`))[1]);
    const engineSetup = stamp('ready_unix') - t.start;
    const engineSteps = stamp('last_report_unix') - stamp('ready_unix');
    const ana = nsDiffSeconds(mtime(path.join(s.dir, 'dist.dat')), mtime(path.join(s.dir, 'seg.xml')));
    return { wall: t.wall, cpu: t.cpu, engine, engineSetup, engineSteps, analysis: ana, alpha: ana / engine, othersShare: t.othersShare };
  }

  // Calibrate so that `westream analyze` of a segment costs about as much as
  // the engine (α ≈ 1 for westream's own kernels): the engine alone (DCD every
  // HEAVY_INTERVAL), `westream analyze` of that DCD with 1 and CAL_N measures
  // → a first n; then two segments of the analyze arm itself, each giving the
  // engine's time and the cost per measure in the same run, refine it.
  const cal = segment('calibrate', 999);
  fs.symlinkSync(path.join(nacl, 'bstate.xml'), path.join(cal.dir, 'parent.xml'));
  fs.symlinkSync(path.join(nacl, 'bstate.pdb'), path.join(cal.dir, 'bstate.pdb'));
  const tSim = timed(python, [path.join(here, 'baseline_segment.py'), nacl, 'parent.xml', '--steps', String(HEAVY_STEPS), '--interval', String(HEAVY_INTERVAL)], { cwd: cal.dir, extraEnv: cal.env, stdout: path.join(cal.dir, 'engine.out') }).wall;
  const analyzeCost = (n) => {
    writeHeavy(n);
    const ts = [0, 1].map(() => timed(process.execPath, [westreamBin, 'analyze', 'seg.dcd', '--topology', 'bstate.pdb', '--pipeline', path.join(simRoot, 'heavy.yaml')], { cwd: cal.dir, stdout: path.join(cal.dir, 'analyze.out'), stderr: path.join(cal.dir, 'analyze.log') }).wall);
    return Math.min(...ts);
  };
  const CAL_N = 81;
  const t1 = analyzeCost(1);
  const tN = analyzeCost(CAL_N);
  const perMeasure = Math.max(1e-4, (tN - t1) / (CAL_N - 1));
  const fixedCost = Math.max(0, t1 - perMeasure); // process start, reading, the Na–Cl distance
  const measuresFor = (engine, cost) => Math.max(1, Math.min(5000, Math.round((engine - fixedCost) / cost)));
  let nHeavy = measuresFor(tSim, perMeasure);
  console.log(`   calibration: engine alone ${tSim.toFixed(2)} s; westream analyze: 1 measure ${t1.toFixed(2)} s, ${CAL_N} measures ${tN.toFixed(2)} s → ${(perMeasure * 1e3).toFixed(1)} ms per measure per segment → ${nHeavy} measures`);
  const refinements = [];
  for (let k = 0; k < 2; k++) {
    writeHeavy(nHeavy);
    const x = heavyRun('analyze', `calibrate-${k}`, 990 + k);
    const cost = Math.max(1e-4, (x.analysis - fixedCost) / nHeavy);
    refinements.push({ measures: nHeavy, engine: x.engine, analysis: x.analysis, alpha: x.alpha });
    nHeavy = measuresFor(x.engine, cost);
    console.log(`   refine ${k}: engine ${x.engine.toFixed(2)} s, analysis ${x.analysis.toFixed(2)} s (α ${x.alpha.toFixed(2)}) → ${nHeavy} measures`);
  }
  writeHeavy(nHeavy);

  const heavy = { mdtraj: [], analyze: [], stream: [] };
  for (let r = 0; r < heavyReps; r++) {
    const order = heavyArms.map((_, k) => heavyArms[(k + r) % heavyArms.length]);
    for (const arm of order) heavy[arm].push(heavyRun(arm, `heavy-${arm}-${r}`, 2000 + r));
    console.log(`   rep ${r}: ${heavyArms.map((a) => `${a} ${heavy[a].at(-1).wall.toFixed(2)} s${heavy[a].at(-1).engineSteps ? ` (engine set-up ${heavy[a].at(-1).engineSetup.toFixed(2)} s, steps ${heavy[a].at(-1).engineSteps.toFixed(2)} s, analysis ${heavy[a].at(-1).analysis.toFixed(2)} s)` : ''}`).join(', ')}; others ${(100 * Math.max(...heavyArms.map((a) => heavy[a].at(-1).othersShare))).toFixed(0)}%`);
  }
  // Values agree? (last rep: mdtraj's, else westream analyze's, rows vs the streamed rows, same seed → same trajectory start)
  let heavyCheck;
  {
    const r = heavyReps - 1;
    const md = readRows(path.join(work, 'segs', `heavy-${heavyArms.includes('mdtraj') ? 'mdtraj' : 'analyze'}-${r}`, 'pcoord.txt'));
    const st = readRows(path.join(work, 'segs', `heavy-stream-${r}`, 'pcoord.txt'));
    heavyCheck = { row0DistanceDiffA: Math.abs(md[0][0] - st[0][0]), row0MaxCountDiff: Math.max(...md[0].slice(1).map((v, k) => Math.abs(v - st[0][k + 1]))), rows: [md.length, st.length], cols: [md[0].length, st[0].length] };
  }
  const hs = (arm, key) => stats(heavy[arm].map((x) => x[key]));
  const part3 = {
    measures: nHeavy,
    pairsPerMeasure: null,
    steps: HEAVY_STEPS,
    framesPerSegment: HEAVY_STEPS / HEAVY_INTERVAL,
    calibration: { engineOnlySeconds: tSim, analyze1: t1, analyzeN: tN, calibrationMeasures: CAL_N, perMeasureSeconds: perMeasure, refinements },
    mdtraj: heavyArms.includes('mdtraj') ? { wall: hs('mdtraj', 'wall'), cpu: hs('mdtraj', 'cpu'), engine: hs('mdtraj', 'engine'), analysis: hs('mdtraj', 'analysis'), alpha: hs('mdtraj', 'alpha') } : null,
    analyze: { wall: hs('analyze', 'wall'), cpu: hs('analyze', 'cpu'), engine: hs('analyze', 'engine'), engineSetup: hs('analyze', 'engineSetup'), engineSteps: hs('analyze', 'engineSteps'), analysis: hs('analyze', 'analysis'), alpha: hs('analyze', 'alpha') },
    stream: { wall: hs('stream', 'wall'), cpu: hs('stream', 'cpu'), pipelineBusy: hs('stream', 'pipelineBusy'), msAfterLastFrame: stats(heavy.stream.map((x) => x.msAfterLastFrame ?? NaN)) },
    othersShare: stats(heavyArms.flatMap((a) => heavy[a].map((x) => x.othersShare))),
    check: heavyCheck,
    raw: heavy,
  };
  {
    const sel = (s) => s.split(' or ').map((x) => x.replace('name ', ''));
    const pdb = fs.readFileSync(path.join(nacl, 'bstate.pdb'), 'utf8').split('\n').filter((l) => /^(ATOM|HETATM)/.test(l)).map((l) => l.slice(12, 16).trim());
    const count = (names) => pdb.filter((n) => names.includes(n)).length;
    part3.pairsPerMeasure = count(sel(heavySel.a)) * count(sel(heavySel.b));
  }
  const alpha = part3.analyze.alpha.median;
  const model = (a) => (1 + a) / Math.max(1, a);
  const sOverlap = part3.analyze.wall.median / part3.stream.wall.median;
  const sMdtraj = part3.mdtraj && part3.mdtraj.wall.median / part3.stream.wall.median;
  // Streaming can't finish before the engine alone, nor before all CPU work
  // is done on `cores` CPUs, nor before the engine's set-up (no frame exists
  // yet) plus the whole analysis: whichever is largest.
  const cores = os.cpus().length;
  const { engineSetup, analysis } = part3.analyze;
  const streamFloor = Math.max(part3.analyze.engine.median, engineSetup.median + analysis.median, part3.stream.cpu.median / cores);
  const sCeiling = part3.analyze.wall.median / streamFloor;
  const lines = [];
  const out = (s = '') => lines.push(s);
  out(`**3. Speed-up at α ≈ 1** (${nHeavy} \`coordination\` measures — water O × water H, ${part3.pairsPerMeasure} pairs each, cutoffs ${cutoffOf(0)}–${cutoffOf(Math.min(nHeavy, 50) - 1)} Å, minimum image — plus the Na–Cl distance, on ${HEAVY_STEPS / HEAVY_INTERVAL + 1} frames per segment of ${HEAVY_STEPS} steps (a frame every ${HEAVY_INTERVAL} steps); ${heavyReps} segments per arm, interleaved; n chosen by calibration so that \`westream analyze\` of a segment costs about as much as the engine)`);
  out();
  out('| Arm | Segment wall (s) | CPU (s) | Engine (s) | Analysis after the engine (s) | α |');
  out('|---|---:|---:|---:|---:|---:|');
  if (part3.mdtraj) out(`| tutorial-style: DCD every ${HEAVY_INTERVAL} steps, then \`python heavy_mdtraj.py\` | ${fmt(part3.mdtraj.wall)} | ${fmt(part3.mdtraj.cpu)} | ${fmt(part3.mdtraj.engine)} | ${fmt(part3.mdtraj.analysis)} | ${fmt(part3.mdtraj.alpha)} |`);
  out(`| DCD every ${HEAVY_INTERVAL} steps, then \`westream analyze seg.dcd --pipeline heavy.yaml\` | ${fmt(part3.analyze.wall)} | ${fmt(part3.analyze.cpu)} | ${fmt(part3.analyze.engine)} | ${fmt(part3.analyze.analysis)} | ${fmt(part3.analyze.alpha)} |`);
  out(`| \`westream run --pipeline heavy.yaml\` (streaming, overlapped) | **${fmt(part3.stream.wall)}** | ${fmt(part3.stream.cpu)} | — | pipeline busy ${fmt(part3.stream.pipelineBusy)} s while streaming; last frame → pcoord ${fmt(part3.stream.msAfterLastFrame, 1)} ms | — |`);
  out();
  out(`S = after-the-run / streaming: **${sOverlap.toFixed(2)}×** against \`westream analyze\` (the same kernels; the model's S = (1+α)/max(1,α) at α = ${alpha.toFixed(2)} is ${model(alpha).toFixed(2)}×)${part3.mdtraj ? `, **${sMdtraj.toFixed(2)}×** against the tutorial-style mdtraj script (α = ${part3.mdtraj.alpha.median.toFixed(2)}; this also counts mdtraj's slower kernels and start-up, not only the overlap)` : ''}. Streaming cannot beat the largest of the engine alone, the engine's set-up (${engineSetup.median.toFixed(2)} s before its first frame; steps ${part3.analyze.engineSteps.median.toFixed(2)} s) plus the whole analysis, and the streaming CPU time / ${cores} cores: ${streamFloor.toFixed(2)} s, i.e. S ≤ ${sCeiling.toFixed(2)}× against \`westream analyze\` here (OpenMM CPU, ${machine.openmmThreads} threads).`);
  out();
  const targets = [
    target(`speed-up at α ≈ 1 (${HEAVY_STEPS}-step segments): \`westream analyze\` after the run / \`westream run\` streaming`, sOverlap, 'x', 1.8, true),
    ...(part3.mdtraj ? [target(`speed-up at α ≈ 1 (${HEAVY_STEPS}-step segments): tutorial-style mdtraj after the run / \`westream run\` streaming`, sMdtraj, 'x', 1.8, true)] : []),
  ];
  return { json: { ...part3, sOverlap, sMdtraj, modelS: model(alpha), streamFloorSeconds: streamFloor, sCeiling }, lines, targets };
}

// ----------------------------------------------------------------- report

const results = {};
if (parts.has(1)) results.tutorialPcoord = tutorialPcoord();
if (parts.has(2)) results.startup = startupCosts();
if (parts.has(3)) results.alphaOne = alphaOne();
machine.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));
const targets = Object.values(results).flatMap((r) => r.targets);
const others = [
  results.tutorialPcoord && `${fmt(results.tutorialPcoord.json.othersShare, 0, 100)} % of the CPUs during the segments of part 1`,
  results.alphaOne && `${fmt(results.alphaOne.json.othersShare, 0, 100)} % in part 3`,
].filter(Boolean);
const lines = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine.cpu}, ${machine.cores} cores (${machine.kernel}), Node ${machine.node}, Python ${machine.python}, OpenMM ${machine.openmm} (CPU platform, ${machine.openmmThreads} threads), mdtraj ${machine.mdtraj}, MDAnalysis ${machine.MDAnalysis ?? '(not installed)'}, commit ${commit}. Load average ${machine.loadavgStart.join(' / ')} at the start, ${machine.loadavgEnd.join(' / ')} at the end${others.length ? `; other processes took ${others.join(' and ')} (median [min–max])` : ''}. Median [min–max].`,
  '',
  ...Object.values(results).flatMap((r) => r.lines),
  '| Target | Measured | Goal | Met |',
  '|---|---:|---:|:---:|',
  ...targets.map((t) => `| ${t.what} | ${t.value.toFixed(2)}${t.unit === 'ms' ? ' ms' : '×'} | ${t.atLeast ? '≥' : '≤'} ${t.goal}${t.unit === 'ms' ? ' ms' : '×'} | ${t.met ? 'yes' : '**no**'} |`),
];
console.log(`\n${lines.join('\n')}`);

if (writeResults) {
  const json = { machine, commit, date: new Date().toISOString(), natoms, segment: { steps: STEPS, interval: INTERVAL, heavySteps: HEAVY_STEPS, heavyInterval: HEAVY_INTERVAL }, reps, heavyReps, startupReps, parts: [...parts].sort() };
  for (const [key, r] of Object.entries(results)) json[key] = r.json;
  write(resultsName, { ...json, targets }, lines.join('\n'), '## WESTPA (npm run bench:westpa)');
}
