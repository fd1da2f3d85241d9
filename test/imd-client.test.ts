// fromImd against the fake engine: both byte orders, v2 and v3 with every
// packet, units, flow control, and every way a stream can go wrong.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { lastValueFrom, map, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { fromImd, ImdType, type ImdFrame, type ImdOptions } from '../src/sources/imd/index.js';
import { FakeImdEngine, fakeBox, fakeEngineScript, fakeEnergies, fakeValue, type FakeOptions, type FakeResult } from './support/fake-imd-engine.js';
import { tmpdir } from './support/helpers.js';

async function serve(options: FakeOptions) {
  const engine = new FakeImdEngine(options);
  const port = await engine.listen();
  return { engine, port };
}

/** Copies of every frame (frames are pool views). */
function frames(options: ImdOptions): Promise<ImdFrame[]> {
  return lastValueFrom(fromImd(options).pipe(map((f) => f.retain() as ImdFrame), toArray()));
}

async function failure(options: ImdOptions): Promise<{ error: Error; frames: number }> {
  let n = 0;
  try {
    await lastValueFrom(fromImd(options).pipe(map(() => n++), toArray()));
  } catch (e) {
    return { error: e as Error, frames: n };
  }
  throw new Error(`expected the stream to fail, got ${n} frames`);
}

function expectArray(actual: Float32Array | undefined, kind: 'x' | 'v' | 'f', frame: number, natoms: number, scale = 1) {
  expect(actual).toBeDefined();
  expect(actual!.length).toBe(3 * natoms);
  for (let i = 0; i < natoms; i++) {
    for (let k = 0; k < 3; k++) expect(actual![3 * i + k]).toBe(Math.fround(Math.fround(fakeValue(kind, frame, i, k)) * scale));
  }
}

const controlTypes = (r: { received: { type: number }[] }) => r.received.map((m) => ImdType[m.type]);

