// fromImd: frames from an engine that streams over IMD v2 or v3.
//
// One connection per subscription. The client reads the handshake, derives
// version and body byte order, reads v3 session info, and sends GO at once
// (engines wait only ~1 s for it; LAMMPS aborts the run without it). Frames
// are parsed straight from the socket's chunks into a pool of preallocated
// frame slots (one copy) and handed to the pipeline as views into a slot,
// valid until the pipeline's synchronous work for that frame returns —
// the same contract as the channel; `frame.retain()` copies.
//
// Flow control: frames are delivered from the pool in turns of the event
// loop, so socket reads continue while a slow pipeline works. A full pool
// stops reading: TCP back-pressure then blocks engines that write blocking
// (GROMACS, LAMMPS), which pauses them without losing a frame ("tcp", their
// default). Engines that skip frames while the socket is full (NAMD) get
// explicit PAUSE when three quarters of the pool are taken and RESUME once
// half is free again ("pause", v3; in v2 PAUSE toggles). Explicit PAUSE is not
// the default for blocking engines on purpose: an engine that ends its run
// with an unread PAUSE in its socket closes with a TCP reset, and the kernel
// discards the frames still in its send buffer (see README, IMD engines).
//
// End of stream is the engine closing the connection at a frame boundary
// (or the socket being reset there). There is no read timeout anywhere:
// engines may send a frame every few minutes.
import net from 'node:net';
import { Observable, type Subscriber } from 'rxjs';

import { BorrowedFrame, OwnedFrame, copiedFields, type Frame } from '../../core/frame.js';
import {
  BOX_BYTES,
  ENERGIES_BYTES,
  HEADER_BYTES,
  ImdError,
  ImdType,
  SESSIONINFO_BYTES,
  TIME_BYTES,
  V2_SESSION,
  decodeBox,
  decodeEnergies,
  decodeTime,
  encodeHeader,
  lowerTriangularBox,
  parseHandshake,
  parseSessionInfo,
  readHeader,
  swap32InPlace,
  typeName,
  v3FrameLayout,
  type RawEnergies,
  type SessionInfo,
} from './protocol.js';
import { unitScales, v2StepFromEnergies, type ImdEngine, type UnitScales } from './units.js';

/** Energies of a frame: the ENERGIES record's fields converted to kJ/mol (temperature in K; step as sent). */
export type ImdEnergies = RawEnergies;

/** A Frame from IMD: the usual fields plus what IMD may carry besides. */
export interface ImdFrame extends Frame {
  /** Energies, when the engine sends them (GROMACS; v3 with energies on). */
  readonly energies?: ImdEnergies;
  /** Integration time step in ps (v3 TIME packet). */
  readonly dt?: number;
}

export type ImdConnect =
  | { host?: string; port: number }
  | { path: string }
  | (() => Promise<net.Socket>);

export interface ImdOptions {
  /** Where the engine listens: TCP host/port, a Unix socket path (a relay), or a function returning a connected socket. */
  connect: ImdConnect;
  /** Which engine (for its units and quirks). Default "generic": IMD v3 spec units. */
  engine?: ImdEngine;
  /** LAMMPS `units` style (real, metal, si, cgs, electron, micro, nano, lj); required for engine "lammps". */
  lammpsUnits?: string;
  /** Replace single unit factors (engine value × factor = westream unit). */
  units?: Partial<UnitScales>;
  /** Refuse a stream with another atom count. */
  expectAtoms?: number;
  /** Refuse length fields above this many atoms (default 100 million). */
  maxAtoms?: number;
  /** Ask the engine for a frame every N steps (IMD TRATE) right after GO. */
  trate?: number;
  /** v3: send WAIT after GO: true = engine blocks without a client, false = runs on. */
  wait?: boolean;
  /** Memory for buffered frames (default 16 MiB; at least 2 frames). */
  bufferBytes?: number;
  /**
   * How a slow pipeline holds the engine back: "tcp" (stop reading; engines
   * that write blocking wait) or "pause" (IMD PAUSE/RESUME; v2 PAUSE toggles).
   * Default: "pause" for NAMD (it skips frames otherwise), "tcp" for the rest.
   */
  flowControl?: 'tcp' | 'pause';
  /** Sent when the subscriber leaves before the stream ends: "disconnect" (default), "kill", or "none". */
  onLeave?: 'disconnect' | 'kill' | 'none';
  /** Reconnect this many times when the engine drops the connection before the first frame (GROMACS after a missed GO). */
  reconnects?: number;
  /** Give every frame its own arrays instead of pool views. */
  copy?: boolean;
  /** Names the peer in errors, e.g. "gmx (pid 4242)". */
  label?: string;
  /** Called once the session is known (after the handshake and, for v3, the session info). */
  onSession?: (info: ImdSessionEvent) => void;
  /** Non-fatal notices (unit caveats, a reset after the last frame, reconnects). */
  onWarning?: (message: string) => void;
  /** Every control message sent to the engine (GO, PAUSE, ...), for logs and tests. */
  onControl?: (type: ImdType, length: number) => void;
}

