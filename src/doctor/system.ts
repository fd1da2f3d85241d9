// What the channel and the trajectory sources need from this machine and Node.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { frameChecksum } from '../core/checksum.js';
import { buildDir, native } from '../core/native.js';
import { netnsSupport } from '../launch/netns.js';
import type { CheckResult } from './check.js';
import { roundTrip } from './channel.js';

const BUILD_HINT = 'build it in the westream folder: `npm ci` (or `npm run build`)';

export function nodeCheck(): CheckResult {
  const major = Number(process.versions.node.split('.')[0]);
  const detail = `Node ${process.version} on ${process.platform} ${process.arch}`;
  if (process.platform !== 'linux') return { name: 'node', status: 'fail', detail, hint: 'westream needs Linux (memfd, eventfd, abstract sockets)' };
  if (major < 20) return { name: 'node', status: 'fail', detail, hint: 'westream needs Node.js 20 or later' };
  return { name: 'node', status: 'ok', detail, data: { version: process.version } };
}

export function addonCheck(): CheckResult {
  try {
    const addon = native();
    const file = process.env.WESTREAM_ADDON || path.join(buildDir, 'westream.node');
    return { name: 'addon', status: 'ok', detail: `${file} (wire protocol ${addon.protocolVersion})`, data: { file, protocol: addon.protocolVersion } };
  } catch (e) {
    return { name: 'addon', status: 'fail', detail: (e as Error).message.split('\n')[0], hint: BUILD_HINT };
  }
}

/** westream-synthetic → channel → here, every frame checked bit for bit against the checksums it wrote. */
export async function channelCheck(abstract: boolean, natoms: number, nframes: number): Promise<CheckResult> {
  const name = abstract ? 'channel @abstract' : 'channel';
  const producer = path.join(buildDir, 'westream-synthetic');
  if (!fs.existsSync(producer)) return { name, status: 'fail', detail: `${producer} is missing`, hint: BUILD_HINT };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'westream-doctor-'));
  const sums = path.join(dir, 'checksums');
  const got: number[] = [];
  try {
    const r = await roundTrip(producer, ['--atoms', String(natoms), '--frames', String(nframes), '--checksums', sums], (f) => void got.push(frameChecksum(f)), { abstract });
    const want = fs.readFileSync(sums, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]));
    const bad = want.findIndex((w, k) => got[k] !== w);
    if (r.frames !== nframes || bad >= 0) {
      return { name, status: 'fail', detail: bad >= 0 ? `frame ${bad} arrived changed (checksum mismatch)` : `${r.frames} of ${nframes} frames arrived`, hint: 'report this: the shared-memory channel corrupted or lost frames' };
    }
    const mb = (nframes * natoms * 12) / 1e6;
    return {
      name,
      status: 'ok',
      detail: `${nframes} frames of ${natoms} atoms from westream-synthetic, bit-exact, in ${r.ms.toFixed(0)} ms (start-up included)`,
      data: { frames: nframes, natoms, ms: +r.ms.toFixed(1), megabytes: +mb.toFixed(1) },
    };
  } catch (e) {
    return {
      name,
      status: 'fail',
      detail: (e as Error).message,
      hint: abstract ? 'abstract sockets may be blocked in this network namespace: use path sockets (the default)' : 'check that the temporary directory allows Unix sockets and that memfd_create is not blocked (seccomp)',
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** /dev/shm: where `run --trajectory` puts the file the engine writes. */
export function tmpfsCheck(): CheckResult {
  const name = 'tmpfs';
  const hint = '`westream run --trajectory` then writes to the temporary directory; give --tmpfs-dir DIR (a tmpfs) or --transport fifo';
  const mount = fs.existsSync('/proc/mounts')
    ? fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[1] === '/dev/shm')
    : undefined;
  if (!mount) return { name, status: 'warn', detail: '/dev/shm is not mounted', hint };
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    return { name, status: 'warn', detail: '/dev/shm is not writable', hint };
  }
  const st = fs.statfsSync('/dev/shm');
  const free = (st.bavail * st.bsize) / 2 ** 30;
  if (mount[2] !== 'tmpfs') return { name, status: 'warn', detail: `/dev/shm is ${mount[2]}, not tmpfs`, hint };
  return { name, status: 'ok', detail: `/dev/shm: tmpfs, ${free.toFixed(1)} GiB free`, data: { freeGiB: +free.toFixed(2) } };
}

/** Named pipes: `run --trajectory … --transport fifo`. */
export function fifoCheck(): CheckResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'westream-doctor-'));
  try {
    (native() as unknown as { mkfifo(p: string, mode: number): void }).mkfifo(path.join(dir, 'pipe'), 0o600);
    return { name: 'fifo', status: 'ok', detail: `named pipes work in ${os.tmpdir()}` };
  } catch (e) {
    return { name: 'fifo', status: 'warn', detail: (e as Error).message, hint: 'use --transport tmpfs (the default) for `run --trajectory`' };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Private network namespaces: the race-free IMD launch (`run --imd`). */
export function netnsCheck(): CheckResult {
  const s = netnsSupport();
  if (s.available) return { name: 'netns', status: 'ok', detail: 'unprivileged network namespaces: IMD engines get a private loopback (--imd-isolation netns)' };
  return { name: 'netns', status: 'warn', detail: s.reason ?? 'not available', hint: 'IMD launches fall back to port0 (GROMACS) or probe (LAMMPS, NAMD) isolation' };
}
