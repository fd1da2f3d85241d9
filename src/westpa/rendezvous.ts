// Rendezvous between `westream stream` (WESTPA's stream_trajectory child,
// PR #495) and the propagator of the same segment. Both derive the same
// names from the simulation root, iteration and segment id:
//   - the frame channel and the result socket are abstract Unix sockets, so
//     they exist only on the node (and network namespace) that made them;
//   - each side also leaves a small record in $WEST_SIM_ROOT/.westream (a
//     shared filesystem) saying which host it runs on, so a side that lands
//     on another node learns it within seconds instead of waiting forever.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { WestpaEnvError } from './segment-env.js';

export interface SegmentKey {
  simRoot: string;
  iteration: number;
  segId: number;
}

export type Side = 'stream' | 'propagator';

export interface SideRecord {
  side: Side;
  /** propagator only: 'local' once it gave up on the stream side and analyses itself */
  mode?: 'stream' | 'local';
  host: string;
  pid: number;
  /** ms since the epoch */
  at: number;
}

/** PR #495 passes the segment only as WEST_SEG_PORT = 10000 + seg_id. */
export const SEG_PORT_BASE = 10000;

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new WestpaEnvError(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** The segment a stream_trajectory or propagator process serves, from its environment. */
export function segmentKey(env: NodeJS.ProcessEnv = process.env): SegmentKey {
  const simRoot = env.WEST_SIM_ROOT;
  if (!simRoot) throw new WestpaEnvError('WEST_SIM_ROOT is not set: export it in env.sh (WESTPA passes it to every child)');
  const iteration = int(env, 'WEST_CURRENT_ITER');
  if (iteration === undefined) throw new WestpaEnvError('WEST_CURRENT_ITER is not set: run this from WESTPA');
  let segId = int(env, 'WEST_CURRENT_SEG_ID');
  if (segId === undefined) {
    const port = int(env, 'WEST_SEG_PORT');
    if (port === undefined) {
      throw new WestpaEnvError('neither WEST_CURRENT_SEG_ID nor WEST_SEG_PORT is set: cannot tell which segment this is');
    }
    if (port < SEG_PORT_BASE) throw new WestpaEnvError(`WEST_SEG_PORT ${port} is below ${SEG_PORT_BASE}: not a PR #495 segment port`);
    segId = port - SEG_PORT_BASE;
  }
  // Never create the simulation root: a typo would scatter records elsewhere.
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(simRoot);
  } catch {
    throw new WestpaEnvError(`WEST_SIM_ROOT ${simRoot} does not exist: it must be the simulation's folder (where west.cfg is)`);
  }
  if (!stat.isDirectory()) throw new WestpaEnvError(`WEST_SIM_ROOT ${simRoot} is not a folder: it must be the simulation's folder (where west.cfg is)`);
  return { simRoot: path.resolve(simRoot), iteration, segId };
}

function tag(key: SegmentKey): string {
  const sim = createHash('sha256').update(key.simRoot).digest('hex').slice(0, 12);
  return `westream-${sim}-${key.iteration}-${key.segId}`;
}

/** Where the engine's producer sends frames (the stream side listens). */
export const frameAddress = (key: SegmentKey) => `@${tag(key)}`;
/** Where the stream side sends the pcoords back (the propagator side listens). */
export const resultAddress = (key: SegmentKey) => `@${tag(key)}-result`;

function iterationDir(simRoot: string, iteration: number): string {
  return path.join(simRoot, '.westream', 'rendezvous', String(iteration));
}

function recordFile(key: SegmentKey, side: Side): string {
  return path.join(iterationDir(key.simRoot, key.iteration), `${key.segId}.${side}.json`);
}

/** Records of iterations long finished (left by fallbacks) are removed as the run goes on. */
export function pruneOldRecords(key: SegmentKey): void {
  if (key.iteration >= 2) fs.rmSync(iterationDir(key.simRoot, key.iteration - 2), { recursive: true, force: true });
}

/** Removes the other side's record once it has been read. */
export function consume(key: SegmentKey, side: Side): void {
  fs.rmSync(recordFile(key, side), { force: true });
}

/** Announces this side (atomically: a reader never sees half a record). */
export function announce(key: SegmentKey, side: Side, mode?: SideRecord['mode']): () => void {
  const file = recordFile(key, side);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const record: SideRecord = { side, host: os.hostname(), pid: process.pid, at: Date.now(), ...(mode ? { mode } : {}) };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record));
  fs.renameSync(tmp, file);
  return () => fs.rmSync(file, { force: true });
}

/** True while process `pid` exists on this node (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface PeerRecord extends SideRecord {
  /** Whether its process still runs: known only for a record made on this node. */
  alive?: boolean;
}

/**
 * The other side's record, if it announced itself at most 60 s before `since`
 * (ms epoch; the two sides of one attempt start within seconds of each
 * other, so older records belong to an earlier attempt). A record made on
 * this node says whether its process still runs (`alive`): one left by a
 * process that died, or by an earlier attempt a minute before, must not be
 * trusted as if its writer were there.
 */
export function peer(key: SegmentKey, side: Side, since: number): PeerRecord | undefined {
  let r: SideRecord;
  try {
    r = JSON.parse(fs.readFileSync(recordFile(key, side), 'utf8')) as SideRecord;
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || typeof r.at !== 'number' || typeof r.host !== 'string') return undefined;
  if (r.at < since - 60_000) return undefined;
  return r.host === os.hostname() ? { ...r, alive: pidAlive(r.pid) } : r;
}

/**
 * Whether something listens on an abstract socket `@name` in this network
 * namespace (/proc/net/unix lists them), without connecting to it: a probe
 * connection would be taken for the engine. Undefined when it cannot tell.
 */
export function abstractListening(address: string): boolean | undefined {
  if (!address.startsWith('@')) return undefined;
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
  return table.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f.length >= 8 && f[7] === address && (parseInt(f[3], 16) & 0x10000) !== 0;
  });
}

/** A message naming both hosts, for when the two sides landed apart. */
export function placementError(key: SegmentKey, other: SideRecord): string {
  return (
    `iteration ${key.iteration} segment ${key.segId}: the ${other.side} side runs on node ${other.host} ` +
    `(pid ${other.pid}), this ${other.side === 'stream' ? 'propagator' : 'stream'} side on ${os.hostname()}; ` +
    'shared memory cannot cross nodes'
  );
}
