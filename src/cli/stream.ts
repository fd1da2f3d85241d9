// `westream stream`: WESTPA's stream_trajectory executable (PR #495). It
// gets no segment directory and no WEST_PCOORD_RETURN, so it listens where
// the segment's propagator will look (see westpa/rendezvous.ts), analyses
// the frames the engine streams, and sends the rows back to the propagator,
// which writes WEST_PCOORD_RETURN.
import net from 'node:net';
import os from 'node:os';
import { lastValueFrom, toArray } from 'rxjs';

import { loadPipeline, type PcoordRow } from '../pipeline/index.js';
import { fromChannel } from '../sources/channel.js';
import { STOP_SIGNALS, exitStatus } from '../core/process-group.js';
import { announce, consume, frameAddress, peer, placementError, resultAddress, segmentKey, type SegmentKey } from '../westpa/rendezvous.js';
import type { Logger } from './logger.js';

export interface StreamOptions {
  pipeline: string;
  connectTimeout: number; // seconds
}

/** What travels back to the propagator: one JSON line. */
export type StreamResult = { ok: true; frames: number; rows: { pcoord: number[]; aux: Record<string, number[]> }[] } | { ok: false; error: string };

/** Exit status when the two sides landed on different nodes. */
export const EXIT_PLACEMENT = 4;

/** Seconds a stale-looking 'local' propagator record is given to be replaced by a live propagator. */
const STALE_LOCAL_GRACE_S = 10;

export async function stream(options: StreamOptions, log: Logger): Promise<number> {
  let key: SegmentKey;
  let pipeline;
  try {
    key = segmentKey();
    pipeline = loadPipeline(options.pipeline);
  } catch (e) {
    log.error((e as Error).message);
    return 2;
  }
  const since = Date.now();
  let connected = false;
  let frames$;
  try {
    frames$ = fromChannel({
      address: frameAddress(key),
      expectAtoms: pipeline.topology.natoms,
      onConnect: (info) => {
        connected = true;
        log.debug({ ...info }, 'engine connected');
      },
      onWarning: (w) => log.warn(w),
    });
  } catch (e) {
    log.error(`iteration ${key.iteration} segment ${key.segId}: ${(e as Error).message}`);
    return 2;
  }
  let stop: ((why: { message: string; status: number }) => void) | undefined;
  const stopped = new Promise<{ message: string; status: number }>((resolve) => (stop = resolve));

  // A signal (WESTPA or the batch system ending the run) removes this side's
  // record at once: a propagator must not find it and stream to a process
  // that is gone. A second signal ends the process without waiting. The
  // handler is in place before the record exists, so no signal can leave it.
  let withdraw: (() => void) | undefined;
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const status = exitStatus({ code: null, signal });
    withdraw?.();
    if (signalled) process.exit(status);
    signalled = signal;
    stop!({ message: `iteration ${key.iteration} segment ${key.segId}: received ${signal}, stopping`, status });
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    withdraw = announce(key, 'stream');
  } catch (e) {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    frames$.close();
    log.error(`iteration ${key.iteration} segment ${key.segId}: cannot leave this side's record under ${key.simRoot}/.westream: ${(e as Error).message}`);
    return 2;
  }
  log.info({ address: frames$.address, host: os.hostname() }, `iteration ${key.iteration} segment ${key.segId}: waiting for the engine`);

  // While no producer has connected, watch for a propagator on another node
  // (or one that chose to analyse locally) and for the connect time-out.
  // A 'local' record of a propagator that has exited and wrote it before this
  // side started may be a previous attempt's: trusted only when no live
  // propagator replaces it within a few seconds.
  const grace = Math.min(options.connectTimeout, STALE_LOCAL_GRACE_S) * 1000;
  const watch = setInterval(() => {
    if (connected) return;
    const other = peer(key, 'propagator', since);
    const waited = Date.now() - since;
    if (other && other.host !== os.hostname()) {
      consume(key, 'propagator');
      stop!({ message: placementError(key, other), status: EXIT_PLACEMENT });
    } else if (other?.mode === 'local' && (other.alive || other.at >= since)) {
      consume(key, 'propagator');
      stop!({ message: 'the propagator analysed this segment itself; nothing to stream', status: 0 });
    } else if (other?.mode === 'local' && waited >= grace) {
      consume(key, 'propagator');
      stop!({
        message: `the propagator of this segment (pid ${other.pid}) analysed it itself at ${new Date(other.at).toISOString()} and has exited; nothing to stream`,
        status: 0,
      });
    } else if (waited > options.connectTimeout * 1000) {
      stop!({ message: `no engine connected within ${options.connectTimeout} s (is runseg.sh using \`westream run --via-stream\`?)`, status: 3 });
    }
  }, 200);

  let result: StreamResult;
  try {
    const rows = lastValueFrom(
      frames$.pipe(pipeline.operator, toArray()),
    );
    const first = await Promise.race([rows.then((r) => ({ rows: r })), stopped.then((s) => ({ stop: s }))]);
    if ('stop' in first) {
      frames$.close();
      if (first.stop.status === 0 || signalled) log.warn(first.stop.message);
      else log.error(first.stop.message);
      return first.stop.status;
    }
    result = { ok: true, frames: first.rows.length, rows: first.rows.map(encodeRow) };
    log.info(`iteration ${key.iteration} segment ${key.segId}: analysed ${first.rows.length} frames`);
  } catch (e) {
    result = { ok: false, error: (e as Error).message };
    log.error(result.error);
  } finally {
    clearInterval(watch);
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    withdraw();
  }
  try {
    await sendResult(resultAddress(key), result);
  } catch (e) {
    log.error(`could not hand the result to the propagator at ${resultAddress(key)}: ${(e as Error).message}`);
    return 3;
  }
  return result.ok ? 0 : 3;
}

function encodeRow(r: PcoordRow): { pcoord: number[]; aux: Record<string, number[]> } {
  return { pcoord: Array.from(r.pcoord), aux: Object.fromEntries(Object.entries(r.aux).map(([k, v]) => [k, Array.from(v)])) };
}

/** Linux abstract socket names: "@name" → "\0name" for Node's net module. */
export const netPath = (address: string) => (address.startsWith('@') ? `\0${address.slice(1)}` : address);

function sendResult(address: string, result: StreamResult): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(netPath(address), () => socket.end(JSON.stringify(result) + '\n', () => resolve()));
    socket.once('error', reject);
  });
}
