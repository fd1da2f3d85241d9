// The channel with real producer processes: bit-exact delivery, faults,
// backpressure, refusal of foreign uids, garbage, and teardown.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { firstValueFrom, lastValueFrom, take, tap, toArray, map } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { ChannelError, fromChannel } from '../src/index.js';
import { buildDir } from '../src/core/native.js';
import { collect, frameChecksum, isAlive, openFds, readChecksums, ringMappings, start, synthetic, tmpdir } from './support/helpers.js';

function checksumsFile(): string {
  return path.join(tmpdir('westream-sums-'), 'sums.txt');
}

describe('addon under test', () => {
  it('is the build named by WESTREAM_ADDON, else the cmake-js build', () => {
    const expected = process.env.WESTREAM_ADDON ?? path.join(buildDir, 'westream.node');
    const ch = fromChannel();
    ch.close();
    const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/).pop() ?? '');
    expect(mapped).toContain(fs.realpathSync(expected));
  });
});

describe('fromChannel with the C producer', () => {
  it('delivers every frame bit-exactly, with step, time and box', async () => {
    const sums = checksumsFile();
    const ch = fromChannel();
    const producer = start(synthetic, ['--atoms', '1000', '--frames', '300', '--velocities', '--forces', '--nslots', '4', '--checksums', sums, '--address', ch.address]);
    const got = await collect(ch);
    expect((await producer.exit).code).toBe(0);
    const want = readChecksums(sums);
    expect(got.length).toBe(300);
    expect(got.map((g) => g.checksum)).toEqual(want);
    expect(got.map((g) => g.index)).toEqual([...Array(300).keys()]);
    expect(got[7].step).toBe(70);
    expect(got[7].time).toBeCloseTo(0.14, 12);
  });

  it('delivers the box as the producer wrote it', async () => {
    const ch = fromChannel();
    start(synthetic, ['--atoms', '5', '--frames', '3', '--address', ch.address]);
    const boxes = await lastValueFrom(ch.pipe(map((f) => Array.from(f.box!)), toArray()));
    expect(boxes).toEqual([
      [30, 0, 30, 0, 0, 30],
      [30, 0, 30, 0, 0, 31],
      [30, 0, 30, 0, 0, 32],
    ]);
  });

  it('copies frames when asked (the fallback for runtimes without external buffers), bit-exactly', async () => {
    const sums = checksumsFile();
    let reason: string | undefined;
    const ch = fromChannel({ copy: true, onConnect: (i) => (reason = i.copyReason) });
    start(synthetic, ['--atoms', '333', '--frames', '50', '--forces', '--checksums', sums, '--address', ch.address]);
    const got = await collect(ch);
    expect(got.map((g) => g.checksum)).toEqual(readChecksums(sums));
    expect(reason).toMatch(/copy/);
  });

  it('works over an abstract socket and leaves no file behind', async () => {
    const ch = fromChannel({ abstract: true });
    expect(ch.address.startsWith('@westream-')).toBe(true);
    start(synthetic, ['--atoms', '10', '--frames', '20', '--address', ch.address]);
    expect((await collect(ch)).length).toBe(20);
  });

  it('uses a private 0700 directory and removes it afterwards', async () => {
    const ch = fromChannel();
    const dir = path.dirname(ch.address);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(ch.address).isSocket()).toBe(true);
    start(synthetic, ['--atoms', '10', '--frames', '5', '--address', ch.address]);
    await collect(ch);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('retain() keeps a frame valid after its slot is reused', async () => {
    const ch = fromChannel({ nslots: 2 });
    const sums = checksumsFile();
    start(synthetic, ['--atoms', '100', '--frames', '12', '--checksums', sums, '--address', ch.address]);
    const kept = await lastValueFrom(ch.pipe(map((f) => f.retain()), toArray()));
    expect(kept.map(frameChecksum)).toEqual(readChecksums(sums));
  });

  it('slow consumer: the producer blocks and nothing is lost or overwritten', async () => {
    const sums = checksumsFile();
    const ch = fromChannel({ nslots: 2 });
    const producer = start(synthetic, ['--atoms', '5000', '--frames', '60', '--checksums', sums, '--address', ch.address]);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const got = await collect(ch.pipe(tap(() => Atomics.wait(sleeper, 0, 0, 5))));
    expect((await producer.exit).code).toBe(0);
    expect(got.map((g) => g.checksum)).toEqual(readChecksums(sums));
  });

  it('unsubscribing tears the channel down and the producer is told', async () => {
    const ch = fromChannel();
    const dir = path.dirname(ch.address);
    const producer = start(synthetic, ['--atoms', '10', '--frames', '100000', '--delay-us', '200', '--address', ch.address]);
    const first = await firstValueFrom(ch.pipe(take(3), toArray()));
    expect(first.length).toBe(3);
    const exit = await producer.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/consumer (closed|stopped)/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a throwing pipeline fails the stream and stops the producer', async () => {
    const ch = fromChannel();
    const producer = start(synthetic, ['--atoms', '10', '--frames', '100000', '--delay-us', '100', '--address', ch.address]);
    const result = collect(
      ch.pipe(
        tap((f) => {
          if (f.index === 5) throw new Error('boom at 5');
        }),
      ),
    );
    await expect(result).rejects.toThrow('boom at 5');
    const exit = await producer.exit;
    expect(exit.code).toBe(1);
  });
});

describe('faults', () => {
  it('producer killed mid-frame: the consumer errors within 1 s, naming the last frame', async () => {
    const ch = fromChannel();
    const producer = start(synthetic, ['--atoms', '100000', '--frames', '50', '--crash-after', '37', '--address', ch.address]);
    let error: Error | undefined;
    let at = 0;
    const frames: number[] = [];
    await new Promise<void>((resolve) =>
      ch.subscribe({
        next: (f) => frames.push(f.index),
        error: (e) => {
          error = e;
          at = performance.now();
          resolve();
        },
        complete: resolve,
      }),
    );
    const exit = await producer.exit;
    expect(exit.signal).toBe('SIGKILL');
    expect(error).toBeInstanceOf(ChannelError);
    expect(error!.message).toMatch(/exited after frame 36 \(37 frames\) without ending the stream/);
    expect(frames).toEqual([...Array(37).keys()]);
    expect(at - exit.at).toBeLessThan(1000);
  });

  it('consumer killed: a blocked producer fails within 1 s', async () => {
    // The consumer runs in its own process and stalls after frame 0 so the
    // ring fills and the producer blocks; then it is SIGKILLed.
    const dir = tmpdir('westream-consumer-');
    const script = path.join(dir, 'consumer.mjs');
    fs.writeFileSync(
      script,
      `import { fromChannel } from ${JSON.stringify(path.join(buildDir, '..', '..', 'dist', 'index.js'))};
       const ch = fromChannel({ nslots: 2 });
       console.log(ch.address);
       ch.subscribe(() => { console.log('stalled'); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); });`,
    );
    const consumer = start(process.execPath, [script]);
    const address = await new Promise<string>((resolve) => consumer.child.stdout!.once('data', (d) => resolve(String(d).trim())));
    const producer = start(synthetic, ['--atoms', '1000', '--frames', '1000', '--address', address]);
    await new Promise<void>((resolve) => consumer.child.stdout!.on('data', (d) => String(d).includes('stalled') && resolve()));
    await new Promise((r) => setTimeout(r, 200)); // let the producer fill the ring and block
    expect(isAlive(producer.child.pid!)).toBe(true);
    consumer.child.kill('SIGKILL');
    const killedAt = performance.now();
    const exit = await producer.exit;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/WESTREAM_E_CONSUMER_GONE/);
    expect(exit.at - killedAt).toBeLessThan(1000);
    fs.rmSync(path.dirname(address), { recursive: true, force: true }); // a killed consumer cannot remove its private directory
  });

  it('producer that exits without ending the stream is an error, not a short stream', async () => {
    const ch = fromChannel();
    start(synthetic, ['--atoms', '10', '--frames', '8', '--no-end', '--address', ch.address]);
    await expect(collect(ch)).rejects.toThrow(/exited after frame 7 \(8 frames\) without ending the stream/);
  });

  it('refuses a producer that announces the wrong atom count', async () => {
    const ch = fromChannel({ expectAtoms: 12 });
    const producer = start(synthetic, ['--atoms', '10', '--frames', '8', '--address', ch.address]);
    await expect(collect(ch)).rejects.toThrow(/sends 10 atoms but 12 were expected/);
    expect((await producer.exit).stderr).toMatch(/sends 10 atoms but 12 were expected/);
  });

  it.each([
    ['published', /producer claims 1099511627776 frames published/],
    ['seq', /slot \d+ holds frame 999999, expected frame 11/],
    ['natoms', /frame 11 says 4294967295 atoms, the stream was set up for 10/],
    ['flags', /frame 11 has unknown flags 65280/],
  ])('out-of-range %s in shared memory is a clear error', async (mode, message) => {
    const ch = fromChannel();
    start(synthetic, ['--atoms', '10', '--frames', '20', '--corrupt', mode, '--address', ch.address]);
    await expect(collect(ch)).rejects.toThrow(message);
  });

  it('garbage on the socket is a clear error', async () => {
    const ch = fromChannel();
    const peer = start('python3', [
      '-c',
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
print(s.recv(4096)[8:60])`,
      ch.address,
    ]);
    await expect(collect(ch)).rejects.toThrow(/garbage on channel .*expected a 24-byte westream hello.*got 27 bytes/);
    expect((await peer.exit).stdout).toMatch(/garbage/);
  });

  it('a stream-socket client cannot even connect, and the channel keeps working', async () => {
    const ch = fromChannel();
    const peer = start('python3', [
      '-c',
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print("refused", e.errno)`,
      ch.address,
    ]);
    expect((await peer.exit).stdout).toMatch(/refused/);
    start(synthetic, ['--atoms', '4', '--frames', '3', '--address', ch.address]);
    expect((await collect(ch)).length).toBe(3);
  });

  it('refuses a peer running as another uid, then serves the real producer', async () => {
    // Running a peer as another user needs root (CI and scripts/setup.sh run as root).
    expect(process.getuid?.(), 'run the tests as root: this test starts a producer as uid 65534').toBe(0);
    const warnings: string[] = [];
    const ch = fromChannel({ abstract: true, onWarning: (w) => warnings.push(w) });
    const received = collect(ch);
    const intruder = start('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', synthetic, '--atoms', '3', '--frames', '3', '--address', ch.address]);
    const bad = await intruder.exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/refused.*uid 65534.*accepts only uid 0.*WESTREAM_E_REFUSED/);
    const sums = checksumsFile();
    start(synthetic, ['--atoms', '3', '--frames', '3', '--checksums', sums, '--address', ch.address]);
    expect((await received).map((r) => r.checksum)).toEqual(readChecksums(sums));
    expect(warnings.join('\n')).toMatch(/uid 65534/);
  });
});