export interface ImdSessionEvent {
  version: 2 | 3;
  littleEndian: boolean;
  /** v3: as announced; v2: what IMD v2 can carry. */
  session: SessionInfo;
  engine: ImdEngine;
  /** Connection attempt (0 unless reconnected). */
  attempt: number;
}

export interface ImdStats {
  frames: number;
  bytes: number;
  natoms: number | undefined;
  version: 2 | 3 | undefined;
  pauses: number;
  resumes: number;
  /** Most frames waiting in the pool at once. */
  maxQueued: number;
  poolSlots: number;
}

const DEFAULT_MAX_ATOMS = 100_000_000;
const DEFAULT_BUFFER = 16 * 1024 * 1024;
const MAX_SLOTS = 1024;
/** Socket reads go into one reusable buffer of this size where we create the socket. */
const READ_BUFFER = 1 << 20;
/** Deliver frames for at most this long per turn of the event loop, then let reads in. */
const DELIVERY_SLICE_MS = 4;

/** A frame whose arrays live in a pool slot (valid until the pipeline's synchronous work returns). */
class PoolFrame extends BorrowedFrame implements ImdFrame {
  constructor(
    index: number,
    natoms: number,
    positions: Float32Array,
    step: number | undefined,
    time: number | undefined,
    box: Float32Array | undefined,
    velocities: Float32Array | undefined,
    forces: Float32Array | undefined,
    readonly energies: ImdEnergies | undefined,
    readonly dt: number | undefined,
  ) {
    super(index, natoms, positions, step, time, box, velocities, forces);
  }

  override retain(): ImdFrame {
    return new OwnedImdFrame(this);
  }
}

/** An IMD frame that owns its arrays. */
class OwnedImdFrame extends OwnedFrame implements ImdFrame {
  readonly energies?: ImdEnergies;
  readonly dt?: number;

  constructor(f: ImdFrame) {
    super(copiedFields(f));
    if (f.energies) this.energies = { ...f.energies };
    if (f.dt !== undefined) this.dt = f.dt;
  }

  override retain(): ImdFrame {
    return this;
  }
}

interface Slot {
  positions: Float32Array;
  velocities?: Float32Array;
  forces?: Float32Array;
  posBytes: Uint8Array;
  velBytes?: Uint8Array;
  forBytes?: Uint8Array;
  box?: Float32Array;
  step?: number;
  time?: number;
  dt?: number;
  energies?: ImdEnergies;
}

/** Bytes of the first frame, grown only as they arrive (a length field alone allocates nothing big). */
class GrowableBytes {
  bytes: Uint8Array;
  length = 0;
  constructor(private readonly limit: number) {
    this.bytes = new Uint8Array(Math.min(limit, 64 * 1024));
  }
  append(src: Uint8Array): void {
    const need = this.length + src.length;
    if (need > this.bytes.length) {
      let cap = this.bytes.length || 1;
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(Math.min(cap, this.limit));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(src, this.length);
    this.length = need;
  }
}

type ArrayKind = 'positions' | 'velocities' | 'forces';
const ARRAY_OF: Partial<Record<ImdType, ArrayKind>> = {
  [ImdType.FCOORDS]: 'positions',
  [ImdType.VELOCITIES]: 'velocities',
  [ImdType.FORCES]: 'forces',
};

/** The observable returned by fromImd. One subscriber at a time; each subscription is one connection. */
export class ImdObservable extends Observable<ImdFrame> {
  private current: ImdConnection | undefined;
  private last: ImdStats | undefined;

