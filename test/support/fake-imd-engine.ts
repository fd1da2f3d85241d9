// A fake IMD engine for what real engines cannot be made to do on demand:
// big-endian bodies, v3 with every packet enabled, dying mid-frame, garbage
// headers, absurd lengths, dropping the client before the first frame,
// aborting without GO like LAMMPS.
//
// Two uses:
//   - in-process: `new FakeImdEngine(options)`; `await engine.listen()`
//     gives its port; `engine.done` resolves with what the client sent.
//   - as a process that mimics an engine's command line and log lines, for
//     launcher tests: `node fake-imd-engine.mjs --mimic namd|lammps ...`
//     (test/imd-launch.test.ts transpiles this file with TypeScript; it may
//     import only node: modules).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface FakeSession {
  time?: boolean;
  energies?: boolean;
  box?: boolean;
  coords?: boolean;
  wrapped?: boolean;
  velocities?: boolean;
  forces?: boolean;
}

export interface FakeOptions {
  version?: 2 | 3;
  bigEndian?: boolean;
  natoms?: number;
  frames?: number;
  /** v3 packets (default: everything on). */
  session?: FakeSession;
  /** v2: send ENERGIES before every FCOORDS (default true). */
  energies?: boolean;
  /** Step of frame f = firstStep + f * stepEvery. */
  firstStep?: number;
  stepEvery?: number;
  dt?: number;
  port?: number;
  host?: string;
  /** How long to wait for GO (default 1000 ms, like the engines). */
  goTimeoutMs?: number;
  /** Without GO in time: "abort" (LAMMPS: end the run) or "drop" (GROMACS: drop the client, keep listening). */
  onNoGo?: 'abort' | 'drop';
  /** Close the first N connections right after the handshake (as if GO came too late). */
  dropFirst?: number;
  /** Wait this long between frames. */
  frameIntervalMs?: number;
  /** Close the connection after `bytes` bytes of frame `frame`. */
  dieMidFrame?: { frame: number; bytes: number };
  /** Replace the first header of frame `frame` with these raw bytes. */
  garbageAt?: { frame: number; bytes: number[] };
  /** Announce this many atoms in frame 0's coordinate header, send `send` bytes of it, then close. */
  absurdAtoms?: { natoms: number; send: number };
  /** From frame `frame` on, send `natoms` atoms. */
  changeAtomsAt?: { frame: number; natoms: number };
  /** Send a handshake with this raw length slot instead (bad version). */
  badHandshake?: number;
  /** Reset (RST) instead of closing after the last frame. */
  resetAtEnd?: boolean;
  /** After the last frame, keep reading control messages this long before closing. */
  lingerMs?: number;
  /** v2: after the last frame, one more ENERGIES packet without coordinates (NAMD skipping a frame). */
  trailingEnergies?: boolean;
}

export interface ControlMessage {
  type: number;
  length: number;
  /** ms since the handshake was sent. */
  at: number;
}

export interface FakeResult {
  /** Control messages from the (last) client, in order. */
  received: ControlMessage[];
  framesSent: number;
  /** Frames sent while the client had the engine paused (must stay 0). */
  sentWhilePaused: number;
  /** "no-go" when the client did not send GO in time. */
  outcome: 'ok' | 'no-go' | 'client-left' | 'died';
  connections: number;
}

const T = { DISCONNECT: 0, ENERGIES: 1, FCOORDS: 2, GO: 3, HANDSHAKE: 4, KILL: 5, PAUSE: 7, TRATE: 8, SESSIONINFO: 10, RESUME: 11, TIME: 12, BOX: 13, VELOCITIES: 14, FORCES: 15, WAIT: 16 };

/** The value the fake engine sends for atom i, component k of frame f (exact in float32). */
export function fakeValue(kind: 'x' | 'v' | 'f', frame: number, atom: number, k: number): number {
  const base = kind === 'x' ? 0 : kind === 'v' ? 1000 : 2000;
  return base + frame + atom / 64 + k / 4;
}

/** Box rows the fake engine sends for frame f (lower-triangular). */
export function fakeBox(frame: number): number[] {
  return [30 + frame, 0, 0, 1, 31 + frame, 0, 2, 3, 32 + frame];
}

export function fakeEnergies(frame: number): number[] {
  return [300 + frame, -1000 - frame, -1200, -50, -1150, 10, 20, 30, 40];
}

