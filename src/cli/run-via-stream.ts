// `westream run --via-stream`: the propagator side of the stream_trajectory
// mode. The engine streams to the `westream stream` process of the same
// segment; its rows come back here and become WEST_PCOORD_RETURN. When that
// process is missing or on another node, the segment is analysed locally.
import net from 'node:net';
import os from 'node:os';

import { discardSegmentResult, writeSegmentResult } from '../westpa/segment-result.js';
import { abstractListening, announce, frameAddress, peer, placementError, pruneOldRecords, resultAddress, segmentKey, type PeerRecord, type SegmentKey } from '../westpa/rendezvous.js';
import { EngineProcess, STOP_SIGNALS, describeExit, exitStatus } from '../core/process-group.js';
import { startWatchdog } from '../core/watchdog.js';
import type { Logger } from './logger.js';
import { SignalForwarder } from './signals.js';
import { planSegment, type SegmentPlan } from './segment-output.js';
import { EXIT_STREAM_FAILED } from './run-outcome.js';
import { run, type RunOptions } from './run.js';
import { netPath, type StreamResult } from './stream.js';

export interface ViaStreamOptions extends RunOptions {
  /** Seconds to wait for the stream side to announce itself. */
  streamWait: number;
}

// Unref'd: a pending wait must never keep the process alive.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The stream side's record, unless it is on this node and its process is gone
 * (a `westream stream` killed before it could remove its record).
 */
function liveStreamSide(key: SegmentKey, since: number): PeerRecord | undefined {
  const r = peer(key, 'stream', since);
  return r && r.alive !== false ? r : undefined;
}

export async function runViaStream(command: string[], options: ViaStreamOptions, log: Logger): Promise<number> {
  let plan: SegmentPlan;
  let key;
  try {
    key = segmentKey();
    plan = planSegment(options, log);
  } catch (e) {
    log.error((e as Error).message);
    return 2;
  }
  const since = Date.now();
  let withdraw: () => void;
  try {
    withdraw = announce(key, 'propagator', 'stream');
  } catch (e) {
    log.error(`iteration ${key.iteration} segment ${key.segId}: cannot leave this side's record under ${key.simRoot}/.westream: ${(e as Error).message}`);
    return 2;
  }

  // Listen for the result before anything can produce it.
  const server = net.createServer();
  const result = new Promise<StreamResult>((resolve) => {
    server.on('connection', (socket) => {
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d) => (text += d));
      socket.on('end', () => {
        try {
          resolve(JSON.parse(text) as StreamResult);
        } catch {
          resolve({ ok: false, error: `the stream side sent an unreadable result (${text.length} bytes)` });
        }
      });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(netPath(resultAddress(key)), resolve);
    });
  } catch (e) {
    withdraw();
    log.error(`cannot listen for the stream side's result at ${resultAddress(key)}: ${(e as Error).message}`);
    return 2;
  }

  // A signal while waiting: withdraw and stop (the engine has not started).
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => (signalled = signal);
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  let other: PeerRecord | undefined;
  try {
    other = liveStreamSide(key, since);
    while (!other && !signalled && Date.now() - since < options.streamWait * 1000) {
      await sleep(50);
      other = liveStreamSide(key, since);
    }
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
  if (signalled) {
    server.close();
    withdraw();
    discardSegmentResult(plan.env, plan.aux);
    log.error(`received ${signalled} while waiting for the stream side; ${command[0]} was not started`);
    return exitStatus({ code: null, signal: signalled });
  }
  // Its record says it is here and alive; make sure it still listens (it may
  // have died since, or the pid been reused), or the engine would fail to connect.
  let gone: string | undefined;
  if (other && other.host === os.hostname() && abstractListening(frameAddress(key)) === false) {
    gone = `the stream side's record names pid ${other.pid}, but nothing listens at ${frameAddress(key)}`;
  }
  if (!other || other.host !== os.hostname() || gone) {
    // Fall back: analyse here, exactly as plain `westream run` would. The
    // 'local' record stays, so a stream side that comes late (or runs on
    // another node) learns it and stops; it removes the record when read.
    log.warn(
      (gone ?? (other ? placementError(key, other) : `no stream_trajectory process announced itself within ${options.streamWait} s`)) +
        '; analysing this segment locally',
    );
    server.close();
    announce(key, 'propagator', 'local');
    pruneOldRecords(key);
    return await run(command, options, log);
  }

  log.info(`iteration ${key.iteration} segment ${key.segId}: streaming to westream stream (pid ${other.pid})`);
  const engine = new EngineProcess(command[0], command.slice(1), { ...process.env, WESTREAM_ADDRESS: frameAddress(key) });
  const signals = new SignalForwarder(command[0], log, () => engine.stop(options.killGrace * 1000));
  const watchdog = startWatchdog(engine.pid, options.killGrace * 1000, []); // no engine outlives a killed westream
  try {
    let exit;
    try {
      exit = await engine.exited;
    } catch (e) {
      log.error(`cannot start ${command[0]}: ${(e as Error).message}`);
      discardSegmentResult(plan.env, plan.aux);
      return 127;
    }
    if (signals.received || exit.code !== 0) {
      discardSegmentResult(plan.env, plan.aux);
      log.error(`${command[0]} failed with ${describeExit(exit)}`);
      return exitStatus(exit) || 1;
    }
    // The stream side answers as soon as the stream ends; allow for a slow pipeline.
    const answer = await Promise.race([result, sleep(60_000).then(() => undefined)]);
    if (!answer || !answer.ok) {
      discardSegmentResult(plan.env, plan.aux);
      log.error(answer ? `stream side: ${answer.error}` : 'the stream side sent no result within 60 s after the engine exited');
      return EXIT_STREAM_FAILED;
    }
    const rows = answer.rows.map((r, index) => ({
      index,
      pcoord: Float64Array.from(r.pcoord),
      aux: Object.fromEntries(Object.entries(r.aux).map(([k, v]) => [k, Float64Array.from(v)])),
    }));
    try {
      writeSegmentResult(plan.env, plan.shape, rows, plan.aux);
    } catch (e) {
      log.error((e as Error).message);
      return EXIT_STREAM_FAILED;
    }
    log.info({ frames: answer.frames }, `iteration ${key.iteration} segment ${key.segId}: wrote ${rows.length} pcoord rows from the stream side`);
    return 0;
  } finally {
    signals.dispose();
    watchdog?.done();
    server.close();
    withdraw();
  }
}
