// Westream's side of the supervisor (supervisor.ts): starts it (inside a
// private network namespace or not), relays the engine's output, signals the
// engine's process group, and obtains connected sockets to the engine.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

import { findIp } from './netns.js';
import { ProcessGroup, type EngineExit } from '../core/process-group.js';
import type { SupervisorConfig, SupervisorMessage, SupervisorRequest } from './supervisor.js';

export type { EngineExit } from '../core/process-group.js';

export interface SupervisedOptions {
  command: string[];
  netns: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** supervisor.js next to this module (dist), or in dist/ when running from the TypeScript sources. */
function supervisorPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'supervisor.js'), path.resolve(here, '..', '..', 'dist', 'launch', 'supervisor.js')];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`westream's engine supervisor is missing (looked for ${candidates.join(', ')}): build with \`npx tsc -p .\``);
  return found;
}

/** The supervisor (inside `unshare` for a private network namespace), leading a new process group (and session); the engine joins it. */
function spawnSupervisor(options: SupervisedOptions): ChildProcess {
  const config: SupervisorConfig = { command: options.command, netns: options.netns, ip: options.netns ? findIp() : undefined };
  const uid = process.getuid?.() ?? 0;
  if (options.netns && uid !== 0) config.mapUser = { uid, gid: process.getgid?.() ?? 0 };
  const node = [process.execPath, supervisorPath(), JSON.stringify(config)];
  const argv = options.netns ? ['unshare', '--user', '--map-root-user', '--net', '--', ...node] : node;
  return spawn(argv[0], argv.slice(1), {
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: options.env ?? process.env,
    cwd: options.cwd,
    serialization: 'json',
  });
}

/** An engine running under its supervisor, in the supervisor's process group. */
export class SupervisedEngine extends ProcessGroup {
  /** Resolves with the engine's pid once it started; rejects when it could not start. */
  readonly started: Promise<number>;
  readonly stdout: Readable;
  readonly stderr: Readable;
  enginePid: number | undefined;
  private startedReject!: (e: Error) => void;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: net.Socket) => void; reject: (e: Error) => void }>();
  private fatal: string | undefined;

  constructor(readonly options: SupervisedOptions) {
    super(spawnSupervisor(options));
    this.stdout = this.child.stdout!;
    this.stderr = this.child.stderr!;
    let startedResolve!: (pid: number) => void;
    this.started = new Promise((res, rej) => {
      startedResolve = res;
      this.startedReject = rej;
    });
    this.started.catch(() => {});
    this.child.on('message', (m: SupervisorMessage, handle?: net.Socket) => {
      switch (m.type) {
        case 'started':
          this.enginePid = m.pid;
          startedResolve(m.pid);
          break;
        case 'fatal':
          this.fatal = m.message;
          this.startedReject(new Error(m.message));
          break;
        case 'connected': {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (!p) handle?.destroy();
          else if (!handle) p.reject(new Error('the supervisor sent no socket'));
          else p.resolve(handle);
          break;
        }
        case 'connect-error': {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          p?.reject(new Error(m.message));
          break;
        }
      }
    });
  }

  protected override onError(err: Error): void {
    this.startedReject(err);
  }

  protected override onExit({ code, signal }: EngineExit): void {
    const why = this.fatal ?? `the engine exited (${code !== null ? `exit code ${code}` : `signal ${signal}`}) before starting`;
    this.startedReject(new Error(why));
    for (const p of this.pending.values()) p.reject(new Error('the engine exited'));
    this.pending.clear();
  }

  /** A message the supervisor reported before failing (no loopback, engine not found). */
  get fatalMessage(): string | undefined {
    return this.fatal;
  }

  /**
   * A socket connected to 127.0.0.1:`port` where the engine listens: made
   * inside the engine's namespace by the supervisor and passed over, or a
   * plain connect when the engine shares ours. Call only once the engine
   * said it listens (never probe: engines drop or abort on a silent client).
   */
  connect(port: number): Promise<net.Socket> {
    if (!this.running) return Promise.reject(new Error('the engine is not running'));
    if (!this.options.netns) {
      return new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.removeListener('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      const req: SupervisorRequest = { type: 'connect', id, port };
      this.child.send(req, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }
}
