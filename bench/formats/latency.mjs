// Latency from the engine writing a frame to the pipeline seeing it.
//   node latency.mjs tmpfs|fifo SOURCE.xtc FRAMES PERIOD_MS
// A Python writer appends one XTC frame per write() to a file on tmpfs (or
// into a named pipe), noting CLOCK_MONOTONIC just before each write; the
// pipeline notes the same clock (process.hrtime) when it receives the frame.
// Prints {"latencies_us": [...]}.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { fromTrajectory } from '../../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const [mode, source, frames, period] = process.argv.slice(2);
const dir = fs.mkdtempSync('/dev/shm/westream-bench-');
const file = path.join(dir, 'live.xtc');
const { mkfifo } = (await import('node:module')).createRequire(import.meta.url)(path.join(root, 'build', 'Release', 'westream.node'));
if (mode === 'fifo') mkfifo(file, 0o600);
else fs.writeFileSync(file, '');

const seen = [];
let resolveExit;
const exited = new Promise((r) => (resolveExit = r));
const done = new Promise((resolve, reject) => {
  fromTrajectory(file, { follow: true, fifoReadWrite: mode === 'fifo', until: exited }).subscribe({
    next: () => seen.push(process.hrtime.bigint()),
    error: reject,
    complete: resolve,
  });
});
const w = spawn(path.join(root, '.venv', 'bin', 'python'), [path.join(here, 'peers.py'), 'write', source, file, period, frames], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
w.stdout.on('data', (d) => (out += d));
w.on('close', (code) => resolveExit(code));
await done;
fs.rmSync(dir, { recursive: true, force: true });
const sent = JSON.parse(out).map(BigInt);
if (sent.length !== seen.length) throw new Error(`wrote ${sent.length} frames, saw ${seen.length}`);
console.log(JSON.stringify({ latencies_us: sent.map((s, i) => Number(seen[i] - s) / 1000) }));
