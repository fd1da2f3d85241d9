#!/usr/bin/env node
// npm run bench:imd [-- --reps N] [-- --steps N] [-- --replay-frames N] [-- --no-write]
//
// The same GROMACS IMD stream consumed by westream and by imdclient (PyPI,
// the upstream client), in the same run, side by side; plus the same system
// streamed through westream's XTC named-pipe source. A benchmark, never part
// of `npm test`.
//
// System: SPC/E water in a 4 nm box (about 6.5k atoms, the size of the
// chignolin system of the upstream streaming study), built with gmx's own
// tools; mdrun on one thread, IMD (v2) every step.
//
// Every measurement is a fresh consumer process that launches the engine
// itself (as a WESTPA segment would), computes one progress coordinate per
// frame (distance of atoms 0 and 3), and writes the pcoord file when the
// stream ends. Rows:
//   live     westream (netns) | westream (port0) | imdclient | westream XTC
//            pipe | `westream run --imd gromacs` (CLI, wall time only) |
//            gmx mdrun alone (no IMD, no trajectory: the engine's own time)
//   replay   a captured GROMACS frame replayed by a server as fast as the
//            client reads (the client, not the engine, sets the pace):
//            westream (TCP connect) | westream (server in a private netns,
//            socket handed over: the default engine path) | imdclient
// Repetitions are interleaved (rep 1 of every row, then rep 2, ...).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { cpuTicks, flag, foreignPercent, machine as machineInfo, output, root, waitForQuiet, writeResults as write } from '../common.mjs';

const here = import.meta.dirname;
const work = path.join(root, 'bench', '.work', 'imd');
const python = path.join(root, '.venv', 'bin', 'python');

const argv = process.argv.slice(2);
const reps = Number(flag('reps', 5));
const steps = Number(flag('steps', 1000));
const replayFrames = Number(flag('replay-frames', 4000));
const writeResults = !argv.includes('--no-write');
const TIMEOUT_MS = 300_000;

// ------------------------------------------------------------------ setup

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function checkPrerequisites() {
  const missing = [];
  try {
    sh('gmx', ['--version']);
  } catch {
    missing.push('gmx (Debian package gromacs)');
  }
  if (!fs.existsSync(python)) missing.push('.venv (scripts/setup.sh)');
  else {
    try {
      sh(python, ['-c', 'import imdclient, numpy']);
    } catch {
      missing.push('imdclient in .venv (python/requirements.txt)');
    }
  }
  for (const f of ['dist/launch/index.js', 'dist/sources/imd/index.js', 'dist/launch/supervisor.js']) {
    if (!fs.existsSync(path.join(root, f))) missing.push(`${f} (npx tsc -p .)`);
  }
  if (missing.length) {
    console.error(`bench:imd needs: ${missing.join(', ')}`);
    process.exit(1);
  }
}

function buildSystem() {
  fs.mkdirSync(work, { recursive: true });
  const mdp = fs.readFileSync(path.join(root, 'test', 'fixtures', 'imd', 'water.mdp'), 'utf8')
    .replace(/^nsteps.*$/m, `nsteps = ${steps}`)
    .replace(/^(nstxout|nstvout|nstfout)\s*=.*$/gm, '$1 = 0')
    .replace(/^rcoulomb.*$/m, 'rcoulomb = 0.9')
    .replace(/^rvdw .*$/m, 'rvdw = 0.9');
  const stamp = `${steps}`;
  const stampFile = path.join(work, 'system.stamp');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return readNatoms();
  sh('gmx', ['-quiet', 'solvate', '-cs', 'spc216.gro', '-box', '4', '4', '4', '-o', 'conf.gro'], { cwd: work });
  const waters = fs.readFileSync(path.join(work, 'conf.gro'), 'utf8').split('\n').filter((l) => /^\s*\d+SOL\s+OW/.test(l)).length;
  fs.writeFileSync(
    path.join(work, 'topol.top'),
    `#include "oplsaa.ff/forcefield.itp"\n#include "oplsaa.ff/spce.itp"\n[ system ]\nwater\n[ molecules ]\nSOL ${waters}\n`,
  );
  fs.writeFileSync(path.join(work, 'imd.mdp'), mdp);
  fs.writeFileSync(path.join(work, 'xtc.mdp'), mdp.replace(/^IMD-group.*$/m, '') + 'nstxout-compressed = 1\ncompressed-x-grps = System\n');
  for (const [m, tpr] of [['imd.mdp', 'imd.tpr'], ['xtc.mdp', 'xtc.tpr']]) {
    sh('gmx', ['-quiet', 'grompp', '-f', m, '-c', 'conf.gro', '-p', 'topol.top', '-o', tpr, '-po', `out-${m}`, '-maxwarn', '1'], { cwd: work });
  }
  fs.writeFileSync(stampFile, stamp);
  return readNatoms();
}