export class FakeImdEngine {
  readonly o: Required<Omit<FakeOptions, 'dieMidFrame' | 'garbageAt' | 'absurdAtoms' | 'changeAtomsAt' | 'badHandshake' | 'session' | 'lingerMs' | 'trailingEnergies'>> &
    FakeOptions & { session: Required<FakeSession> };
  private server: net.Server | undefined;
  private result: FakeResult = { received: [], framesSent: 0, sentWhilePaused: 0, outcome: 'ok', connections: 0 };
  readonly done: Promise<FakeResult>;
  private resolveDone!: (r: FakeResult) => void;

  constructor(options: FakeOptions = {}) {
    this.o = {
      version: 3,
      bigEndian: false,
      natoms: 5,
      frames: 4,
      energies: true,
      firstStep: 0,
      stepEvery: 10,
      dt: 0.002,
      port: 0,
      host: '127.0.0.1',
      goTimeoutMs: 1000,
      onNoGo: 'abort',
      dropFirst: 0,
      frameIntervalMs: 0,
      resetAtEnd: false,
      ...options,
      session: { time: true, energies: true, box: true, coords: true, wrapped: false, velocities: true, forces: true, ...options.session },
    };
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Starts listening; resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: false }, (sock) => this.serve(sock));
      this.server = server;
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  close(): void {
    this.server?.close();
  }

  private finish(outcome: FakeResult['outcome']): void {
    this.result.outcome = outcome;
    this.server?.close();
    this.resolveDone(this.result);
  }

  private serve(sock: net.Socket): void {
    const conn = ++this.result.connections;
    sock.on('error', () => {});
    sock.setNoDelay(true);
    const le = !this.o.bigEndian;
    const t0 = performance.now();
    const received: ControlMessage[] = [];
    this.result.received = received;
    let pending = Buffer.alloc(0);
    let paused = false;
    let go = false;
    let left = false;
    let wake: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 8) {
        const type = pending.readInt32BE(0);
        const length = pending.readInt32BE(4);
        pending = pending.subarray(8);
        received.push({ type, length, at: performance.now() - t0 });
        if (type === T.GO) go = true;
        if (type === T.PAUSE) paused = this.o.version === 2 ? !paused : true;
        if (type === T.RESUME) paused = false;
        if (type === T.DISCONNECT || type === T.KILL) left = true;
        wake?.();
      }
    });
    sock.on('close', () => {
      left = true;
      wake?.();
    });
    const write = (b: Buffer) =>
      new Promise<void>((res) => {
        if (sock.destroyed) return res();
        if (sock.write(b)) res();
        else sock.once('drain', () => res());
      });
    const header = (type: number, length: number) => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(type, 0);
      b.writeInt32BE(length, 4);
      return b;
    };
    const f32 = (values: number[]) => {
      const b = Buffer.alloc(4 * values.length);
      values.forEach((v, i) => (le ? b.writeFloatLE(v, 4 * i) : b.writeFloatBE(v, 4 * i)));
      return b;
    };
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const waitFor = async (cond: () => boolean, ms: number) => {
      const end = performance.now() + ms;
      while (!cond() && performance.now() < end) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, Math.max(1, end - performance.now()));
        });
        wake = undefined;
      }
      return cond();
    };

    const run = async () => {
      // handshake: type big-endian, version in the engine's own byte order
      const hs = header(T.HANDSHAKE, 0);
      if (this.o.badHandshake !== undefined) hs.writeInt32BE(this.o.badHandshake, 4);
      else if (le) hs.writeInt32LE(this.o.version, 4);
      else hs.writeInt32BE(this.o.version, 4);
      await write(hs);
      if (conn <= this.o.dropFirst) {
        sock.destroy();
        return;
      }
      if (this.o.version === 3) {
        const s = this.o.session;
        await write(Buffer.concat([header(T.SESSIONINFO, 7), Buffer.from([s.time, s.energies, s.box, s.coords, s.wrapped, s.velocities, s.forces].map(Number))]));
      }
      if (!(await waitFor(() => go, this.o.goTimeoutMs))) {
        sock.destroy();
        if (this.o.onNoGo === 'abort') this.finish('no-go');
        return;
      }
      if (this.o.absurdAtoms) {
        await write(header(T.FCOORDS, this.o.absurdAtoms.natoms));
        await write(Buffer.alloc(this.o.absurdAtoms.send, 0x41));
        sock.end();
        this.finish('died');
        return;
      }
      for (let f = 0; f < this.o.frames; f++) {
        if (this.o.frameIntervalMs && f > 0) await sleep(this.o.frameIntervalMs);
        // Engines check for client messages once per step: honour PAUSE.
        if (paused) await waitFor(() => !paused || left, 60_000);
        if (left) {
          sock.end();
          this.finish('client-left');
          return;
        }
        const natoms = this.o.changeAtomsAt && f >= this.o.changeAtomsAt.frame ? this.o.changeAtomsAt.natoms : this.o.natoms;
        const frame = this.frameBytes(f, natoms, header, f32, le);
        let bytes = frame;
        if (this.o.garbageAt?.frame === f) bytes = Buffer.concat([Buffer.from(this.o.garbageAt.bytes), frame.subarray(8)]);
        if (this.o.dieMidFrame?.frame === f) {
          await write(bytes.subarray(0, this.o.dieMidFrame.bytes));
          await sleep(20);
          sock.destroy();
          this.finish('died');
          return;
        }
        if (paused) this.result.sentWhilePaused++;
        await write(bytes);
        this.result.framesSent++;
      }
      if (this.o.trailingEnergies) await write(this.frameBytes(this.o.frames, this.o.natoms, header, f32, le).subarray(0, 48));
      if (this.o.lingerMs) await sleep(this.o.lingerMs);
      if (this.o.resetAtEnd) {
        await sleep(50);
        sock.resetAndDestroy();
      } else {
        sock.end();
      }
      this.finish('ok');
    };
    run().catch(() => this.finish('died'));
  }

  private frameBytes(
    f: number,
    natoms: number,
    header: (t: number, l: number) => Buffer,
    f32: (v: number[]) => Buffer,
    le: boolean,
  ): Buffer {
    const arr = (kind: 'x' | 'v' | 'f') => {
      const v: number[] = [];
      for (let i = 0; i < natoms; i++) for (let k = 0; k < 3; k++) v.push(fakeValue(kind, f, i, k));
      return f32(v);
    };
    const step = this.o.firstStep + f * this.o.stepEvery;
    const energies = () => {
      const b = Buffer.alloc(40);
      if (le) b.writeInt32LE(step, 0);
      else b.writeInt32BE(step, 0);
      f32(fakeEnergies(f)).copy(b, 4);
      return Buffer.concat([header(T.ENERGIES, 1), b]);
    };
    const parts: Buffer[] = [];
    if (this.o.version === 2) {
      if (this.o.energies) parts.push(energies());
      parts.push(header(T.FCOORDS, natoms), arr('x'));
      return Buffer.concat(parts);
    }
    const s = this.o.session;
    if (s.time) {
      const b = Buffer.alloc(24);
      const time = step * this.o.dt;
      if (le) {
        b.writeDoubleLE(this.o.dt, 0);
        b.writeDoubleLE(time, 8);
        b.writeBigInt64LE(BigInt(step), 16);
      } else {
        b.writeDoubleBE(this.o.dt, 0);
        b.writeDoubleBE(time, 8);
        b.writeBigInt64BE(BigInt(step), 16);
      }
      parts.push(header(T.TIME, 1), b);
    }
    if (s.energies) parts.push(energies());
    if (s.box) parts.push(header(T.BOX, 1), f32(fakeBox(f)));
    if (s.coords) parts.push(header(T.FCOORDS, natoms), arr('x'));
    if (s.velocities) parts.push(header(T.VELOCITIES, natoms), arr('v'));
    if (s.forces) parts.push(header(T.FORCES, natoms), arr('f'));
    return Buffer.concat(parts);
  }
}

