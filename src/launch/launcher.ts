// Launches an IMD engine so that no port race is possible, and connects to
// it only once it listens.
//
//   netns  (default where unprivileged user + network namespaces work): the
//          engine runs in a private network namespace, on a fixed or
//          engine-chosen port nobody else can see; westream gets a socket
//          made inside it from the supervisor (supervisor.ts). No TCP port
//          exists in the host's namespace.
//   port0  (GROMACS elsewhere): `-imdport 0`, the port read from mdrun.
//   probe  (LAMMPS, NAMD elsewhere): bind port 0, close, hand the number to
//          the engine; when the engine reports that it could not bind, start
//          it again with a fresh port, a bounded number of times.
//
// Readiness comes from the engine's own output line, never from a trial
// connect (engines wait only ~1 s for GO; LAMMPS aborts the run without it).
import fs from 'node:fs';
import type net from 'node:net';

import type { EngineAdapter, Isolation, PortRequest, WatchEvent } from './adapter.js';
import { gromacs } from './gromacs.js';
import { lammpsAdapter } from './lammps.js';
import { namd } from './namd.js';
import { netnsSupport } from './netns.js';
import { probeFreePort } from './probe.js';
import { SupervisedEngine, type EngineExit } from './supervised.js';

export type ImdEngineName = 'gromacs' | 'lammps' | 'namd';
export const IMD_LAUNCH_ENGINES: readonly ImdEngineName[] = ['gromacs', 'lammps', 'namd'];

export interface LaunchLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export interface ImdLaunchOptions {
  engine: ImdEngineName;
  command: string[];
  /** "auto" (default): netns where available, else port0 (GROMACS) or probe (LAMMPS, NAMD). */
  isolation?: 'auto' | Isolation;
  /** Probe-and-retry: how many engine starts at most (default 5). */
  attempts?: number;
  /** LAMMPS: the index variable that carries the port (default imd_port). */
  portVariable?: string;
  /** Receives the engine's output (stdout and stderr); default: westream's stderr. */
  output?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  log?: LaunchLog;
  env?: NodeJS.ProcessEnv;
  /** Working directory of the engine (default: westream's). */
  cwd?: string;
  /** Chooses probe ports (default: bind port 0 and close). */
  pickPort?: () => Promise<number>;
}

export interface ImdReady {
  port: number;
  isolation: Isolation;
  attempts: number;
  enginePid: number | undefined;
  /** Leader of the engine's process group. */
  groupPid: number | undefined;
}

export type LaunchErrorKind = 'usage' | 'netns' | 'start' | 'no-imd' | 'exited' | 'bind' | 'stopped';

export class LaunchError extends Error {
  override name = 'LaunchError';
  constructor(
    message: string,
    readonly kind: LaunchErrorKind,
    /** The engine's exit, when it ended before listening. */
    readonly exit?: EngineExit,
  ) {
    super(message);
  }
}

const MAX_LINE = 64 * 1024;

/** The only TCP listener in `pid`'s network namespace (a private one holds nothing else), from /proc. */
function soleListener(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A') ports.add(parseInt(f[1].split(':').pop()!, 16)); // LISTEN
    }
  }
  return ports.size === 1 ? [...ports][0] : undefined;
}
const silent: LaunchLog = { info() {}, warn() {}, debug() {} };

export function adapterFor(engine: ImdEngineName, portVariable?: string): EngineAdapter {
  switch (engine) {
    case 'gromacs':
      return gromacs;
    case 'lammps':
      return lammpsAdapter(portVariable);
    case 'namd':
      return namd;
    default:
      throw new LaunchError(`unknown IMD engine "${engine as string}": expected gromacs, lammps or namd`, 'usage');
  }
}

/** Chooses the isolation for `engine` (throws a LaunchError when the requested one is impossible). */
export function chooseIsolation(engine: ImdEngineName, requested: 'auto' | Isolation = 'auto'): { isolation: Isolation; note?: string } {
  const adapter = adapterFor(engine);
  if (requested === 'auto') {
    const ns = netnsSupport();
    if (ns.available) return { isolation: 'netns' };
    return {
      isolation: adapter.hostIsolation,
      note: `no private network namespace (${ns.reason}); ${engine} uses ${adapter.hostIsolation === 'port0' ? 'port 0' : 'bind-probe-and-retry'} and listens on all interfaces`,
    };
  }
  if (requested === 'netns') {
    const ns = netnsSupport();
    if (!ns.available) throw new LaunchError(`--imd-isolation netns: ${ns.reason}`, 'netns');
    return { isolation: 'netns' };
  }
  if (requested === 'port0' && engine !== 'gromacs') {
    throw new LaunchError(`--imd-isolation port0: ${engine} refuses port 0; use netns or probe`, 'usage');
  }
  if (requested === 'probe' && engine === 'gromacs') {
    throw new LaunchError('--imd-isolation probe: GROMACS picks its own port (port0); probing would only add a race', 'usage');
  }
  if (requested !== 'port0' && requested !== 'probe') {
    throw new LaunchError(`unknown isolation "${requested as string}": expected auto, netns, port0 or probe`, 'usage');
  }
  return { isolation: requested };
}

