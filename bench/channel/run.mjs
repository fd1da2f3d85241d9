#!/usr/bin/env node
// npm run bench:channel [-- --reps N] [-- --scale X] [-- --sizes 1.2MB,12MB,tiny]
//                       [-- --methods channel,c2c,...] [-- --diagnostics] [-- --no-write]
//
// Streams frames from a C producer to a consumer over several transports and
// prints frames/s and GB/s side by side; bench/README.md says what each row
// is. A benchmark, not a test: it is never part of `npm test`.
//
// Every measurement is a fresh pair of processes: one listens and prints
// "READY <address>", the other is started with that address, and the
// consumer prints "RESULT {frames, intervals, seconds}", timed from its first
// frame to its last so process start and handshakes count for nobody.
// Repetitions are interleaved (rep 1 of every row, then rep 2, ...) so slow
// drift of the VM affects all rows alike.
//
// Only a full default run (all sizes, all main rows, no diagnostics) writes
// bench/results/channel.json and the table in bench/README.md, so the
// published numbers always come from one complete, comparable run.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cpuTicks, flag, foreignPercent, machine as machineInfo, output, root, waitForQuiet, writeResults as write } from '../common.mjs';

const here = import.meta.dirname;
const work = path.join(root, 'bench', '.work');
const release = path.join(root, 'build', 'Release');
const synthetic = path.join(release, 'westream-synthetic');
const node = process.execPath;
const sinkScript = path.join(here, 'node_sink.mjs');
const tool = (name) => path.join(work, name);

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const list = (name) => flag(name, '').split(',').filter(Boolean);
const reps = Number(flag('reps', 5));
const scale = Number(flag('scale', 1));
const diagnostics = argv.includes('--diagnostics');
const onlySizes = list('sizes');
const onlyMethods = list('methods');
const complete = !onlySizes.length && !onlyMethods.length && !diagnostics && scale === 1;
const writeResults = complete && !argv.includes('--no-write');

// Frame counts give ~0.2-2 s per measurement on the slowest row, so five
// repetitions of everything take about 1.5 minutes on a 2-core VM.
const SIZES = [
  { key: '1.2MB', label: '1.2 MB frames (100k atoms)', atoms: 100_000, frames: 2000 },
  { key: '12MB', label: '12 MB frames (1M atoms)', atoms: 1_000_000, frames: 200 },
  { key: 'tiny', label: '12 B frames (1 atom)', atoms: 1, frames: 300_000 },
]
  .filter((s) => !onlySizes.length || onlySizes.includes(s.key))
  .map((s) => ({ ...s, bytes: s.atoms * 12, frames: Math.max(10, Math.round(s.frames * scale)) }));

// ------------------------------------------------------------------- rows

const producer = (s, extra = []) => (address) =>
  [synthetic, '--atoms', s.atoms, '--frames', s.frames, '--fast', ...extra, '--address', address].map(String);
const socketSink = (s, read) => (address) =>
  [node, sinkScript, 'socket', '--connect', address, '--bytes', s.bytes, '--frames', s.frames, '--read', read].map(String);
const sender = (s, where) => [tool('socket_sender'), ...where, '--bytes', s.bytes, '--frames', s.frames].map(String);
const udsPath = () => path.join(tmp, 'uds.sock');