describe('fromImd: decoding', () => {
  for (const bigEndian of [false, true]) {
    it(`IMD v3 with every packet, ${bigEndian ? 'big' : 'little'}-endian engine`, async () => {
      const { engine, port } = await serve({ version: 3, bigEndian, natoms: 7, frames: 5, firstStep: 100, stepEvery: 10, dt: 0.002 });
      const sessions: unknown[] = [];
      const got = await frames({ connect: { port }, onSession: (s) => sessions.push(s) });
      expect(sessions).toEqual([
        {
          version: 3,
          littleEndian: !bigEndian,
          engine: 'generic',
          attempt: 0,
          session: { time: true, energies: true, box: true, coords: true, wrapped: false, velocities: true, forces: true },
        },
      ]);
      expect(got.map((f) => f.index)).toEqual([0, 1, 2, 3, 4]);
      for (const [n, f] of got.entries()) {
        expect(f.natoms).toBe(7);
        expect(f.step).toBe(100 + 10 * n);
        expect(f.time).toBeCloseTo((100 + 10 * n) * 0.002, 12);
        expect(f.dt).toBe(0.002);
        const b = fakeBox(n).map(Math.fround);
        expect(Array.from(f.box!)).toEqual([b[0], b[3], b[4], b[6], b[7], b[8]]);
        expectArray(f.positions, 'x', n, 7);
        expectArray(f.velocities, 'v', n, 7);
        expectArray(f.forces, 'f', n, 7);
        const e = fakeEnergies(n).map(Math.fround);
        expect(f.energies).toEqual({
          step: 100 + 10 * n,
          temperature: e[0],
          total: e[1],
          potential: e[2],
          vdw: e[3],
          coulomb: e[4],
          bonds: e[5],
          angles: e[6],
          dihedrals: e[7],
          impropers: e[8],
        });
      }
      const r = await engine.done;
      expect(r.outcome).toBe('ok');
      expect(controlTypes(r)).toEqual(['GO']);
    });

    it(`IMD v2 (energies + coordinates), ${bigEndian ? 'big' : 'little'}-endian engine`, async () => {
      const { engine, port } = await serve({ version: 2, bigEndian, natoms: 4, frames: 3, firstStep: 1, stepEvery: 1 });
      const got = await frames({ connect: { port } });
      expect(got.length).toBe(3);
      for (const [n, f] of got.entries()) {
        expectArray(f.positions, 'x', n, 4);
        expect(f.step).toBe(1 + n); // generic engine: the ENERGIES step as sent
        expect(f.velocities).toBeUndefined();
        expect(f.box).toBeUndefined();
        expect(f.time).toBeUndefined();
        expect(f.energies!.temperature).toBe(Math.fround(300 + n));
      }
      expect((await engine.done).outcome).toBe('ok');
    });
  }

  it('GROMACS v2: the frame step is the ENERGIES step minus one (GROMACS fills it after step++)', async () => {
    const { port } = await serve({ version: 2, natoms: 2, frames: 3, firstStep: 1, stepEvery: 1 });
    const got = await frames({ connect: { port }, engine: 'gromacs' });
    expect(got.map((f) => f.step)).toEqual([0, 1, 2]);
    expect(got.map((f) => f.energies!.step)).toEqual([1, 2, 3]);
  });

  it('IMD v2 without energies (LAMMPS v2): positions only', async () => {
    const { port } = await serve({ version: 2, energies: false, natoms: 3, frames: 2 });
    const got = await frames({ connect: { port } });
    expect(got.length).toBe(2);
    expect(got[1].step).toBeUndefined();
    expect(got[1].energies).toBeUndefined();
    expectArray(got[1].positions, 'x', 1, 3);
  });

  it('v2: a last ENERGIES packet without coordinates ends the stream with a warning, not an error', async () => {
    const { port } = await serve({ version: 2, natoms: 3, frames: 2, trailingEnergies: true });
    const warnings: string[] = [];
    const got = await frames({ connect: { port }, onWarning: (w) => warnings.push(w) });
    expect(got.length).toBe(2);
    expect(warnings.join('\n')).toMatch(/ended with an ENERGIES packet and no coordinates after it; ignored/);
  });

  it('v3 subsets: the fixed packet order of the session, nothing else expected', async () => {
    const { port } = await serve({ version: 3, natoms: 3, frames: 3, session: { time: false, energies: false, box: true, velocities: false, forces: true } });
    const got = await frames({ connect: { port } });
    expect(got.length).toBe(3);
    expect(got[2].time).toBeUndefined();
    expect(got[2].velocities).toBeUndefined();
    expectArray(got[2].forces, 'f', 2, 3);
  });

  it('LAMMPS `units real`: fs → ps, Å/fs → Å/ps, kcal → kJ', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 2, dt: 2.0, firstStep: 5, stepEvery: 5, session: { energies: false } });
    const got = await frames({ connect: { port }, engine: 'lammps', lammpsUnits: 'real' });
    expect(got[1].dt).toBeCloseTo(0.002, 15);
    expect(got[1].time).toBeCloseTo(10 * 2.0 * 1e-3, 12);
    expectArray(got[1].positions, 'x', 1, 2, 1);
    expectArray(got[1].velocities, 'v', 1, 2, 1000);
    expectArray(got[1].forces, 'f', 1, 2, 4.184);
  });

  it('LAMMPS without a units style is refused where the option is written', () => {
    expect(() => fromImd({ connect: { port: 1 }, engine: 'lammps' })).toThrow(/`units` style/);
    expect(() => fromImd({ connect: { port: 1 }, engine: 'lammps', lammpsUnits: 'furlongs' })).toThrow(/unknown LAMMPS units style "furlongs"/);
  });

  it('frames are pool views: retain() gives stable copies, views are reused', async () => {
    const { port } = await serve({ version: 3, natoms: 3, frames: 6, session: { velocities: false, forces: false } });
    const views: ImdFrame[] = [];
    const copies: ImdFrame[] = [];
    await lastValueFrom(
      fromImd({ connect: { port }, bufferBytes: 1 }).pipe(
        map((f) => {
          views.push(f);
          copies.push(f.retain() as ImdFrame);
        }),
        toArray(),
      ),
    );
    expect(copies.map((f) => f.positions[0])).toEqual([0, 1, 2, 3, 4, 5].map((n) => fakeValue('x', n, 0, 0)));
    const buffers = new Set(views.map((f) => f.positions.buffer));
    expect(buffers.size).toBe(2); // bufferBytes: 1 -> the minimum pool of 2 slots
    expect(copies[0].retain()).toBe(copies[0]);
  });

  it('sockets from a connect function: adopted into a reusable read buffer, or used as they are once they read', async () => {
    for (const delayMs of [0, 150]) {
      const { port } = await serve({ version: 3, natoms: 4, frames: 5 });
      const got = await frames({
        connect: async () => {
          const s = net.connect({ host: '127.0.0.1', port });
          await new Promise((r) => s.once('connect', r));
          // After a while the socket has read the handshake itself: it cannot be adopted.
          if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
          return s;
        },
      });
      expect(got.map((f) => f.step)).toEqual([0, 10, 20, 30, 40]);
      expectArray(got[4].forces, 'f', 4, 4);
    }
  });

  it('a long silence between frames is not the end of the stream (no read timeout)', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 2, frameIntervalMs: 1500 });
    const t0 = performance.now();
    const got = await frames({ connect: { port } });
    expect(got.length).toBe(2);
    expect(performance.now() - t0).toBeGreaterThan(1400);
  });

  it('a reset right after the last complete frame ends the stream with every frame', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 3, resetAtEnd: true });
    const warnings: string[] = [];
    const got = await frames({ connect: { port }, onWarning: (w) => warnings.push(w) });
    expect(got.length).toBe(3);
  });
});

