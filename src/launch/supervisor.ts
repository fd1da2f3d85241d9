// The engine's supervisor: a small Node process between westream and the
// engine, started as `node supervisor.js CONFIG` with an IPC channel, either
// directly or as `unshare -rn node supervisor.js CONFIG` inside a private
// user + network namespace. It
//   - brings the namespace's loopback up (it starts down),
//   - starts the engine as its child, in its own process group (the group
//     westream signals), with the inherited stdout/stderr pipes, mapped back
//     to the caller's uid inside a nested user namespace when that is not root
//     (MPI launchers refuse to run as root),
//   - on request connects to the engine's IMD port *inside* the namespace and
//     hands the connected socket to westream over the IPC channel (SCM_RIGHTS
//     over a Unix socket): a socket keeps the namespace it was created in, so
//     westream reads the engine directly, with no relay and no port outside,
//   - stops the engine group when westream goes away (the IPC channel
//     closes), so no engine outlives westream, not even after a SIGKILL,
//   - exits with the engine's status (or dies of its signal).
// It never writes to stdout or stderr: those belong to the engine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface SupervisorConfig {
  command: string[];
  /** Running inside a fresh network namespace: bring lo up first. */
  netns: boolean;
  /** iproute2 `ip`, by absolute path. */
  ip?: string;
  /** Inside the namespace, run the engine as this uid/gid (nested user namespace). */
  mapUser?: { uid: number; gid: number };
}

/** Messages from the supervisor to westream. */
export type SupervisorMessage =
  | { type: 'started'; pid: number }
  | { type: 'fatal'; message: string }
  | { type: 'connected'; id: number }
  | { type: 'connect-error'; id: number; message: string };

/** Messages from westream to the supervisor. */
export type SupervisorRequest = { type: 'connect'; id: number; port: number };

const GRACE_MS = 5000;

function send(m: SupervisorMessage, handle?: net.Socket): void {
  if (process.connected) process.send!(m, handle as never);
}

function main(): void {
  const config = JSON.parse(process.argv[2] ?? '{}') as SupervisorConfig;
  if (!process.send || !Array.isArray(config.command) || config.command.length === 0) {
    process.exitCode = 125;
    return;
  }
  if (config.netns) {
    const r = spawnSync(config.ip ?? 'ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
    if (r.status !== 0) {
      send({ type: 'fatal', message: `cannot bring up loopback in the private network namespace: ${r.error?.message ?? r.stderr.trim()}` });
      process.disconnect();
      process.exitCode = 125;
      return;
    }
  }
  let argv = config.command;
  if (config.mapUser) {
    argv = ['unshare', '--user', `--map-user=${config.mapUser.uid}`, `--map-group=${config.mapUser.gid}`, '--', ...argv];
  }
  // The engine stays in our process group: westream signals the whole group.
  const child: ChildProcess = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
  let exited = false;
  child.once('error', (e) => {
    exited = true;
    send({ type: 'fatal', message: `cannot start ${config.command[0]}: ${e.message}` });
    process.disconnect();
    process.exitCode = 127;
  });
  child.once('spawn', () => send({ type: 'started', pid: child.pid! }));
  child.once('exit', (code, signal) => {
    exited = true;
    if (process.connected) process.disconnect();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      // Signals that do not end a process by default: fall back to 128+N.
      setTimeout(() => process.exit(128 + 1), 100);
    } else {
      process.exit(code ?? 1);
    }
  });
  // westream signals the whole group; the engine gets it too. Wait for it.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => {});

  process.on('message', (m: SupervisorRequest) => {
    if (m?.type !== 'connect') return;
    // Paused before connecting: no byte is read here; westream reads them all.
    const socket = new net.Socket();
    socket.pause();
    socket.once('error', (e) => send({ type: 'connect-error', id: m.id, message: e.message }));
    socket.connect({ host: '127.0.0.1', port: m.port }, () => send({ type: 'connected', id: m.id }, socket));
  });
  // westream is gone (exited, crashed, killed): stop the engine group.
  process.on('disconnect', () => {
    if (exited) return;
    try {
      process.kill(-process.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    setTimeout(() => {
      try {
        process.kill(-process.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, GRACE_MS).unref();
  });
}

main();