// `run(size)` returns [listener argv, connector(address) or null].
const ROWS = [
  { key: 'memcpy', label: 'memcpy reference (1 core, no transport)',
    run: (s) => [[tool('memcpy_ref'), '--bytes', String(s.bytes), '--frames', String(s.frames)], null] },
  { key: 'c2c', label: '(b) C producer -> C consumer core (C->C ring)',
    run: (s) => [[tool('c_consumer'), '--frames', String(s.frames)], producer(s)] },
  { key: 'channel', label: '(a) C producer -> Node fromChannel',
    run: (s) => [[node, sinkScript, 'channel', '--frames', String(s.frames)], producer(s)] },
  { key: 'uds', label: "(c) C -> Unix stream socket -> Node 'net' ('data')",
    run: (s) => [sender(s, ['--unix', udsPath()]), socketSink(s, 'data')] },
  { key: 'uds-onread', label: "(c') same, Node 'net' onread, 1 MiB buffer",
    run: (s) => [sender(s, ['--unix', udsPath()]), socketSink(s, 'onread')] },
  { key: 'tcp', label: "(d) C -> TCP 127.0.0.1 -> Node 'net' ('data')",
    run: (s) => [sender(s, ['--tcp']), socketSink(s, 'data')] },
  { key: 'tcp-onread', label: "(d') same, Node 'net' onread, 1 MiB buffer",
    run: (s) => [sender(s, ['--tcp']), socketSink(s, 'onread')] },
  // Diagnostics (--diagnostics): what the channel's numbers depend on; see
  // "Findings" in bench/README.md. Some only make sense for some sizes.
  { key: 'c2c-spin', diag: true, label: '(b) with the consumer spinning ~20 us before sleep',
    run: (s) => [[tool('c_consumer'), '--frames', String(s.frames), '--spin', '2000'], producer(s)] },
  { key: 'c2c-nap', diag: true, sizes: ['1.2MB', '12MB'], label: '(b) with the consumer napping 50 us unannounced',
    run: (s) => [[tool('c_consumer'), '--frames', String(s.frames), '--nap-us', '50'], producer(s)] },
  // A 1024-slot ring of 1.2 MB frames would be faulted in during the run;
  // depth only matters where a few slots cannot cover a wake-up.
  { key: 'c2c-deep', diag: true, sizes: ['tiny'], label: '(b) with a 1024-slot ring (producer hint)',
    run: (s) => [[tool('c_consumer'), '--frames', String(s.frames)], producer(s, ['--nslots', 1024])] },
  { key: 'channel-deep', diag: true, sizes: ['tiny'], label: '(a) with a 1024-slot ring (producer hint)',
    run: (s) => [[node, sinkScript, 'channel', '--frames', String(s.frames)], producer(s, ['--nslots', 1024])] },
].filter((m) => (onlyMethods.length ? onlyMethods.includes(m.key) : !m.diag || diagnostics));
const rowsFor = (s) => ROWS.filter((m) => !m.sizes || m.sizes.includes(s.key));

// ---------------------------------------------------------------- building

function stale(target, sources) {
  if (!fs.existsSync(target)) return true;
  const t = fs.statSync(target).mtimeMs;
  return sources.some((s) => fs.statSync(s).mtimeMs > t);
}

// The bench programs are built here with the system compiler rather than by
// CMake, so the project's build stays exactly what users get.
function buildTools() {
  fs.mkdirSync(work, { recursive: true });
  const inDir = (d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f));
  const headers = [...inDir('include'), ...inDir('native/channel')];
  const c = ['cc', '-O2', '-Wall', '-Wextra'];
  const jobs = [
    { out: 'socket_sender', cmd: c, src: [path.join(here, 'socket_sender.c')] },
    { out: 'memcpy_ref', cmd: c, src: [path.join(here, 'memcpy_ref.c')] },
    {
      out: 'c_consumer',
      // The same consumer core (consumer.cpp) and -O2 the addon is built with.
      cmd: ['c++', '-O2', '-std=c++17', '-Wall', '-Wextra', '-Wno-missing-field-initializers',
        `-I${path.join(root, 'include')}`, `-I${path.join(root, 'native/channel')}`],
      src: [path.join(here, 'c_consumer.cpp'), path.join(root, 'native/channel/consumer.cpp')],
    },
  ];
  for (const j of jobs) {
    const out = tool(j.out);
    if (!stale(out, [...j.src, ...headers])) continue;
    console.log(`building bench/.work/${j.out}`);
    execFileSync(j.cmd[0], [...j.cmd.slice(1), '-o', out, ...j.src], { stdio: 'inherit' });
  }
}