describe('fromImd: control messages', () => {
  it('sends GO at once, then TRATE and WAIT when asked', async () => {
    const { engine, port } = await serve({ version: 3, natoms: 2, frames: 1 });
    await frames({ connect: { port }, trate: 25, wait: false });
    const r = await engine.done;
    expect(r.received.map((m) => [ImdType[m.type], m.length])).toEqual([
      ['GO', 0],
      ['TRATE', 25],
      ['WAIT', 0],
    ]);
    expect(r.received[0].at).toBeLessThan(500);
  });

  it('v2: never sends v3-only messages (GROMACS drops clients that do)', async () => {
    const { engine, port } = await serve({ version: 2, natoms: 2, frames: 1 });
    await frames({ connect: { port }, wait: true, trate: 3 });
    expect(controlTypes(await engine.done)).toEqual(['GO', 'TRATE']);
  });

  // The engine runs in its own process here: a busy pipeline must not stall it.
  async function engineProcess(options: FakeOptions) {
    const script = await fakeEngineScript(tmpdir('westream-imd-fake-'));
    const child = spawn(process.execPath, [script, '--mimic', 'none', '--options', JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d) => {
        out += d;
        const m = /LISTENING (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (c) => reject(new Error(`fake engine exited (${c}): ${out}`)));
    });
    const result = new Promise<FakeResult>((resolve) =>
      child.once('exit', () => resolve(JSON.parse(/RESULT (.*)/.exec(out)![1]) as FakeResult)),
    );
    return { port, result };
  }
  const busy = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };

  it('flowControl "pause": a slow pipeline pauses and resumes a v3 engine; no frame is lost', async () => {
    const natoms = 2000; // 72 kB per frame: a 4-slot pool
    // An engine that reads control messages until it closes (see the reset hazard in the README).
    const { port, result } = await engineProcess({ version: 3, natoms, frames: 40, frameIntervalMs: 2, lingerMs: 500, session: { time: true, energies: false, box: false } });
    const steps: number[] = [];
    const src = fromImd({ connect: { port }, bufferBytes: 4 * natoms * 36, flowControl: 'pause' });
    await lastValueFrom(
      src.pipe(
        map((f) => {
          busy(15); // a slow synchronous pipeline
          steps.push(f.step!);
          expect(f.positions[3 * 1999 + 2]).toBe(Math.fround(fakeValue('x', f.index, 1999, 2)));
        }),
        toArray(),
      ),
    );
    const r = await result;
    expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => 10 * i));
    expect(src.stats!.pauses).toBeGreaterThan(0);
    // The last PAUSE may find the engine done sending: nothing to resume then.
    expect(src.stats!.resumes).toBeGreaterThanOrEqual(src.stats!.pauses - 1);
    const types = controlTypes(r);
    expect(types[0]).toBe('GO');
    expect(types.filter((t) => t === 'PAUSE').length).toBe(src.stats!.pauses);
    // strictly alternating PAUSE, RESUME
    expect(types.slice(1).every((t, i) => t === (i % 2 === 0 ? 'PAUSE' : 'RESUME'))).toBe(true);
    expect(r.sentWhilePaused).toBe(0);
    expect(r.framesSent).toBe(40);
    expect(src.stats!.maxQueued).toBeLessThanOrEqual(4);
  });

  it('flowControl "tcp" (the default but for NAMD): a slow pipeline holds the engine back without a message; "pause" on v2 toggles PAUSE', async () => {
    const natoms = 2000;
    const slow = map((f: ImdFrame) => {
      busy(10);
      return f.step;
    });
    // 30 frames of 24 kB (720 kB) at 10 ms each: the engine ends only after the pipeline let it.
    const a = await engineProcess({ version: 3, natoms, frames: 30, session: { time: false, energies: false, box: false, velocities: false } });
    const t0 = performance.now();
    const tcp = fromImd({ connect: { port: a.port }, bufferBytes: 4 * natoms * 24 });
    const s1 = await lastValueFrom(tcp.pipe(slow, toArray()));
    expect(s1.length).toBe(30);
    const ra = await a.result;
    expect(controlTypes(ra)).toEqual(['GO']);
    expect(ra.framesSent).toBe(30);
    expect(performance.now() - t0).toBeGreaterThan(250);
    expect(tcp.stats!.maxQueued).toBeLessThanOrEqual(4);
    const b = await engineProcess({ version: 2, natoms, frames: 30, frameIntervalMs: 2, lingerMs: 500 });
    const src = fromImd({ connect: { port: b.port }, bufferBytes: 4 * natoms * 12, flowControl: 'pause' });
    const s2 = await lastValueFrom(src.pipe(slow, toArray()));
    expect(s2).toEqual(Array.from({ length: 30 }, (_, i) => 10 * i));
    const r = await b.result;
    const types = controlTypes(r);
    expect(types[0]).toBe('GO');
    expect(types.slice(1).every((t) => t === 'PAUSE')).toBe(true);
    expect(types.length - 1).toBe(src.stats!.pauses + src.stats!.resumes);
    expect(src.stats!.resumes).toBeGreaterThan(0);
    expect(r.sentWhilePaused).toBe(0);
  });

  it('leaving early sends DISCONNECT (or KILL) and closes the connection', async () => {
    const a = await serve({ version: 3, natoms: 2, frames: 1000, frameIntervalMs: 2 });
    const got = await lastValueFrom(fromImd({ connect: { port: a.port } }).pipe(take(3), toArray()));
    expect(got.length).toBe(3);
    const r = await a.engine.done;
    expect(r.outcome).toBe('client-left');
    expect(controlTypes(r)).toEqual(['GO', 'DISCONNECT']);
    const b = await serve({ version: 3, natoms: 2, frames: 1000, frameIntervalMs: 2 });
    await lastValueFrom(fromImd({ connect: { port: b.port }, onLeave: 'kill' }).pipe(take(1), toArray()));
    expect(controlTypes(await b.engine.done)).toEqual(['GO', 'KILL']);
  });

  it('an engine that drops the client before the first frame (missed GO) is reconnected', async () => {
    const { engine, port } = await serve({ version: 2, natoms: 2, frames: 2, dropFirst: 2 });
    const warnings: string[] = [];
    const got = await frames({ connect: { port }, reconnects: 3, onWarning: (w) => warnings.push(w) });
    expect(got.length).toBe(2);
    expect((await engine.done).connections).toBe(3);
    expect(warnings.filter((w) => /reconnecting/.test(w)).length).toBe(2);
  });

  it('gives up after the allowed reconnects with a clear error', async () => {
    const { engine, port } = await serve({ version: 2, natoms: 2, frames: 2, dropFirst: 5 });
    const { error } = await failure({ connect: { port }, reconnects: 1 });
    expect(error.message).toMatch(/closed the IMD connection before the first frame 2 times.*GO/);
    engine.close();
  });
});

