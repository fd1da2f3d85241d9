#!/usr/bin/env node
// npm run bench:formats [-- --reps N] [-- --no-write]
//
// Decodes the same trajectory files with westream and its peers, side by
// side in one run, and measures the latency of following a live file:
//   - westream native decoder (C++, the file in memory: decode only)
//   - westream fromTrajectory (Node: read + decode + a Frame per frame)
//   - MDAnalysis (iterating u.trajectory) and mdtraj (XXXTrajectoryFile.read())
// for XTC at ~3k and ~100k atoms (GROMACS water boxes with thermal jitter),
// TRR, DCD and AMBER NetCDF at ~3k atoms, all written by MDAnalysis' writers;
// then the engine-write → pipeline latency for a tmpfs file and a named pipe.
// Every row is the fastest of --reps passes (default 3), rows interleaved.
// Writes bench/results/formats.json and the "## Formats" block of
// bench/README.md (only the block between its markers). A benchmark, not a
// test: never part of `npm test`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { flag, machine, root, writeResults as write } from '../common.mjs';

const here = import.meta.dirname;
const work = path.join(root, 'bench', '.work', 'formats');
const python = path.join(root, '.venv', 'bin', 'python');
const argv = process.argv.slice(2);
const reps = Number(flag('reps', 3));
const writeResults = !argv.includes('--no-write');

/** The last line of a peer's stdout is its JSON (libraries may print before it). */
const lastJson = (out) => JSON.parse(out.trim().split('\n').pop());

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

// ------------------------------------------------------------------ inputs

fs.mkdirSync(work, { recursive: true });
const decodeBin = path.join(work, 'westream-decode');
console.log('building the native decode tool (g++ -O2, the same sources as the addon)');
sh('g++', ['-O2', '-std=gnu++17', `-I${path.join(root, 'native', 'formats')}`, path.join(here, 'decode.cpp'),
  ...fs.readdirSync(path.join(root, 'native', 'formats')).filter((f) => f.endsWith('.cpp')).map((f) => path.join(root, 'native', 'formats', f)),
  '-o', decodeBin]);

const FILES = [
  { key: 'xtc3k', file: 'xtc3k.xtc', label: 'XTC, 2931 atoms' },
  { key: 'xtc100k', file: 'xtc100k.xtc', label: 'XTC, 98319 atoms' },
  { key: 'trr3k', file: 'trr3k.trr', label: 'TRR, 2931 atoms' },
  { key: 'dcd3k', file: 'dcd3k.dcd', label: 'DCD, 2931 atoms' },
  { key: 'nc3k', file: 'nc3k.nc', label: 'AMBER NetCDF, 2931 atoms' },
];
if (!FILES.every((f) => fs.existsSync(path.join(work, f.file)))) {
  console.log('making the test files (gmx solvate water boxes, MDAnalysis writers)');
  const env = { ...process.env, GMX_MAXBACKUP: '-1' };
  sh('gmx', ['-quiet', 'solvate', '-cs', 'spc216.gro', '-box', '3.1', '3.1', '3.1', '-o', 'water3k.gro'], { cwd: work, env });
  sh('gmx', ['-quiet', 'solvate', '-cs', 'spc216.gro', '-box', '10', '10', '10', '-o', 'water100k.gro'], { cwd: work, env });
  sh(python, [path.join(here, 'peers.py'), 'make', work, path.join(work, 'water3k.gro'), path.join(work, 'water100k.gro')]);
}
for (const f of FILES) {
  f.path = path.join(work, f.file);
  f.bytes = fs.statSync(f.path).size;
  f.natoms = JSON.parse(sh(decodeBin, [f.path])).natoms;
}

// ------------------------------------------------------------------ rows

const ROWS = [
  { key: 'native', label: 'westream native decoder (C++)', run: (f) => lastJson(sh(decodeBin, [f.path, '--repeat', String(reps)])) },
  { key: 'node', label: 'westream fromTrajectory (Node)', run: (f) => lastJson(sh(process.execPath, [path.join(here, 'node_decode.mjs'), f.path, String(reps)])) },
  { key: 'mdanalysis', label: 'MDAnalysis 2.11', run: (f) => lastJson(sh(python, [path.join(here, 'peers.py'), 'time', 'mdanalysis', f.path, String(f.natoms), String(reps)])) },
  { key: 'mdtraj', label: 'mdtraj 1.11', run: (f) => lastJson(sh(python, [path.join(here, 'peers.py'), 'time', 'mdtraj', f.path, String(f.natoms), String(reps)])) },
];