  constructor(readonly options: ImdOptions) {
    let self: ImdObservable | undefined;
    super((subscriber) => self!.subscribeImpl(subscriber));
    self = this;
    // Validate now, so a wrong option fails where it is written.
    unitScales(options.engine ?? 'generic', options.lammpsUnits, options.units);
    if (options.flowControl !== undefined && options.flowControl !== 'tcp' && options.flowControl !== 'pause') {
      throw new RangeError(`fromImd: flowControl must be "tcp" or "pause", got ${String(options.flowControl)}`);
    }
    for (const [k, v] of Object.entries({ expectAtoms: options.expectAtoms, maxAtoms: options.maxAtoms, trate: options.trate, bufferBytes: options.bufferBytes })) {
      if (v !== undefined && (!Number.isInteger(v) || v < (k === 'expectAtoms' ? 0 : 1))) {
        throw new RangeError(`fromImd: ${k} must be a ${k === 'expectAtoms' ? 'non-negative' : 'positive'} integer, got ${v}`);
      }
    }
  }

  /** Counters of the current (or last) connection. */
  get stats(): ImdStats | undefined {
    return this.current?.stats() ?? this.last;
  }

  private subscribeImpl(subscriber: Subscriber<ImdFrame>): () => void {
    let attempt = 0;
    let closed = false;
    const start = () => {
      const conn = new ImdConnection(this.options, attempt, {
        next: (f) => subscriber.next(f),
        error: (e) => {
          this.last = conn.stats();
          this.current = undefined;
          subscriber.error(e);
        },
        complete: () => {
          this.last = conn.stats();
          this.current = undefined;
          subscriber.complete();
        },
        closedBeforeFrames: () => {
          // The engine dropped us before sending a frame (GROMACS after a missed GO).
          this.current = undefined;
          const allowed = this.options.reconnects ?? 0;
          if (closed) return;
          if (attempt < allowed) {
            attempt++;
            this.options.onWarning?.(
              `${label(this.options)} closed the IMD connection before the first frame; reconnecting (${attempt} of ${allowed})`,
            );
            start();
          } else if (attempt > 0) {
            subscriber.error(
              new ImdError(
                `${label(this.options)} closed the IMD connection before the first frame ${attempt + 1} times ` +
                  '(did GO arrive within the engine\'s ~1 s window? a heavily loaded machine can delay it)',
                'CLOSED_EARLY',
              ),
            );
          } else {
            subscriber.complete(); // a session that ended before any frame: zero frames
          }
        },
      });
      this.current = conn;
      conn.open();
    };
    start();
    return () => {
      closed = true;
      this.current?.leave();
    };
  }
}

/** Streams frames from an IMD engine. See ImdOptions; the returned observable connects on subscribe. */
export function fromImd(options: ImdOptions): ImdObservable {
  return new ImdObservable(options);
}

function label(o: ImdOptions): string {
  if (o.label) return o.label;
  const c = o.connect;
  if (typeof c === 'function') return 'IMD engine';
  if ('path' in c) return `IMD engine at ${c.path}`;
  return `IMD engine at ${c.host ?? '127.0.0.1'}:${c.port}`;
}

interface Sink {
  next(f: ImdFrame): void;
  error(e: Error): void;
  complete(): void;
  closedBeforeFrames(): void;
}

type Phase = 'handshake' | 'sessioninfo-header' | 'sessioninfo-body' | 'frames';

/** One connection to one engine: socket, parser, frame pool and delivery. */
class ImdConnection {
  private socket: net.Socket | undefined;
  private finished = false;
  private left = false;

  // parser
  private phase: Phase = 'handshake';
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  private bodyType = -1;
  private bodyTotal = 0;
  private bodyFill = 0;
  private bodyTarget: Uint8Array | GrowableBytes | undefined;
  private readonly small = new Uint8Array(Math.max(ENERGIES_BYTES, TIME_BYTES, BOX_BYTES, SESSIONINFO_BYTES));
  private bytesIn = 0;
  private consumed = 0;
  private framePos = 0; // index into the v3 layout / v2: 0 before FCOORDS

  // session
  private version: 2 | 3 | undefined;
  private littleEndian = true;
  private session: SessionInfo = V2_SESSION;
  private layout: ImdType[] = [];
  private natoms: number | undefined;
  private readonly engine: ImdEngine;
  private readonly scales: UnitScales;
  private readonly maxAtoms: number;

  // first frame (before the atom count is trusted)
  private first: { positions?: GrowableBytes; velocities?: GrowableBytes; forces?: GrowableBytes } | undefined = {};
  private firstSlot: Partial<Slot> = {};

  // pool
  private free: Slot[] = [];
  private readonly ready: Slot[] = [];
  private filling: Slot | undefined;
  private poolSlots = 0;
  private stalled: Uint8Array | undefined;
  private deliveryScheduled = false;
  private delivered = 0;
  private maxQueued = 0;