// ------------------------------------------------------------ process mode

/**
 * Writes this file, transpiled to JavaScript, to `dir`/fake-imd-engine.mjs
 * and returns its path, so tests can run the fake engine as a process.
 */
export async function fakeEngineScript(dir: string): Promise<string> {
  const ts = (await import('typescript')).default;
  const source = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const file = path.join(dir, 'fake-imd-engine.mjs');
  fs.writeFileSync(file, out.outputText);
  return file;
}

//
// node fake-imd-engine.mjs --mimic none --options '<FakeOptions as JSON>'
//   listens (port 0 unless options.port), prints "LISTENING <port>", serves
//   one client, prints "RESULT <FakeResult as JSON>", exits 0.
//
// node fake-imd-engine.mjs --mimic lammps|namd|gromacs [engine-style args] [--frames N] [--natoms N]
//   lammps: port from "-var imd_port P" (or --port P); refuses ports < 1024; a
//           busy port ends the run like LAMMPS ("bind to socket failed",
//           "ERROR: LAMMPS Terminated on error in IMD.", exit 1); prints
//           "Waiting for IMD connection on port P. Transfer rate 1."; no GO
//           within 1 s aborts the run (exit 1).
//   namd:   port from "--IMDport P"; refuses 0 ("IMDport should be positive");
//           on a busy port scans 1025-4095 like NAMD and logs the port it got
//           (not with --no-port-line: only "INTERACTIVE MD AWAITING CONNECTION").
//   gromacs: "-imdport 0" allowed; logs "IMD: Listening for IMD connection on port N."
async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const mimic = arg('--mimic') ?? 'lammps';
  if (mimic === 'none') {
    const engine = new FakeImdEngine(JSON.parse(arg('--options') ?? '{}') as FakeOptions);
    process.stdout.write(`LISTENING ${await engine.listen()}\n`);
    const result = await engine.done;
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return 0;
  }
  const natoms = Number(arg('--natoms') ?? 5);
  const frames = Number(arg('--frames') ?? 4);
  const version = Number(arg('--version') ?? 3) as 2 | 3;
  const startDelay = Number(arg('--start-delay-ms') ?? 0);
  const pidFile = arg('--pid-file');
  if (pidFile) (await import('node:fs')).writeFileSync(pidFile, String(process.pid));
  let port: number;
  if (mimic === 'lammps') {
    const v = argv.indexOf('-var');
    port = Number(v >= 0 && argv[v + 1] === 'imd_port' ? argv[v + 2] : (arg('--port') ?? 8888));
  } else if (mimic === 'namd') {
    port = Number(arg('--IMDport') ?? 3000);
  } else {
    port = Number(arg('-imdport') ?? 8888);
  }
  if (startDelay) await new Promise((r) => setTimeout(r, startDelay));
  const out = (s: string) => process.stdout.write(s + '\n');
  out(`fake ${mimic} engine (pid ${process.pid}) starting`);
  if (mimic === 'lammps' && port < 1024) {
    out('ERROR: Illegal fix imd parameter: port < 1024 (src/MISC/fix_imd.cpp:120)');
    return 1;
  }
  if (mimic === 'namd' && port <= 0) {
    out('FATAL ERROR: IMDport should be positive');
    return 1;
  }
  const engine = new FakeImdEngine({ version, natoms, frames, host: '0.0.0.0', onNoGo: mimic === 'gromacs' ? 'drop' : 'abort' });
  const tryListen = async (p: number) => {
    (engine.o as { port: number }).port = p;
    try {
      return await engine.listen();
    } catch {
      return undefined;
    }
  };
  let bound = await tryListen(port);
  if (bound === undefined) {
    if (mimic === 'lammps') {
      process.stderr.write('bind to socket failed: Address already in use\n');
      out('ERROR: LAMMPS Terminated on error in IMD. (src/src/MISC/fix_imd.cpp:607)');
      return 1;
    }
    if (mimic === 'namd') {
      out(`Warning: Interactive MD failed to bind to port ${port}.`);
      for (let p = 1025; p < 4096 && bound === undefined; p++) bound = await tryListen(p);
      if (bound === undefined) {
        out('FATAL ERROR: Interactive MD failed to find free port.');
        return 1;
      }
    } else {
      out(`Fatal error: IMD: binding socket to port ${port} failed with error 98.`);
      return 1;
    }
  }
  if (mimic === 'lammps') out(`Waiting for IMD connection on port ${bound}. Transfer rate 1.`);
  else if (mimic === 'namd') {
    if (!argv.includes('--no-port-line')) out(`Info: Interactive MD listening on port ${bound}.`);
    out('Info: INTERACTIVE MD AWAITING CONNECTION');
  } else {
    process.stderr.write(`IMD: Listening for IMD connection on port ${bound}.\nIMD: Will wait until I have a connection and IMD_GO orders.\n`);
  }
  const result = await engine.done;
  if (result.outcome === 'no-go') {
    out('Incompatible IMD client version? Dropping connection.');
    out('ERROR: LAMMPS terminated on error in setting up IMD connection.');
    return 1;
  }
  out(`fake engine done: ${result.framesSent} frames, ${result.connections} connection(s), control ${result.received.map((m) => m.type).join(',')}`);
  return result.outcome === 'ok' ? 0 : 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(String(e) + '\n');
      process.exit(70);
    },
  );
}