/** Splits a stream into lines for `onLine` while passing every byte on to `forward`. */
function watchLines(stream: NodeJS.ReadableStream, forward: (chunk: Buffer) => void, onLine: (line: string) => void): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    forward(chunk);
    const text = partial + chunk.toString('utf8');
    const lines = text.split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    if (partial.length > MAX_LINE) partial = partial.slice(-MAX_LINE);
    for (const l of lines) onLine(l.length > MAX_LINE ? l.slice(0, MAX_LINE) : l);
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
}

/**
 * One engine launch: start() resolves once the engine listens (after as many
 * probe attempts as needed); connect() then gives a socket to it; exited
 * resolves with the final engine's exit.
 */
export class ImdLaunch {
  readonly adapter: EngineAdapter;
  readonly isolation: Isolation;
  private current: SupervisedEngine | undefined;
  private ready: ImdReady | undefined;
  private stopped = false;
  private readonly log: LaunchLog;
  private readonly output: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  private resolveExited!: (e: EngineExit) => void;
  private rejectExited!: (e: Error) => void;
  /** The exit of the engine that listened (or of the last attempt). */
  readonly exited: Promise<EngineExit>;
  readonly isolationNote: string | undefined;

  constructor(readonly options: ImdLaunchOptions) {
    this.adapter = adapterFor(options.engine, options.portVariable);
    const chosen = chooseIsolation(options.engine, options.isolation);
    this.isolation = chosen.isolation;
    this.isolationNote = chosen.note;
    this.log = options.log ?? silent;
    this.output = options.output ?? ((chunk) => process.stderr.write(chunk));
    this.exited = new Promise((res, rej) => {
      this.resolveExited = res;
      this.rejectExited = rej;
    });
    this.exited.catch(() => {});
    // Validate the command now (a usage error must not start anything).
    this.adapter.command(options.command, this.isolation === 'netns' ? this.adapter.netnsPort : this.isolation === 'port0' ? { kind: 'zero' } : { kind: 'fixed', port: 65535 }, this.isolation);
  }

  /** The engine of the current attempt. */
  get engine(): SupervisedEngine | undefined {
    return this.current;
  }

  get port(): number | undefined {
    return this.ready?.port;
  }

  /** "gmx (pid 4242) in a private network namespace, IMD port 8888" */
  describe(): string {
    const name = this.options.command[0].split('/').pop();
    const pid = this.current?.enginePid ?? this.current?.pid;
    const where =
      this.isolation === 'netns' ? 'in a private network namespace' : this.isolation === 'port0' ? 'on an engine-chosen port' : 'on a probed port';
    return `${name} (pid ${pid}) ${where}${this.ready ? `, IMD port ${this.ready.port}` : ''}`;
  }

