// Can this machine give an engine a private network namespace without
// privileges? Needs util-linux `unshare` with unprivileged user namespaces
// (kernel.unprivileged_userns_clone, user.max_user_namespaces, no AppArmor
// restriction) and iproute2 `ip` to bring the namespace's loopback up.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface NetnsSupport {
  available: boolean;
  /** Why not, when not. */
  reason?: string;
  /** Absolute path of iproute2 `ip` (often in /usr/sbin, outside a user's PATH). */
  ip?: string;
}

/** iproute2 `ip`: from PATH, else the sbin directories. */
export function findIp(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = path.join(d, 'ip');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

let cached: NetnsSupport | undefined;

/** Probes once per process (a few milliseconds): `unshare -rn ip link set lo up`. */
export function netnsSupport(): NetnsSupport {
  if (cached) return cached;
  if (process.env.WESTREAM_IMD_NO_NETNS === '1') {
    cached = { available: false, reason: 'WESTREAM_IMD_NO_NETNS=1 is set' };
    return cached;
  }
  const ip = findIp();
  if (!ip) {
    cached = { available: false, reason: 'iproute2 `ip` is not installed (needed to bring up the namespace loopback)' };
    return cached;
  }
  const r = spawnSync('unshare', ['-rn', ip, 'link', 'set', 'lo', 'up'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    cached = { available: false, reason: e.code === 'ENOENT' ? 'util-linux `unshare` is not installed' : `unshare: ${e.message}` };
  } else if (r.status !== 0) {
    const msg = (r.stderr || r.stdout).trim().split('\n').pop() ?? `exit status ${r.status}`;
    cached = {
      available: false,
      reason: /failed to execute ip|No such file/.test(msg)
        ? 'iproute2 `ip` is not installed (needed to bring up the namespace loopback)'
        : `unprivileged user and network namespaces are not available (${msg})`,
    };
  } else {
    cached = { available: true, ip };
  }
  return cached;
}