describe('fromImd: broken streams give clear errors, never a crash or a hang', () => {
  it('engine dying in the middle of a frame: every complete frame, then an error naming the packet', async () => {
    const natoms = 10;
    const frameBytes = 8 + 24 + 8 + 40 + 8 + 36 + 3 * (8 + 12 * natoms);
    const { port } = await serve({ version: 3, natoms, frames: 5, dieMidFrame: { frame: 3, bytes: 8 + 24 + 8 + 40 + 8 + 36 + 8 + 100 } });
    const { error, frames: n } = await failure({ connect: { port }, label: 'fake-engine (pid 1)' });
    expect(n).toBe(3);
    expect(error.name).toBe('ImdError');
    expect(error.message).toMatch(/^fake-engine \(pid 1\) (closed|reset) the connection.* in the middle of frame 3, after 100 of 120 bytes of its FCOORDS \(2\) packet$/);
    expect(frameBytes).toBeGreaterThan(0);
  });

  it('engine dying between two packets of a frame', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 3, dieMidFrame: { frame: 1, bytes: 8 + 24 } });
    const { error, frames: n } = await failure({ connect: { port } });
    expect(n).toBe(1);
    expect(error.message).toMatch(/in the middle of frame 1, after packet 1 of 6$/);
  });

  it('a garbage header: the expected and the received packet, and where', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 4, garbageAt: { frame: 2, bytes: [0x47, 0x41, 0x52, 0x42, 0, 0, 0, 9] } });
    const { error, frames: n } = await failure({ connect: { port } });
    expect(n).toBe(2);
    expect(error.message).toMatch(
      /expected TIME \(12\) \(packet 1 of 6 in every frame of this session: TIME, ENERGIES, BOX, FCOORDS, VELOCITIES, FORCES\), got unknown type 1195463234 with length 9 \(IMD v3, frame 2, at byte \d+\)/,
    );
  });

  it('v2: a packet that is neither ENERGIES nor FCOORDS', async () => {
    const { port } = await serve({ version: 2, natoms: 2, frames: 2, garbageAt: { frame: 1, bytes: [0, 0, 0, 9, 0, 0, 0, 1] } });
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/expected ENERGIES \(1\) or FCOORDS \(2\) from an IMD v2 engine, got IOERROR \(9\) with length 1/);
  });

  it('an absurd atom count is refused before anything is allocated', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const { port } = await serve({ version: 2, energies: false, absurdAtoms: { natoms: 0x7fffffff, send: 1000 } });
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/FCOORDS \(2\) announces 2147483647 atoms, more than the limit of 100000000 \(maxAtoms\)/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
  });

  it('a large announced frame that never comes allocates only what arrived', async () => {
    const before = process.memoryUsage().arrayBuffers;
    // 90 million atoms announced (~1 GB of coordinates), 200 kB sent, then the engine closes.
    const { port } = await serve({ version: 2, energies: false, absurdAtoms: { natoms: 90_000_000, send: 200_000 } });
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/closed the connection in the middle of frame 0, after 200000 of 1080000000 bytes of its FCOORDS \(2\) packet/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it('negative lengths and atom counts that change mid-stream', async () => {
    const a = await serve({ version: 3, natoms: 2, frames: 2, garbageAt: { frame: 0, bytes: [0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff] } });
    expect((await failure({ connect: { port: a.port } })).error.message).toMatch(/TIME \(12\) must have length 1, got -1/);
    const b = await serve({ version: 3, natoms: 3, frames: 4, changeAtomsAt: { frame: 2, natoms: 4 } });
    const r = await failure({ connect: { port: b.port } });
    expect(r.frames).toBe(2);
    expect(r.error.message).toMatch(/FCOORDS \(2\) carries 4 atoms; earlier packets carried 3/);
    const c = await serve({ version: 3, natoms: 3, frames: 1 });
    expect((await failure({ connect: { port: c.port }, expectAtoms: 5 })).error.message).toMatch(/carries 3 atoms, expected 5 \(expectAtoms\)/);
  });

  it('a bad handshake: neither version 2 nor 3', async () => {
    const { port } = await serve({ badHandshake: 0x07000000 });
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/unsupported IMD version in the handshake: the length slot holds 0x07000000/);
  });

  it('a peer that is not an IMD engine', async () => {
    const server = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/expected the IMD handshake \(type 4\) as the first message, got unknown type 1213486160/);
    server.close();
  });

  it('a v3 session without coordinates is refused clearly', async () => {
    const { port } = await serve({ version: 3, natoms: 2, frames: 1, session: { coords: false } });
    const { error } = await failure({ connect: { port }, label: 'lmp (pid 9)' });
    expect(error.message).toMatch(/lmp \(pid 9\) announced an IMD v3 session without coordinates \(session info time=on energies=on box=on coords=off/);
  });

  it('nothing listening: a connect error, not a hang', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(new RegExp(`cannot connect to IMD engine at 127.0.0.1:${port}: connect ECONNREFUSED`));
  });

  it('the engine closing before the handshake', async () => {
    const server = net.createServer((s) => s.end(Buffer.from([0, 0, 0])));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const { error } = await failure({ connect: { port } });
    expect(error.message).toMatch(/closed the connection before the IMD handshake \(3 of 8 bytes\)/);
    server.close();
  });
});