function checkPrerequisites() {
  const needed = [synthetic, path.join(release, 'westream.node'), path.join(root, 'dist', 'index.js')];
  const missing = needed.filter((f) => !fs.existsSync(f)).map((f) => path.relative(root, f));
  if (missing.length) {
    console.error(`missing ${missing.join(', ')}: run \`npm run build\` first`);
    process.exit(1);
  }
}

// ------------------------------------------------------------ measurement

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'westream-bench-'));
const TIMEOUT_MS = 120_000;

// Starts `listener`, waits for its READY line, starts connector(address);
// resolves with the RESULT object either process printed.
function measure([listener, connector]) {
  return new Promise((resolve, reject) => {
    const procs = [];
    const stderr = [];
    let result = null;
    let failed = false;
    let exited = 0;
    const fail = (why) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      reject(new Error(`${why}\n${stderr.join('')}`));
    };
    const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);
    const start = ([cmd, ...args], onLine) => {
      const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(p);
      let buf = '';
      p.stdout.setEncoding('utf8');
      p.stdout.on('data', (d) => {
        buf += d;
        for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
          const line = buf.slice(0, nl);
          if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
          else onLine?.(line);
        }
      });
      p.stderr.on('data', (d) => stderr.push(d));
      p.on('error', (e) => fail(`${cmd}: ${e.message}`));
      p.on('close', (code, signal) => {
        if (code !== 0) return fail(`${path.basename(cmd)} ${args.join(' ')} exited with ${code ?? signal}`);
        if (++exited < (connector ? 2 : 1) || failed) return;
        clearTimeout(timer);
        if (!result) return fail('no RESULT line');
        resolve(result);
      });
    };
    let connected = false;
    start(listener, (line) => {
      if (!connector || connected || !line.startsWith('READY ')) return;
      connected = true;
      start(connector(line.slice(6)));
    });
  });
}

// ------------------------------------------------------- other CPU load

// Anything else running on the machine skews every row, and on a 2-core VM
// one busy process is half the machine. We cannot stop it, but we can see it:
// /proc/stat's busy time minus the CPU time of this process and its reaped
// children is what other processes used. main() waits for a quiet moment
// before each repetition and redoes repetitions that ran beside other work.
const FOREIGN_LIMIT = 3; // percent of all CPUs

// Percent of the machine's CPU time between `a` and `b` used by others.

// --------------------------------------------------------------- numbers

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

function summarize(s, runs) {
  const fps = runs.map((r) => r.intervals / r.seconds);
  const [lo, mid, hi] = [Math.min(...fps), median(fps), Math.max(...fps)];
  return {
    fps: { median: mid, min: lo, max: hi },
    gbps: { median: (mid * s.bytes) / 1e9, min: (lo * s.bytes) / 1e9, max: (hi * s.bytes) / 1e9 },
    usPerFrame: { median: 1e6 / mid, min: 1e6 / hi, max: 1e6 / lo },
    runs: fps,
  };
}

// Ratios of medians; the channel row against each of the others.
function ratios(results) {
  const out = {};
  for (const s of SIZES) {
    const ch = results[s.key].channel?.fps.median;
    if (!ch) continue;
    const vs = (k) => ch / results[s.key][k]?.fps.median;
    out[s.key] = {
      'channel/C->C': vs('c2c'),
      'channel/TCP': vs('tcp'),
      'channel/UDS': vs('uds'),
      'channel/TCP-onread': vs('tcp-onread'),
      'channel/UDS-onread': vs('uds-onread'),
      'channel/memcpy': vs('memcpy'),
    };
    for (const [k, v] of Object.entries(out[s.key])) if (!Number.isFinite(v)) delete out[s.key][k];
  }
  return out;
}