function readNatoms() {
  const lines = fs.readFileSync(path.join(work, 'conf.gro'), 'utf8').split('\n');
  return Number(lines[1].trim());
}

/** The cubic box edge in Å (last line of conf.gro, nm). */
function readBox() {
  const lines = fs.readFileSync(path.join(work, 'conf.gro'), 'utf8').trim().split('\n');
  return Number(lines.at(-1).trim().split(/\s+/)[0]) * 10;
}

// --------------------------------------------------------------- running

/** Spawns `cmd`, collects its RESULT line; resolves with {result, wallNs, spawnNs}. */
function measure(cmd, args, { onLine } = {}) {
  return new Promise((resolve, reject) => {
    const spawnNs = process.hrtime.bigint();
    const p = spawn(cmd, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let result;
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} timed out\n${err.slice(-2000)}`));
    }, TIMEOUT_MS);
    p.stdout.on('data', (d) => {
      out += d;
      for (let nl; (nl = out.indexOf('\n')) >= 0; out = out.slice(nl + 1)) {
        const line = out.slice(0, nl);
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
        else onLine?.(line);
      }
    });
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallNs = process.hrtime.bigint() - spawnNs;
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code ?? signal}\n${err.slice(-3000)}`));
      resolve({ result, spawnNs, wallNs });
    });
  });
}

/** Starts the replay server; resolves with its port and a promise of its exit. */
function replayServer(frameFile) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(here, 'replay_server.mjs'), '--frame', frameFile, '--frames', String(replayFrames)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), done: new Promise((r) => p.once('close', r)) });
    });
    p.once('error', reject);
  });
}

const ms = (a, b) => (a === undefined || b === undefined || a === null || b === null ? null : Number(BigInt(b) - BigInt(a)) / 1e6);

/** Derived numbers of one measurement. */
function derive(m, natoms) {
  const r = m.result;
  if (!r) return { wallMs: Number(m.wallNs) / 1e6 };
  const t = r.t;
  const streamS = ms(t.first, t.last) / 1000;
  const fps = r.frames > 1 && streamS > 0 ? (r.frames - 1) / streamS : null;
  return {
    frames: r.frames,
    fps,
    mbps: fps === null ? null : (fps * 12 * natoms) / 1e6,
    startupMs: ms(m.spawnNs, t.first), // consumer spawned -> first frame in hand
    interpreterMs: ms(m.spawnNs, t.start),
    importsMs: ms(t.start, t.imported),
    engineToListenMs: ms(t.engineStart, t.ready),
    listenToFirstMs: ms(t.ready, t.first),
    lastToPcoordMs: ms(t.last, t.written),
    exitToPcoordMs: ms(t.engineExit, t.written),
    wallMs: Number(m.wallNs) / 1e6,
    cpuSeconds: r.cpuSeconds,
    maxRssMiB: r.maxRssMiB,
  };
}

// ------------------------------------------------------- other CPU load
// The machine is shared: record how much CPU others used during each rep.
// A repetition that ran beside more than this much other work is redone (twice at most).
const FOREIGN_LIMIT = Number(flag('foreign-limit', 25));

// --------------------------------------------------------------- numbers