  // flow control
  private paused = false;
  private pauses = 0;
  private resumes = 0;

  // end
  private endState: { error?: Error } | undefined;

  constructor(
    private readonly o: ImdOptions,
    private readonly attempt: number,
    private readonly sink: Sink,
  ) {
    this.engine = o.engine ?? 'generic';
    const units = unitScales(this.engine, o.lammpsUnits, o.units);
    this.scales = units.scales;
    if (units.note && attempt === 0) o.onWarning?.(units.note);
    this.maxAtoms = o.maxAtoms ?? DEFAULT_MAX_ATOMS;
  }

  stats(): ImdStats {
    return {
      frames: this.delivered,
      bytes: this.bytesIn,
      natoms: this.natoms,
      version: this.version,
      pauses: this.pauses,
      resumes: this.resumes,
      maxQueued: this.maxQueued,
      poolSlots: this.poolSlots,
    };
  }

  /** Reads go into one reusable buffer (Node's onread); the parser copies everything it keeps. */
  private onread() {
    return {
      buffer: Buffer.allocUnsafe(READ_BUFFER),
      callback: (n: number, buf: Uint8Array) => {
        this.onData(buf.subarray(0, n));
        return true;
      },
    };
  }

  open(): void {
    const c = this.o.connect;
    if (typeof c === 'function') {
      c().then(
        (s) => this.attach(this.adopt(s)),
        (e: Error) => this.fail(new ImdError(`cannot connect to ${label(this.o)}: ${e.message}`, 'CONNECT')),
      );
    } else {
      const onread = this.onread();
      const s = 'path' in c ? net.connect({ path: c.path, onread }) : net.connect({ host: c.host ?? '127.0.0.1', port: c.port, onread });
      s.once('connect', () => this.attach(s));
      s.once('error', (e) => {
        if (!this.socket) this.fail(new ImdError(`cannot connect to ${label(this.o)}: ${e.message}`, 'CONNECT'));
      });
    }
  }

  /**
   * A socket made elsewhere (handed over from the engine's network namespace)
   * reads into a fresh 64 KiB buffer per chunk, about half the throughput of
   * a reusable buffer. Before it has read anything, move its handle into a
   * socket with `onread`; if Node's internals do not allow that, use it as is.
   */
  private adopt(s: net.Socket): net.Socket {
    type Handle = { readStop?: () => number; readStart?: () => number; reading?: boolean };
    const h = (s as unknown as { _handle?: Handle | null })._handle;
    if (!h || typeof h.readStop !== 'function' || typeof h.readStart !== 'function' || s.bytesRead !== 0 || s.readableLength !== 0 || s.connecting || s.destroyed) {
      return s;
    }
    try {
      h.readStop();
      h.reading = false;
      (s as unknown as { _handle: unknown })._handle = null;
      const fresh = new net.Socket({ handle: h as never, readable: true, writable: true, onread: this.onread() } as net.SocketConstructorOpts);
      // The new socket starts reading in its constructor; make sure it did (a socket that never reads would wait forever).
      if (Reflect.get(h, 'reading') !== true) {
        h.reading = true;
        h.readStart();
      }
      return fresh;
    } catch {
      return s;
    }
  }

  private attach(s: net.Socket): void {
    if (this.left || this.finished) {
      s.destroy();
      return;
    }
    this.socket = s;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => this.onEnd(undefined));
    s.on('error', (e: NodeJS.ErrnoException) => this.onEnd(e));
    s.on('close', () => this.onEnd(undefined));
    s.resume();
  }