// The targets from the issue. "The TCP path" is row (d), the idiomatic
// 'data'-event reader; (d') is reported beside it.
function targets(results, r) {
  return [
    { what: 'channel >= 0.8x C->C ring, 1.2 MB frames', value: r['1.2MB']?.['channel/C->C'], goal: 0.8, unit: 'x', atLeast: true },
    { what: 'channel >= 5x TCP path (d), 1.2 MB frames', value: r['1.2MB']?.['channel/TCP'], goal: 5, unit: 'x', atLeast: true },
    { what: 'channel per-frame overhead, 1-atom frames', value: results.tiny?.channel?.usPerFrame.median, goal: 20, unit: 'us', atLeast: false },
  ]
    .filter((t) => Number.isFinite(t.value))
    .map((t) => ({ ...t, met: t.atLeast ? t.value >= t.goal : t.value <= t.goal }));
}

// ------------------------------------------------------------- formatting

const fmtFps = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e4 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const fmtGB = (x) => (x >= 0.1 ? x.toFixed(2) : x.toFixed(4));
const fmtUs = (x) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const fmtRatio = (v) => v.toFixed(v < 10 ? 2 : 1);
const cell = (x, f) => `${f(x.median)} [${f(x.min)}-${f(x.max)}]`;

function machine() {
  return machineInfo({ cc: output('cc', ['--version'])?.split('\n')[0] ?? 'unknown' });
}

function printConsole(results, r, tg) {
  for (const s of SIZES) {
    console.log(`\n${s.label}, ${s.frames} frames per run; median [min-max] of ${reps}`);
    console.log(`  ${'row'.padEnd(52)}${'frames/s'.padStart(28)}${'GB/s'.padStart(24)}${'us/frame'.padStart(10)}`);
    for (const m of rowsFor(s)) {
      const x = results[s.key][m.key];
      console.log(`  ${m.label.padEnd(52)}${cell(x.fps, fmtFps).padStart(28)}${cell(x.gbps, fmtGB).padStart(24)}` +
        `${fmtUs(x.usPerFrame.median).padStart(10)}`);
    }
    if (r[s.key]) console.log(`  ratios: ${Object.entries(r[s.key]).map(([k, v]) => `${k} ${fmtRatio(v)}x`).join('  ')}`);
  }
  if (results.tiny) {
    console.log('\nper-frame overhead, 1-atom frames (1 / throughput):');
    for (const k of ['channel', 'c2c']) {
      const x = results.tiny[k]?.usPerFrame;
      if (x) console.log(`  ${ROWS.find((m) => m.key === k).label}: ${fmtUs(x.median)} us [${fmtUs(x.min)}-${fmtUs(x.max)}]`);
    }
  }
  if (tg.length) console.log('\ntargets:');
  for (const t of tg) {
    console.log(`  ${t.met ? 'MET ' : 'MISS'}  ${t.what}: ${t.value.toFixed(2)} ${t.unit} (goal ${t.atLeast ? '>=' : '<='} ${t.goal})`);
  }
}

