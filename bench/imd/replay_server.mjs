#!/usr/bin/env node
// Replays a GROMACS-like IMD v2 stream as fast as the client takes it, so
// the client, not the engine, sets the pace (bench/imd/run.mjs).
//
//   node replay_server.mjs --frame FILE --frames N
//
// FILE holds one frame's coordinates (float32 little-endian, Å, x y z
// interleaved) captured from the live GROMACS stream. The server listens on
// 127.0.0.1:0, prints "LISTENING <port>", sends the v2 handshake, waits for
// GO (like mdrun, at most 1 s), then N frames of ENERGIES + FCOORDS, then
// closes and exits.
import fs from 'node:fs';
import net from 'node:net';

const argv = process.argv.slice(2);
const arg = (name) => argv[argv.indexOf(`--${name}`) + 1];
const coords = fs.readFileSync(arg('frame'));
const frames = Number(arg('frames'));
const natoms = coords.length / 12;

const header = (type, length) => {
  const b = Buffer.alloc(8);
  b.writeInt32BE(type, 0);
  b.writeInt32BE(length, 4);
  return b;
};
// One block of K frames, built once and written again and again, so the
// server spends next to no CPU per frame (the client sets the pace). The
// energies' step field counts 1..K within a block.
const K = 32;
const parts = [];
for (let i = 0; i < K; i++) {
  const e = Buffer.alloc(40);
  e.writeInt32LE(i + 1, 0); // GROMACS sends step + 1
  e.writeFloatLE(300, 4);
  parts.push(header(1, 1), e, header(2, natoms), coords);
}
const block = Buffer.concat(parts);
const frameBytes = block.length / K;

const server = net.createServer((sock) => {
  server.close();
  sock.setNoDelay(true);
  sock.on('error', () => {});
  const hs = header(4, 0);
  hs.writeInt32LE(2, 4); // version 2, little-endian engine
  sock.write(hs);
  const timer = setTimeout(() => sock.destroy(), 1000);
  sock.once('data', async () => {
    clearTimeout(timer);
    for (let f = 0; f < frames; f += K) {
      const b = f + K <= frames ? block : block.subarray(0, (frames - f) * frameBytes);
      if (!sock.write(b)) await new Promise((r) => sock.once('drain', r));
    }
    sock.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING ${server.address().port}\n`));