  /** The subscriber left: tell the engine (DISCONNECT or KILL) and close. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    const s = this.socket;
    this.release();
    if (!s || this.finished || s.destroyed) {
      s?.destroy();
      return;
    }
    this.finished = true;
    const how = this.o.onLeave ?? 'disconnect';
    // v3 accepts control messages only after SESSIONINFO; v2 after GO.
    if (how !== 'none' && this.phase === 'frames') {
      const type = how === 'kill' ? ImdType.KILL : ImdType.DISCONNECT;
      this.o.onControl?.(type, 0);
      s.end(encodeHeader(type, 0));
    } else {
      s.end();
    }
    s.removeAllListeners('data');
    s.on('error', () => {});
    s.resume(); // drain whatever is in flight until the engine closes
    setTimeout(() => s.destroy(), 2000).unref();
  }

  private send(type: ImdType, length = 0): void {
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return;
    this.o.onControl?.(type, length);
    s.write(encodeHeader(type, length));
  }

  private fail(e: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.endState = { error: e };
    this.socket?.destroy();
    this.scheduleDelivery();
  }

  // ------------------------------------------------------------------ input

  private onData(chunk: Uint8Array): void {
    if (this.finished) return;
    this.bytesIn += chunk.length;
    try {
      this.feed(chunk);
    } catch (e) {
      this.fail(e instanceof ImdError ? e : new ImdError(`${label(this.o)}: ${(e as Error).message}`, 'PROTOCOL'));
    }
  }

  /** Parses `chunk`; stops (and keeps the rest) when no slot is free for the next frame. */
  private feed(chunk: Uint8Array): void {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.finished) return;
      if (this.bodyTarget === undefined && this.bodyTotal === 0) {
        // A new frame needs a slot before its first byte is parsed.
        if (this.phase === 'frames' && this.framePos === 0 && this.headerFill === 0 && !this.first && !this.filling) {
          const slot = this.free.pop();
          if (!slot) {
            this.stall(chunk.subarray(off));
            return;
          }
          this.filling = slot;
        }
        const take = Math.min(HEADER_BYTES - this.headerFill, n - off);
        this.header.set(chunk.subarray(off, off + take), this.headerFill);
        this.headerFill += take;
        off += take;
        this.consumed += take;
        if (this.headerFill === HEADER_BYTES) {
          this.headerFill = 0;
          const { type, length } = readHeader(this.header);
          this.onHeader(type, length);
          if (this.bodyTotal === 0) this.onBody(); // empty body
        }
      } else {
        const take = Math.min(this.bodyTotal - this.bodyFill, n - off);
        const piece = chunk.subarray(off, off + take);
        const t = this.bodyTarget!;
        if (t instanceof GrowableBytes) t.append(piece);
        else t.set(piece, this.bodyFill);
        this.bodyFill += take;
        off += take;
        this.consumed += take;
        if (this.bodyFill === this.bodyTotal) this.onBody();
      }
    }
  }

  private stall(rest: Uint8Array): void {
    // Keep a private copy: the socket may reuse its buffer.
    this.stalled = Uint8Array.from(rest);
    this.socket?.pause();
  }

  private protocolError(message: string): ImdError {
    return new ImdError(`${label(this.o)}: ${message} (IMD v${this.version ?? '?'}, frame ${this.delivered + this.ready.length}, at byte ${this.consumed})`, 'PROTOCOL');
  }

  private expectBody(type: number, total: number, target: Uint8Array | GrowableBytes | undefined): void {
    this.bodyType = type;
    this.bodyTotal = total;
    this.bodyFill = 0;
    this.bodyTarget = target ?? (total > 0 ? this.small.subarray(0, total) : undefined);
  }

  private onHeader(type: number, length: number): void {
    switch (this.phase) {
      case 'handshake': {
        const hs = parseHandshake(type, length);
        this.version = hs.version;
        this.littleEndian = hs.littleEndian;
        if (hs.version === 2) {
          this.session = { ...V2_SESSION };
          this.startFrames();
        } else {
          this.phase = 'sessioninfo-header';
        }
        this.expectBody(-1, 0, undefined);
        return;
      }
      case 'sessioninfo-header':
        if (type !== ImdType.SESSIONINFO || length !== SESSIONINFO_BYTES) {
          throw this.protocolError(`expected SESSIONINFO (10) with length 7 after the v3 handshake, got ${typeName(type)} with length ${length}`);
        }
        this.phase = 'sessioninfo-body';
        this.expectBody(type, SESSIONINFO_BYTES, undefined);
        return;
      case 'frames':
        this.onFrameHeader(type, length);
        return;
      default:
        throw this.protocolError(`unexpected header in phase ${this.phase}`);
    }
  }

  private onBody(): void {
    const type = this.bodyType;
    const body = this.bodyTarget;
    this.bodyTarget = undefined;
    this.bodyTotal = 0;
    this.bodyFill = 0;
    if (this.phase === 'sessioninfo-body') {
      this.session = parseSessionInfo(body as Uint8Array);
      if (!this.session.coords) {
        throw new ImdError(
          `${label(this.o)} announced an IMD v3 session without coordinates (session info ${this.sessionText()}): ` +
            'westream frames need positions; switch coordinates on in the engine input',
          'UNSUPPORTED',
        );
      }
      this.layout = v3FrameLayout(this.session);
      this.startFrames();
      return;
    }
    if (this.phase !== 'frames' || type < 0) return;
    this.onPacket(type, body);
  }

  private sessionText(): string {
    const s = this.session;
    return Object.entries(s)
      .map(([k, v]) => `${k}=${v ? 'on' : 'off'}`)
      .join(' ');
  }

  private startFrames(): void {
    this.phase = 'frames';
    this.framePos = 0;
    this.o.onSession?.({
      version: this.version!,
      littleEndian: this.littleEndian,
      session: { ...this.session },
      engine: this.engine,
      attempt: this.attempt,
    });
    // GO at once: engines wait about a second for it.
    this.send(ImdType.GO);
    if (this.o.trate !== undefined) this.send(ImdType.TRATE, this.o.trate);
    if (this.version === 3 && this.o.wait !== undefined) this.send(ImdType.WAIT, this.o.wait ? 1 : 0);
  }

  private onFrameHeader(type: number, length: number): void {
    if (this.version === 3) {
      const expected = this.layout[this.framePos];
      if (type !== expected) {
        throw this.protocolError(
          `expected ${typeName(expected)} (packet ${this.framePos + 1} of ${this.layout.length} in every frame of this session: ` +
            `${this.layout.map((t) => ImdType[t]).join(', ')}), got ${typeName(type)} with length ${length}`,
        );
      }
    } else if (type !== ImdType.ENERGIES && type !== ImdType.FCOORDS) {
      throw this.protocolError(`expected ENERGIES (1) or FCOORDS (2) from an IMD v2 engine, got ${typeName(type)} with length ${length}`);
    }
    switch (type) {
      case ImdType.ENERGIES:
      case ImdType.TIME:
      case ImdType.BOX: {
        if (length !== 1) throw this.protocolError(`${typeName(type)} must have length 1, got ${length}`);
        const bytes = type === ImdType.ENERGIES ? ENERGIES_BYTES : type === ImdType.TIME ? TIME_BYTES : BOX_BYTES;
        this.expectBody(type, bytes, undefined);
        return;
      }
      default: {
        const kind = ARRAY_OF[type as ImdType]!;
        this.checkAtoms(type, length);
        const total = 12 * length;
        if (this.first) {
          const g = new GrowableBytes(total);
          this.first[kind] = g;
          this.expectBody(type, total, g);
        } else {
          const slot = this.filling!;
          const target = kind === 'positions' ? slot.posBytes : kind === 'velocities' ? slot.velBytes! : slot.forBytes!;
          this.expectBody(type, total, target);
        }
      }
    }
  }

  private checkAtoms(type: number, length: number): void {
    if (length < 0 || length > this.maxAtoms) {
      throw new ImdError(
        `${label(this.o)}: ${typeName(type)} announces ${length} atoms, ${length < 0 ? 'a negative count' : `more than the limit of ${this.maxAtoms} (maxAtoms)`}: ` +
          `garbage on the connection or the wrong peer (frame ${this.delivered + this.ready.length}, at byte ${this.consumed})`,
        'LIMIT',
      );
    }
    if (this.o.expectAtoms !== undefined && length !== this.o.expectAtoms) {
      throw this.protocolError(`${typeName(type)} carries ${length} atoms, expected ${this.o.expectAtoms} (expectAtoms)`);
    }
    if (this.natoms !== undefined && length !== this.natoms) {
      throw this.protocolError(`${typeName(type)} carries ${length} atoms; earlier packets carried ${this.natoms}`);
    }
    this.natoms = length;
  }

  private onPacket(type: number, body: Uint8Array | GrowableBytes | undefined): void {
    const le = this.littleEndian;
    const slot: Partial<Slot> = this.first ? this.firstSlot : this.filling!;
    switch (type) {
      case ImdType.ENERGIES: {
        const e = decodeEnergies(body as Uint8Array, le);
        const k = this.scales.energy;
        slot.energies = {
          step: e.step,
          temperature: e.temperature,
          total: e.total * k,
          potential: e.potential * k,
          vdw: e.vdw * k,
          coulomb: e.coulomb * k,
          bonds: e.bonds * k,
          angles: e.angles * k,
          dihedrals: e.dihedrals * k,
          impropers: e.impropers * k,
        };
        if (this.version === 2) slot.step = v2StepFromEnergies(this.engine, e.step);
        break;
      }
      case ImdType.TIME: {
        const t = decodeTime(body as Uint8Array, le);
        slot.dt = t.dt * this.scales.time;
        slot.time = t.time * this.scales.time;
        slot.step = t.step;
        break;
      }
      case ImdType.BOX: {
        if (!slot.box) slot.box = new Float32Array(6);
        lowerTriangularBox(decodeBox(body as Uint8Array, le), this.scales.length, slot.box);
        break;
      }
      default: {
        const kind = ARRAY_OF[type as ImdType]!;
        let bytes: Uint8Array;
        if (body instanceof GrowableBytes) bytes = body.bytes.subarray(0, body.length);
        else bytes = body as Uint8Array;
        if (!le) swap32InPlace(bytes);
        const scale = kind === 'positions' ? this.scales.length : kind === 'velocities' ? this.scales.velocity : this.scales.force;
        if (scale !== 1) {
          const f = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
          for (let i = 0; i < f.length; i++) f[i] *= scale;
        }
      }
    }
    this.framePos++;
    const done = this.version === 3 ? this.framePos === this.layout.length : type === ImdType.FCOORDS;
    if (done) this.finishFrame();
  }

  private finishFrame(): void {
    this.framePos = 0;
    if (this.first) {
      this.setUpPool();
      return;
    }
    const slot = this.filling!;
    this.filling = undefined;
    this.pushReady(slot);
  }

  /** The first frame is complete: its atom count is trusted now; allocate the pool. */
  private setUpPool(): void {
    const natoms = this.natoms ?? 0;
    const s = this.session;
    const arrays = 1 + (s.velocities ? 1 : 0) + (s.forces ? 1 : 0);
    const frameBytes = Math.max(1, arrays * 12 * natoms);
    const budget = this.o.bufferBytes ?? DEFAULT_BUFFER;
    this.poolSlots = Math.max(2, Math.min(MAX_SLOTS, Math.floor(budget / frameBytes)));
    const slots: Slot[] = [];
    for (let i = 0; i < this.poolSlots; i++) {
      const buf = new ArrayBuffer(arrays * 12 * natoms);
      let at = 0;
      const take = () => {
        const b = new Uint8Array(buf, at, 12 * natoms);
        at += 12 * natoms;
        return b;
      };
      const posBytes = take();
      const slot: Slot = { posBytes, positions: new Float32Array(buf, posBytes.byteOffset, 3 * natoms) };
      if (s.velocities) {
        slot.velBytes = take();
        slot.velocities = new Float32Array(buf, slot.velBytes.byteOffset, 3 * natoms);
      }
      if (s.forces) {
        slot.forBytes = take();
        slot.forces = new Float32Array(buf, slot.forBytes.byteOffset, 3 * natoms);
      }
      if (s.box) slot.box = new Float32Array(6);
      slots.push(slot);
    }
    // Frame 0 goes into slot 0; the next frame fills slot 1.
    const f = this.first!;
    const slot0 = slots[0];
    slot0.posBytes.set(f.positions!.bytes.subarray(0, f.positions!.length));
    if (f.velocities && slot0.velBytes) slot0.velBytes.set(f.velocities.bytes.subarray(0, f.velocities.length));
    if (f.forces && slot0.forBytes) slot0.forBytes.set(f.forces.bytes.subarray(0, f.forces.length));
    const fs = this.firstSlot;
    if (fs.box && slot0.box) slot0.box.set(fs.box);
    slot0.step = fs.step;
    slot0.time = fs.time;
    slot0.dt = fs.dt;
    slot0.energies = fs.energies;
    this.first = undefined;
    this.firstSlot = {};
    this.free = slots.slice(1).reverse();
    this.filling = this.free.pop();
    this.pushReady(slot0);
  }

  private pushReady(slot: Slot): void {
    this.ready.push(slot);
    if (this.ready.length > this.maxQueued) this.maxQueued = this.ready.length;
    this.flowControl();
    this.scheduleDelivery();
  }

  // --------------------------------------------------------- flow control

  private canPause(): boolean {
    return this.version !== undefined && (this.o.flowControl ?? (this.engine === 'namd' ? 'pause' : 'tcp')) === 'pause';
  }

  private flowControl(): void {
    if (!this.canPause() || this.finished) return;
    const queued = this.ready.length + (this.stalled ? 1 : 0);
    if (!this.paused && queued >= Math.max(1, Math.floor(this.poolSlots * 0.75))) {
      this.paused = true;
      this.pauses++;
      this.send(ImdType.PAUSE);
    } else if (this.paused && queued <= Math.floor(this.poolSlots * 0.5)) {
      this.paused = false;
      this.resumes++;
      this.send(this.version === 3 ? ImdType.RESUME : ImdType.PAUSE);
    }
  }

  // ------------------------------------------------------------- delivery

  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    const t0 = performance.now();
    while (this.ready.length > 0 && !this.left) {
      const slot = this.ready.shift()!;
      const frame = this.frameOf(slot);
      this.delivered++;
      try {
        this.sink.next(frame);
      } finally {
        this.freeSlot(slot);
      }
      if (performance.now() - t0 > DELIVERY_SLICE_MS) break;
    }
    if (this.left) return;
    this.flowControl();
    if (this.ready.length > 0) {
      this.scheduleDelivery();
      return;
    }
    if (this.endState) {
      const e = this.endState.error;
      this.endState = undefined;
      this.release();
      if (e) this.sink.error(e);
      else if (this.delivered === 0 && this.natoms === undefined && this.version !== undefined) this.sink.closedBeforeFrames();
      else this.sink.complete();
    }
  }

  private frameOf(s: Slot): ImdFrame {
    const f = new PoolFrame(
      this.delivered,
      this.natoms ?? 0,
      s.positions,
      s.step,
      s.time,
      s.box,
      s.velocities,
      s.forces,
      s.energies,
      s.dt,
    );
    return this.o.copy ? f.retain() : f;
  }

  private freeSlot(slot: Slot): void {
    slot.energies = undefined;
    this.free.push(slot);
    if (this.stalled && !this.finished) {
      const rest = this.stalled;
      this.stalled = undefined;
      this.filling ??= this.free.pop();
      try {
        this.feed(rest);
      } catch (e) {
        this.fail(e instanceof ImdError ? e : new ImdError(`${label(this.o)}: ${(e as Error).message}`, 'PROTOCOL'));
        return;
      }
      if (!this.stalled) this.socket?.resume();
    }
  }

  private release(): void {
    this.free = [];
    this.ready.length = 0;
    this.filling = undefined;
    this.stalled = undefined;
  }

  // ------------------------------------------------------------------ end

  private atBoundary(): boolean {
    return (
      this.phase === 'frames' &&
      this.framePos === 0 &&
      this.headerFill === 0 &&
      this.bodyTotal === 0 &&
      this.stalled === undefined
    );
  }

  private onEnd(err: NodeJS.ErrnoException | undefined): void {
    if (this.finished) return;
    if (this.stalled && !err) {
      // Unparsed bytes are still waiting for a free slot: finish them first.
      const check = () => {
        if (this.finished) return;
        if (this.stalled) setImmediate(check);
        else this.onEnd(undefined);
      };
      setImmediate(check);
      return;
    }
    this.finished = true;
    const who = label(this.o);
    if (this.version === 2 && this.phase === 'frames' && this.framePos > 0 && this.headerFill === 0 && this.bodyTotal === 0 && !this.stalled) {
      // v2 has no fixed frame layout: a last ENERGIES packet without coordinates is not a broken frame.
      this.o.onWarning?.(`${who}: the stream ended with an ENERGIES packet and no coordinates after it; ignored`);
      this.endState = {};
    } else if (this.atBoundary()) {
      if (err) this.o.onWarning?.(`${who}: connection ${err.code ?? err.message} after ${this.delivered + this.ready.length} complete frames; treating it as the end of the stream`);
      this.endState = {};
    } else if (this.version === undefined) {
      this.endState = {
        error: new ImdError(
          `${who} closed the connection ${err ? `(${err.code ?? err.message}) ` : ''}before the IMD handshake` +
            (this.headerFill ? ` (${this.headerFill} of 8 bytes)` : ''),
          'CLOSED_EARLY',
        ),
      };
    } else if (this.phase !== 'frames') {
      this.endState = { error: new ImdError(`${who} closed the connection before sending its IMD v3 session info`, 'CLOSED_EARLY') };
    } else {
      const frame = this.delivered + this.ready.length;
      let where: string;
      if (this.bodyTotal > 0) {
        where = `after ${this.bodyFill} of ${this.bodyTotal} bytes of its ${typeName(this.bodyType)} packet`;
      } else if (this.headerFill > 0) {
        where = `after ${this.headerFill} of 8 bytes of a packet header`;
      } else {
        where = this.version === 3 ? `after packet ${this.framePos} of ${this.layout.length}` : 'after its ENERGIES packet, before FCOORDS';
      }
      this.endState = {
        error: new ImdError(
          `${who} ${err ? `reset the connection (${err.code ?? err.message})` : 'closed the connection'} in the middle of frame ${frame}, ${where}`,
          'TRUNCATED',
        ),
      };
    }
    this.socket?.destroy();
    this.scheduleDelivery();
  }
}
