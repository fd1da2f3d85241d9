// Node side of one `npm run bench:channel` measurement; run.mjs spawns a
// fresh process per measurement so JIT and GC state never carry over.
//
//   node node_sink.mjs channel --frames F
//       listens with fromChannel() (default options, as an application would),
//       prints "READY <address>", counts frames until the stream completes.
//   node node_sink.mjs socket --connect unix:PATH|tcp:PORT --bytes B --frames F [--read data|onread]
//       connects to socket_sender and cuts the byte stream back into B-byte frames.
//
// Either way the subscriber touches one float per frame and the last line is
// "RESULT {json}" with the frame count and the seconds from the first frame
// to the last (frames - 1 intervals). Timing starts at the first frame, not at connect, so set-up
// (handshake, ring allocation, process start) is not counted for anyone.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const mode = args[0];
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const expected = Number(opt('frames'));

let frames = 0;
let t0 = 0;
let t1 = 0;
let sink = 0; // keeps the touched floats alive so nothing is optimised away

// Called once per complete frame. Reading the clock only at the first and
// last frame keeps performance.now() (~40 ns) out of the tiny-frame numbers.
function onFrame(touched) {
  if (frames === 0) t0 = performance.now();
  sink += touched;
  if (++frames === expected) t1 = performance.now();
}

function finish(error) {
  if (error) {
    console.error(`node_sink: ${error.message ?? error}`);
    process.exit(1);
  }
  if (frames !== expected) {
    console.error(`node_sink: got ${frames} frames, expected ${expected}`);
    process.exit(1);
  }
  const result = { frames, intervals: frames - 1, seconds: (t1 - t0) / 1e3, sink: Number.isFinite(sink) };
  console.log(`RESULT ${JSON.stringify(result)}`);
}

if (mode === 'channel') {
  const { fromChannel } = await import('../../dist/index.js');
  const channel = fromChannel();
  channel.subscribe({
    next: (f) => onFrame(f.positions[0]),
    complete: () => finish(),
    error: (e) => finish(e),
  });
  console.log(`READY ${channel.address}`);
} else if (mode === 'socket') {
  const bytes = Number(opt('bytes'));
  const read = opt('read', 'data');
  const [kind, where] = opt('connect').split(/:(.*)/s);
  const target = kind === 'tcp' ? { host: '127.0.0.1', port: Number(where) } : { path: where };

  // Reassembly: a frame that lies wholly inside a chunk is handed out as a
  // view (no copy); one that spans chunks is copied into a frame buffer
  // allocated once and reused, the socket equivalent of a ring slot. That is
  // the cheapest correct framing JS code can do, so the baseline is not
  // handicapped by allocation.
  const assembly = Buffer.allocUnsafeSlow(bytes);
  let filled = 0;
  const consume = (chunk, length) => {
    let pos = 0;
    if (filled > 0) {
      const n = Math.min(bytes - filled, length);
      chunk.copy(assembly, filled, 0, n);
      filled += n;
      pos = n;
      if (filled < bytes) return;
      onFrame(assembly.readFloatLE(0));
      filled = 0;
    }
    while (length - pos >= bytes) {
      onFrame(chunk.subarray(pos, pos + bytes).readFloatLE(0));
      pos += bytes;
    }
    if (pos < length) {
      chunk.copy(assembly, 0, pos, length);
      filled = length - pos;
    }
  };

  let socket;
  if (read === 'onread') {
    // Node reads straight into one reusable buffer (no Buffer per read);
    // 1 MiB lets a single read() drain a large part of a big frame.
    const buffer = Buffer.allocUnsafeSlow(1 << 20);
    socket = net.connect({ ...target, onread: { buffer, callback: (n, buf) => consume(buf, n) } });
  } else {
    // The idiomatic stream: one 'data' event per read, each a fresh Buffer.
    socket = net.connect(target);
    socket.on('data', (chunk) => consume(chunk, chunk.length));
  }
  socket.on('error', finish);
  socket.on('end', () => finish());
} else {
  console.error('usage: node_sink.mjs channel|socket ...');
  process.exit(2);
}