function markdown(m, results, r, tg) {
  const arrows = (t) => t.replace(/->/g, '→').replace(/>=/g, '≥').replace(/(\d)x\b/g, '$1×');
  const lines = [
    `Measured ${m.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores${m.virtualized ? ' (VM)' : ''}, ${m.kernel}, ` +
      `Node ${m.node}, commit ${m.commit}. Median of ${reps} runs, [min–max] in brackets; ` +
      'µs/frame is 1 / median throughput. Other processes took at most ' +
      `${Math.max(...m.otherCpuPercent.perRep)}% of the CPUs during a kept repetition ` +
      `(${m.otherCpuPercent.discardedReps} redone).`,
  ];
  for (const s of SIZES) {
    lines.push('', `**${s.label}**, ${s.frames} frames per run`, '');
    lines.push('| Row | frames/s | GB/s | µs/frame |', '|---|---:|---:|---:|');
    for (const row of rowsFor(s)) {
      const x = results[s.key][row.key];
      lines.push(`| ${arrows(row.label)} | ${cell(x.fps, fmtFps).replace('-', '–')} | ` +
        `${cell(x.gbps, fmtGB).replace('-', '–')} | ${fmtUs(x.usPerFrame.median)} |`);
    }
    const q = Object.entries(r[s.key] ?? {}).map(([k, v]) => `${arrows(k)} **${fmtRatio(v)}×**`);
    if (q.length) lines.push('', `Ratios of medians: ${q.join(', ')}.`);
  }
  lines.push('', '| Target | Measured | Goal | Met |', '|---|---:|---:|:---:|');
  for (const t of tg) {
    const u = t.unit === 'us' ? ' µs' : '×';
    lines.push(`| ${arrows(t.what)} | ${t.value.toFixed(2)}${u} | ${t.atLeast ? '≥' : '≤'} ${t.goal}${u} | ${t.met ? 'yes' : '**no**'} |`);
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------- main

async function main() {
  checkPrerequisites();
  buildTools();
  const m = machine();
  console.log(`westream channel benchmark: ${m.cpu}, ${m.cores} cores, ${m.kernel}, Node ${m.node}`);
  console.log(`${reps} runs per row; ${SIZES.map((s) => `${s.label} x ${s.frames}`).join(', ')}`);

  // One short untimed pass loads binaries and Node's modules into the page
  // cache, so the first timed run is not the odd one out.
  const warm = { ...SIZES[0], frames: Math.max(10, SIZES[0].frames >> 4) };
  for (const row of rowsFor(warm)) await measure(row.run(warm));

  // A repetition during which other processes took more than a few percent
  // of the CPUs is thrown away and redone after a quiet spell (at most
  // three times), so one compile job elsewhere cannot move a median.
  const raw = {};
  const started = Date.now();
  const foreignPerRep = [];
  let discarded = 0;
  for (let rep = 0; rep < reps; rep++) {
    let one;
    let foreign;
    for (let attempt = 0; ; attempt++) {
      await waitForQuiet(FOREIGN_LIMIT, 30);
      const t = cpuTicks();
      one = {};
      for (const s of SIZES) {
        for (const row of rowsFor(s)) (one[s.key] ??= {})[row.key] = await measure(row.run(s));
      }
      foreign = foreignPercent(t, cpuTicks());
      if (foreign <= FOREIGN_LIMIT || attempt === 2) break;
      discarded++;
      console.log(`  rep ${rep + 1}: other processes took ${foreign.toFixed(0)}% of the CPUs; redoing it`);
    }
    for (const s of SIZES) for (const row of rowsFor(s)) ((raw[s.key] ??= {})[row.key] ??= []).push(one[s.key][row.key]);
    foreignPerRep.push(+foreign.toFixed(1));
    console.log(`  rep ${rep + 1}/${reps} done (${((Date.now() - started) / 1e3).toFixed(0)} s, ` +
      `other load ${foreign.toFixed(1)}%)`);
  }
  m.otherCpuPercent = { perRep: foreignPerRep, limit: FOREIGN_LIMIT, discardedReps: discarded };
  if (Math.max(...foreignPerRep) > FOREIGN_LIMIT) console.log('some repetitions ran beside other work: expect noise');

  const results = {};
  for (const s of SIZES) {
    results[s.key] = {};
    for (const row of rowsFor(s)) results[s.key][row.key] = summarize(s, raw[s.key][row.key]);
  }
  const r = ratios(results);
  const tg = targets(results, r);
  printConsole(results, r, tg);

  if (!writeResults) {
    if (!complete) console.log('\n(partial run: bench/results/channel.json and bench/README.md left as they were)');
    return;
  }
  const json = {
    benchmark: 'channel',
    command: 'npm run bench:channel',
    machine: m,
    settings: {
      reps,
      ring: 'consumer default depth (8 slots); producer westream-synthetic --fast',
      timing: 'consumer side, first frame to last; frames/s = intervals / seconds',
      sizes: SIZES.map(({ key, label, atoms, bytes, frames }) => ({ key, label, atoms, bytes, frames })),
    },
    rows: Object.fromEntries(ROWS.map((x) => [x.key, x.label])),
    results,
    ratios: r,
    targets: tg,
  };
  write('channel', json, markdown(m, results, r, tg), '## Channel (npm run bench:channel)');
}

try {
  await main();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