  async start(): Promise<ImdReady> {
    if (this.isolationNote) this.log.warn(this.isolationNote);
    const maxAttempts = this.isolation === 'probe' ? Math.max(1, this.options.attempts ?? 5) : 1;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw this.finishWith(new LaunchError('stopped before the engine listened', 'stopped'));
      let port: PortRequest;
      if (this.isolation === 'netns') port = this.adapter.netnsPort;
      else if (this.isolation === 'port0') port = { kind: 'zero' };
      else port = { kind: 'fixed', port: await (this.options.pickPort ?? probeFreePort)() };
      const argv = this.adapter.command(this.options.command, port, this.isolation);
      this.log.debug(`starting ${argv.join(' ')} (${this.isolation}${this.isolation === 'probe' ? `, attempt ${attempt} of ${maxAttempts}` : ''})`);
      let engine: SupervisedEngine;
      try {
        engine = new SupervisedEngine({ command: argv, netns: this.isolation === 'netns', env: this.options.env, cwd: this.options.cwd });
      } catch (e) {
        throw this.finishWith(new LaunchError(`cannot start ${argv[0]}: ${(e as Error).message}`, 'start'));
      }
      this.current = engine;
      const outcome = await this.attempt(engine, port);
      if (outcome.kind === 'ready') {
        this.ready = {
          port: outcome.port,
          isolation: this.isolation,
          attempts: attempt,
          enginePid: engine.enginePid,
          groupPid: engine.pid,
        };
        engine.exited.then(this.resolveExited, this.rejectExited);
        return this.ready;
      }
      if (outcome.kind === 'bind-failed' && attempt < maxAttempts && !this.stopped) {
        this.log.warn(`${this.options.engine} could not bind port ${port.kind === 'fixed' ? port.port : '?'} (${outcome.line}); starting it again with another port (attempt ${attempt + 1} of ${maxAttempts})`);
        continue;
      }
      throw this.finishWith(outcome.error, outcome.exit);
    }
  }

  private finishWith(error: LaunchError, exit?: EngineExit): LaunchError {
    if (exit) this.resolveExited(exit);
    else this.rejectExited(error);
    return error;
  }

  /** Watches one engine start until it listens, fails to bind, or ends. */
  private attempt(
    engine: SupervisedEngine,
    port: PortRequest,
  ): Promise<
    | { kind: 'ready'; port: number }
    | { kind: 'bind-failed'; line: string; error: LaunchError; exit?: EngineExit }
    | { kind: 'failed'; error: LaunchError; exit?: EngineExit }
  > {
    const name = this.options.command[0].split('/').pop();
    return new Promise((resolve) => {
      let decided = false;
      let errorLine: string | undefined;
      let bindLine: string | undefined;
      let noImd: string | undefined;
      let execFailure: string | undefined;
      const onEvent = (ev: WatchEvent) => {
        if (ev.kind === 'error-line') {
          errorLine ??= ev.line;
          return;
        }
        if (decided) return;
        switch (ev.kind) {
          case 'ready':
            if (port.kind === 'fixed' && ev.port !== port.port && this.isolation === 'probe') {
              this.log.warn(`${name} listens on port ${ev.port}, not on the probed port ${port.port}${this.options.engine === 'lammps' ? ': the input has a literal port in `fix imd`; concurrent runs can collide (write ${imd_port})' : ''}`);
            }
            decided = true;
            resolve({ kind: 'ready', port: ev.port });
            return;
          case 'awaiting': {
            // Waiting for a client without naming its port: the port requested, or,
            // in a private namespace, the one listening socket there (read from /proc, no connect).
            const p = port.kind === 'fixed' ? port.port : this.isolation === 'netns' ? soleListener(engine.enginePid) : undefined;
            decided = true;
            if (p !== undefined) resolve({ kind: 'ready', port: p });
            else {
              engine.stop(5000);
              resolve({ kind: 'failed', error: new LaunchError(`${name} waits for an IMD client but did not say on which port it listens`, 'exited') });
            }
            return;
          }
          case 'bind-failed':
            bindLine = ev.line;
            // The engine ends its run by itself; make sure it does.
            setTimeout(() => engine.stop(2000), 5000).unref();
            return;
          case 'no-imd':
            noImd = ev.message;
            decided = true;
            engine.stop(5000);
            engine.exited.then(
              (exit) => resolve({ kind: 'failed', error: new LaunchError(`${noImd}; stopped ${name}`, 'no-imd', exit), exit }),
              (e: Error) => resolve({ kind: 'failed', error: new LaunchError(e.message, 'start') }),
            );
            return;
        }
      };
      const forward = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => this.output(chunk, stream);
      const onLine = (l: string) => {
        // The nested user namespace (unprivileged netns runs) execs the engine through unshare.
        const ex = /^unshare: failed to execute (.*)$/.exec(l);
        if (ex) execFailure ??= ex[1];
        const ev = this.adapter.watch(l);
        if (ev) onEvent(ev);
      };
      watchLines(engine.stdout, forward('stdout'), onLine);
      watchLines(engine.stderr, forward('stderr'), onLine);
      engine.exited.then(
        (exit) => {
          // Output may still be in the pipes: let it drain before judging.
          setImmediate(() => {
            if (decided) return;
            decided = true;
            const status = exit.code !== null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
            if (this.stopped) {
              resolve({ kind: 'failed', error: new LaunchError(`stopped ${name} (${status}) before it listened for IMD`, 'stopped', exit), exit });
            } else if (engine.fatalMessage) {
              resolve({ kind: 'failed', error: new LaunchError(engine.fatalMessage, 'start', exit), exit });
            } else if (execFailure && (exit.code === 126 || exit.code === 127)) {
              resolve({ kind: 'failed', error: new LaunchError(`cannot start ${execFailure}`, 'start', exit), exit });
            } else if (bindLine) {
              resolve({
                kind: 'bind-failed',
                line: bindLine,
                exit,
                error: new LaunchError(
                  `${name} could not bind its IMD port (${bindLine})${this.isolation === 'probe' ? ` in ${this.options.attempts ?? 5} attempts` : ''}`,
                  'bind',
                  exit,
                ),
              });
            } else {
              resolve({
                kind: 'failed',
                exit,
                error: new LaunchError(
                  `${name} exited (${status}) before it listened for IMD${errorLine ? `: ${errorLine}` : ''}; ${this.adapter.notListeningHint}`,
                  'exited',
                  exit,
                ),
              });
            }
          });
        },
        (e: NodeJS.ErrnoException) => {
          if (decided) return;
          decided = true;
          resolve({ kind: 'failed', error: new LaunchError(`cannot start ${name}: ${e.message}`, 'start') });
        },
      );
    });
  }

  /** A socket connected to the engine's IMD port (call after start()). */
  connect(): Promise<net.Socket> {
    if (!this.ready || !this.current) return Promise.reject(new Error('the engine is not listening yet'));
    return this.current.connect(this.ready.port);
  }

  /** Stops the engine (SIGTERM to its group, SIGKILL after graceMs) and any further attempt. */
  stop(graceMs: number): void {
    this.stopped = true;
    this.current?.stop(graceMs);
  }

  signalGroup(signal: NodeJS.Signals): boolean {
    return this.current?.signalGroup(signal) ?? false;
  }
}
