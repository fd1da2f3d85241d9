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

/** The other side's record, if it has announced itself since `since` (ms epoch). */
export function peer(key: SegmentKey, side: Side, since: number): SideRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(recordFile(key, side), 'utf8')) as SideRecord;
    return r.at >= since - 60_000 ? r : undefined; // ignore records of an earlier attempt
  } catch {
    return undefined;
  }
}

/** A message naming both hosts, for when the two sides landed apart. */
export function placementError(key: SegmentKey, other: SideRecord): string {
  return (
    `iteration ${key.iteration} segment ${key.segId}: the ${other.side} side runs on node ${other.host} ` +
    `(pid ${other.pid}), this ${other.side === 'stream' ? 'propagator' : 'stream'} side on ${os.hostname()}; ` +
    'shared memory cannot cross nodes'
  );
}