const median = (xs) => {
  const a = xs.filter((x) => x !== null && Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return null;
  const k = a.length >> 1;
  return a.length % 2 ? a[k] : (a[k - 1] + a[k]) / 2;
};
const stat = (xs) => {
  const a = xs.filter((x) => x !== null && Number.isFinite(x));
  return a.length ? { median: median(a), min: Math.min(...a), max: Math.max(...a) } : null;
};

const ROWS = [
  { key: 'westream-netns', group: 'live', label: 'westream fromImd, private netns (default)' },
  { key: 'westream-port0', group: 'live', label: 'westream fromImd, -imdport 0 (host namespace)' },
  { key: 'imdclient', group: 'live', label: 'imdclient 0.2.4 IMDClient (Python)' },
  { key: 'westream-xtc', group: 'live', label: 'westream XTC named pipe (fromTrajectory)' },
  { key: 'westream-cli', group: 'live', label: '`westream run --imd gromacs` (CLI, wall only)' },
  { key: 'gmx-alone', group: 'live', label: 'gmx mdrun alone (no IMD, no trajectory)' },
  { key: 'westream-replay', group: 'replay', label: 'westream fromImd (TCP connect, host namespace)' },
  { key: 'westream-replay-netns', group: 'replay', label: 'westream fromImd (socket handed over from a private netns, the default path)' },
  { key: 'imdclient-replay', group: 'replay', label: 'imdclient 0.2.4 IMDClient (Python)' },
];

async function runRow(key, rep, natoms, frameFile) {
  const node = process.execPath;
  const box = ['--box', String(readBox())];
  const consumer = path.join(here, 'westream_consumer.mjs');
  const ic = path.join(here, 'imdclient_consumer.py');
  const pc = (name) => path.join(work, `pcoord-${name}-${rep}.txt`);
  switch (key) {
    case 'westream-netns':
    case 'westream-port0': {
      const iso = key.split('-')[1];
      const extra = rep === 0 && iso === 'netns' ? ['--dump-frame', frameFile] : [];
      return measure(node, [consumer, '--mode', 'imd', '--isolation', iso, '--tpr', 'imd.tpr', '--workdir', work, '--name', `${key}-${rep}`, '--out', pc(key), ...box, ...extra]);
    }
    case 'imdclient':
      return measure(python, [ic, '--mode', 'live', '--tpr', 'imd.tpr', '--workdir', work, '--natoms', String(natoms), '--name', `ic-${rep}`, '--out', pc(key), ...box]);
    case 'westream-xtc':
      return measure(node, [consumer, '--mode', 'xtc', '--tpr', 'xtc.tpr', '--workdir', work, '--name', `xtc-${rep}`, '--out', pc(key), ...box]);
    case 'westream-cli':
      return measure(node, [path.join(root, 'bin', 'westream.cjs'), 'run', '--imd', 'gromacs', '--pipeline', 'count', '--log-level', 'warn', '--', 'gmx', 'mdrun', '-s', 'imd.tpr', '-nt', '1', '-deffnm', `cli-${rep}`]);
    case 'gmx-alone':
      return measure('gmx', ['-quiet', 'mdrun', '-s', 'imd.tpr', '-nt', '1', '-deffnm', `alone-${rep}`]);
    case 'westream-replay-netns':
      return measure(node, [consumer, '--mode', 'replay-netns', '--server', path.join(here, 'replay_server.mjs'), '--frame', frameFile, '--frames', String(replayFrames), '--out', pc(key), ...box]);
    case 'westream-replay':
    case 'imdclient-replay': {
      const srv = await replayServer(frameFile);
      const m =
        key === 'westream-replay'
          ? await measure(node, [consumer, '--mode', 'replay', '--port', String(srv.port), '--out', pc(key), ...box])
          : await measure(python, [ic, '--mode', 'replay', '--port', String(srv.port), '--natoms', String(natoms), '--out', pc(key), ...box]);
      await srv.done;
      return m;
    }
    default:
      throw new Error(key);
  }
}

function machine() {
  return machineInfo({
    python: output(python, ['--version']),
    gromacs: /GROMACS version:\s*(.*)/.exec(output('gmx', ['--version']) ?? '')?.[1]?.trim() ?? 'unknown',
    imdclient: output(python, ['-c', 'import importlib.metadata as m; print(m.version("imdclient"))']),
  });
}

// ------------------------------------------------------------- formatting

const f0 = (x) => (x === null || x === undefined ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const cell = (s) => (s ? `${f0(s.median)} [${f0(s.min)}–${f0(s.max)}]` : '–');

function tables(summary, natoms, m) {
  const lines = [];
  const live = ROWS.filter((r) => r.group === 'live');
  lines.push(
    `Measured ${m.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores${m.virtualized ? ' (VM)' : ''}, ${m.kernel}; Node ${m.node}, ${m.python}, ` +
      `GROMACS ${m.gromacs}, imdclient ${m.imdclient}; commit ${m.commit}. Median of ${reps} interleaved runs, [min–max]. ` +
      `Other processes used ${f0(Math.min(...m.otherCpuPercent))}–${f0(Math.max(...m.otherCpuPercent))}% of the CPUs during the kept repetitions ` +
      `(${m.redoneReps} redone; a shared machine: absolute times are noisy, compare rows of the same run).`,
    '',
    `**Live: GROMACS ${natoms} atoms, ${steps} steps, IMD v2 every step (${((12 * natoms) / 1e3).toFixed(0)} kB of coordinates per frame), mdrun -nt 1**`,
    '',
    '| Row | frames/s | MB/s | spawn → first frame (ms) | engine exit → pcoord written (ms) | wall (ms) | consumer CPU (s) | max RSS (MiB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of live) {
    const s = summary[r.key];
    lines.push(`| ${r.label} | ${cell(s.fps)} | ${cell(s.mbps)} | ${cell(s.startupMs)} | ${cell(s.exitToPcoordMs)} | ${cell(s.wallMs)} | ${cell(s.cpuSeconds)} | ${cell(s.maxRssMiB)} |`);
  }
  lines.push(
    '',
    'Start-up, split (ms, medians): interpreter start / imports / engine start → listening / listening → first frame',
    '',
    '| Row | interpreter | imports | engine → listening | listening → first frame |',
    '|---|---:|---:|---:|---:|',
  );
  for (const r of live.filter((x) => summary[x.key].importsMs)) {
    const s = summary[r.key];
    lines.push(`| ${r.label} | ${f0(s.interpreterMs?.median)} | ${f0(s.importsMs?.median)} | ${f0(s.engineToListenMs?.median)} | ${f0(s.listenToFirstMs?.median)} |`);
  }
  lines.push('', `**Replay: the same GROMACS frame (${natoms} atoms) served ${replayFrames} times as fast as the client reads (client-bound)**`, '');
  lines.push('| Row | frames/s | MB/s | consumer CPU (s) | max RSS (MiB) |', '|---|---:|---:|---:|---:|');
  for (const r of ROWS.filter((x) => x.group === 'replay')) {
    const s = summary[r.key];
    lines.push(`| ${r.label} | ${cell(s.fps)} | ${cell(s.mbps)} | ${cell(s.cpuSeconds)} | ${cell(s.maxRssMiB)} |`);
  }
  return lines.join('\n');
}

function ratios(summary) {
  const q = (a, b, k, invert = false) => {
    const x = summary[a]?.[k]?.median;
    const y = summary[b]?.[k]?.median;
    if (x === undefined || y === undefined || x === null || y === null || x === 0 || y === 0) return null;
    return invert ? y / x : x / y;
  };
  return {
    'replay frames/s, westream / imdclient': q('westream-replay', 'imdclient-replay', 'fps'),
    'replay frames/s, westream via netns hand-over / imdclient': q('westream-replay-netns', 'imdclient-replay', 'fps'),
    'live frames/s, westream (netns) / imdclient': q('westream-netns', 'imdclient', 'fps'),
    'spawn → first frame, imdclient / westream (netns)': q('westream-netns', 'imdclient', 'startupMs', true),
    'consumer CPU, imdclient / westream (netns)': q('westream-netns', 'imdclient', 'cpuSeconds', true),
    'replay consumer CPU, imdclient / westream': q('westream-replay', 'imdclient-replay', 'cpuSeconds', true),
    'wall, westream CLI / gmx alone': q('westream-cli', 'gmx-alone', 'wallMs'),
    'wall, westream XTC pipe / gmx alone': q('westream-xtc', 'gmx-alone', 'wallMs'),
  };
}

// ------------------------------------------------------------------- main

async function main() {
  checkPrerequisites();
  const natoms = buildSystem();
  const m = machine();
  console.log(`westream IMD benchmark: ${natoms} atoms, ${steps} steps, ${replayFrames} replayed frames, ${reps} reps; ${m.cpu}, ${m.cores} cores`);
  const frameFile = path.join(work, 'frame.f32');
  // Untimed warm-up (page cache, the frame to replay).
  await runRow('westream-netns', 0, natoms, frameFile);
  await runRow('imdclient', 0, natoms, frameFile);

  const raw = Object.fromEntries(ROWS.map((r) => [r.key, []]));
  const other = [];
  let redone = 0;
  for (let rep = 0; rep < reps; rep++) {
    let one;
    let foreign;
    for (let attempt = 0; ; attempt++) {
      await waitForQuiet(FOREIGN_LIMIT / 2, 120);
      const t0 = cpuTicks();
      one = {};
      for (const row of ROWS) {
        const d = derive(await runRow(row.key, rep + 1, natoms, frameFile), natoms);
        one[row.key] = d;
        console.log(`  rep ${rep + 1} ${row.key.padEnd(18)} ${d.fps ? `${f0(d.fps)} frames/s` : ''} wall ${f0(d.wallMs)} ms` +
          `${d.startupMs ? `, first frame after ${f0(d.startupMs)} ms` : ''}${d.exitToPcoordMs !== null && d.exitToPcoordMs !== undefined ? `, exit→pcoord ${f0(d.exitToPcoordMs)} ms` : ''}`);
      }
      foreign = foreignPercent(t0, cpuTicks());
      if (foreign <= FOREIGN_LIMIT || attempt === 2) break;
      redone++;
      console.log(`  rep ${rep + 1}: other processes took ${foreign.toFixed(0)}% of the CPUs; redoing it`);
    }
    for (const row of ROWS) raw[row.key].push(one[row.key]);
    other.push(+foreign.toFixed(1));
    // Both IMD clients saw the same trajectory (deterministic single-thread mdrun): same pcoords.
    const a = fs.readFileSync(path.join(work, `pcoord-westream-netns-${rep + 1}.txt`), 'utf8');
    const b = fs.readFileSync(path.join(work, `pcoord-imdclient-${rep + 1}.txt`), 'utf8');
    if (a !== b) console.log(`  warning: rep ${rep + 1}: westream and imdclient pcoords differ`);
    const lines = a.trim().split('\n').length;
    if (lines !== steps + 1) throw new Error(`westream pcoord has ${lines} rows, expected ${steps + 1}`);
  }
  m.otherCpuPercent = other;
  m.redoneReps = redone;
  const keys = ['frames', 'fps', 'mbps', 'startupMs', 'interpreterMs', 'importsMs', 'engineToListenMs', 'listenToFirstMs', 'lastToPcoordMs', 'exitToPcoordMs', 'wallMs', 'cpuSeconds', 'maxRssMiB'];
  const summary = {};
  for (const row of ROWS) summary[row.key] = Object.fromEntries(keys.map((k) => [k, stat(raw[row.key].map((d) => d[k] ?? null))]));
  const xtcRows = fs.readFileSync(path.join(work, 'pcoord-westream-xtc-1.txt'), 'utf8').trim().split('\n').length;
  if (xtcRows !== steps + 1) throw new Error(`XTC pcoord has ${xtcRows} rows, expected ${steps + 1}`);
  const r = ratios(summary);
  const md = [
    tables(summary, natoms, m),
    '',
    'Ratios of medians: ' +
      Object.entries(r)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k} **${v.toFixed(2)}×**`)
        .join('; ') +
      '.',
    '',
    `Checks: in every repetition westream and imdclient wrote identical pcoord files of ${steps + 1} rows (the same ` +
      'deterministic mdrun run); the XTC row wrote its own run\'s ' + `${steps + 1} rows.`,
  ].join('\n');
  console.log('\n' + md);
  if (writeResults) {
    const out = { machine: m, parameters: { natoms, steps, replayFrames, reps }, rows: ROWS, summary, ratios: r, raw };
    write('imd', out, md, '## IMD (npm run bench:imd)');
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