describe('many channels', () => {
  it('64 channels at once: no cross-talk, no lost frames, nothing leaked', async () => {
    const fdsBefore = openFds();
    const n = 64;
    const channels = Array.from({ length: n }, (_, i) => fromChannel({ abstract: i % 2 === 1, nslots: 4 }));
    const dirs = channels.filter((c) => !c.address.startsWith('@')).map((c) => path.dirname(c.address));
    const sums = channels.map(() => checksumsFile());
    const producers = channels.map((c, i) =>
      start(synthetic, ['--atoms', String(100 + i), '--frames', '40', '--seed', String(i + 1), '--tag', String(i), '--checksums', sums[i], '--address', c.address]),
    );
    const results = await Promise.all(channels.map((c) => collect(c)));
    for (const [i, got] of results.entries()) {
      expect(got.length).toBe(40);
      expect(got.every((g) => g.step === i)).toBe(true);
      expect(got.map((g) => g.checksum)).toEqual(readChecksums(sums[i]));
    }
    for (const p of producers) expect((await p.exit).code).toBe(0);
    // Every socket file and private directory is gone, and no fd or ring
    // mapping outlives its channel.
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
    const leaked = [...openFds()].filter(([fd, target]) => fdsBefore.get(fd) !== target && !/^pipe:|^anon_inode:\[(eventpoll|timerfd)\]/.test(target));
    expect(leaked.filter(([, t]) => /memfd|socket|eventfd|westream/.test(t))).toEqual([]);
    expect(ringMappings()).toEqual([]);
    execFileSync('true');
  });
});