const m = machine();
console.log(`westream formats benchmark: ${m.cpu}, ${m.cores} cores, ${m.kernel}, Node ${m.node}; fastest of ${reps}`);
const results = {};
for (const f of FILES) {
  results[f.key] = {};
  for (const r of ROWS) {
    const out = r.run(f);
    if (out.frames <= 0) throw new Error(`${r.key} read no frames from ${f.file}`);
    results[f.key][r.key] = {
      frames: out.frames,
      seconds: out.seconds,
      framesPerSecond: out.frames / out.seconds,
      mbPerSecond: f.bytes / 1e6 / out.seconds,
      nsPerAtom: (out.seconds * 1e9) / (out.frames * f.natoms),
    };
    console.log(`  ${f.label.padEnd(26)} ${r.label.padEnd(34)} ${fmt(out.frames / out.seconds).padStart(9)} frames/s  ${fmt(f.bytes / 1e6 / out.seconds).padStart(8)} MB/s`);
  }
}

// ------------------------------------------------------------------ latency

const LATENCY = { frames: 300, periodMs: 10 };
const latency = {};
for (const mode of ['tmpfs', 'fifo']) {
  const out = JSON.parse(sh(process.execPath, [path.join(here, 'latency.mjs'), mode, path.join(work, 'xtc3k.xtc'), String(LATENCY.frames), String(LATENCY.periodMs)]));
  const v = out.latencies_us.slice().sort((a, b) => a - b);
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
  latency[mode] = { frames: v.length, medianUs: q(0.5), p95Us: q(0.95), maxUs: v[v.length - 1] };
  console.log(`  latency ${mode.padEnd(5)}: median ${q(0.5).toFixed(0)} µs, p95 ${q(0.95).toFixed(0)} µs, max ${v[v.length - 1].toFixed(0)} µs (${v.length} frames)`);
}

// ------------------------------------------------------------------ report

function fmt(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (x >= 100) return x.toFixed(0);
  return x.toFixed(x >= 10 ? 1 : 2);
}
const ratio = (f, a, b) => results[f][a].framesPerSecond / results[f][b].framesPerSecond;
const targets = [
  { label: 'XTC 3k atoms: native decoder vs MDAnalysis', value: ratio('xtc3k', 'native', 'mdanalysis'), goal: 1.5 },
  { label: 'XTC 100k atoms: native decoder vs MDAnalysis', value: ratio('xtc100k', 'native', 'mdanalysis'), goal: 1.5 },
  { label: 'XTC 3k atoms: fromTrajectory (Node) vs MDAnalysis', value: ratio('xtc3k', 'node', 'mdanalysis'), goal: 1.5 },
  { label: 'XTC 100k atoms: fromTrajectory (Node) vs MDAnalysis', value: ratio('xtc100k', 'node', 'mdanalysis'), goal: 1.5 },
];

function markdown() {
  const lines = [];
  lines.push(
    `Measured ${m.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores${m.virtualized ? ' (VM)' : ''}, ${m.kernel}, ` +
      `Node ${m.node}, commit ${m.commit}. Fastest of ${reps} passes per row; files on the local disk, in the page cache.`,
  );
  lines.push('');
  for (const f of FILES) {
    lines.push(`**${f.label}**, ${results[f.key].native.frames} frames, ${(f.bytes / 1e6).toFixed(1)} MB`);
    lines.push('');
    lines.push('| Row | frames/s | MB/s | ns/atom | vs MDAnalysis |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const r of ROWS) {
      const x = results[f.key][r.key];
      lines.push(`| ${r.label} | ${fmt(x.framesPerSecond)} | ${fmt(x.mbPerSecond)} | ${x.nsPerAtom.toFixed(2)} | ${ratio(f.key, r.key, 'mdanalysis').toFixed(2)} × |`);
    }
    lines.push('');
  }
  lines.push(`**Latency**, engine write() → pipeline sees the frame (${LATENCY.frames} XTC frames of ${FILES[0].natoms} atoms, one every ${LATENCY.periodMs} ms, written by a Python process)`);
  lines.push('');
  lines.push('| Transport | median | p95 | max |');
  lines.push('|---|---:|---:|---:|');
  for (const [mode, label] of [['tmpfs', 'file on tmpfs, followed with inotify'], ['fifo', 'named pipe (epoll)']])
    lines.push(`| ${label} | ${latency[mode].medianUs.toFixed(0)} µs | ${latency[mode].p95Us.toFixed(0)} µs | ${latency[mode].maxUs.toFixed(0)} µs |`);
  lines.push('');
  lines.push('| Target | Measured | Goal | Met |');
  lines.push('|---|---:|---:|:---:|');
  for (const t of targets) lines.push(`| ${t.label} | ${t.value.toFixed(2)} × | ≥ ${t.goal} × | ${t.value >= t.goal ? 'yes' : 'no'} |`);
  return lines.join('\n');
}

console.log('');
for (const t of targets) console.log(`${t.label}: ${t.value.toFixed(2)} × (goal ≥ ${t.goal} ×)`);
if (writeResults) {
  const json = {
    machine: m,
    reps,
    files: Object.fromEntries(FILES.map((f) => [f.key, { file: f.file, label: f.label, bytes: f.bytes, natoms: f.natoms }])),
    results,
    latency: { ...LATENCY, ...latency },
    targets,
  };
  write('formats', json, markdown(), '## Formats (npm run bench:formats)');
}
