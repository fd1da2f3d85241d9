#!/usr/bin/env node
// One westream measurement for bench/imd/run.mjs (a fresh process each time).
//
//   --mode imd     launch `gmx mdrun` with westream's launcher (--isolation
//                  netns|port0) and read it with fromImd
//   --mode replay  read a replayed IMD stream from 127.0.0.1:--port
//   --mode replay-netns  start the replay server (--server, --frame, --frames)
//                  in a private network namespace and read it through a socket
//                  handed over from there (the default path for engines)
//   --mode xtc     `gmx mdrun -x FIFO` into a named pipe, read with fromTrajectory
//
// The pipeline computes one progress coordinate per frame (the minimum-image
// distance of the first two water oxygens, atoms 0 and 3), and writes the pcoord file
// when the stream ends. Prints one line: RESULT {json} with CLOCK_MONOTONIC
// timestamps in ns (process.hrtime), so the driver can relate them to the
// moment it spawned this process.
const tStart = process.hrtime.bigint();
const now = () => process.hrtime.bigint();

const { execFileSync, spawn } = await import('node:child_process');
const fs = await import('node:fs');
const path = await import('node:path');
const { lastValueFrom, tap, ignoreElements } = await import('rxjs');
const dist = new URL('../../dist/', import.meta.url);
const { ImdLaunch } = await import(new URL('launch/index.js', dist));
const { fromImd } = await import(new URL('sources/imd/index.js', dist));
const { fromTrajectory } = await import(new URL('index.js', dist));
const tImported = now();

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const mode = arg('mode');
const workdir = arg('workdir', process.cwd());
const out = arg('out');
const name = arg('name', 'wsrun');
const box = Number(arg('box', '0')); // cubic box edge, Å (0: no minimum image)

const pcoords = [];
let frames = 0;
let tFirst;
let tLast;
let tEngineStart;
let tReady;
let tEngineExit;
let natoms = 0;
const dumpFrame = arg('dump-frame');
const onFrame = (f) => {
  if (frames === 0) {
    tFirst = now();
    if (dumpFrame) fs.writeFileSync(dumpFrame, Buffer.from(f.positions.buffer, f.positions.byteOffset, f.positions.byteLength));
  }
  natoms = f.natoms;
  const p = f.positions;
  // minimum image in the cubic box (IMD v2 sends no box; XTC wraps differently)
  const mi = (d) => (box > 0 ? d - box * Math.round(d / box) : d);
  const dx = mi(p[0] - p[9]);
  const dy = mi(p[1] - p[10]);
  const dz = mi(p[2] - p[11]);
  pcoords.push(Math.sqrt(dx * dx + dy * dy + dz * dz));
  frames++;
  tLast = now();
};

let engineExit;
if (mode === 'imd') {
  const launch = new ImdLaunch({
    engine: 'gromacs',
    isolation: arg('isolation', 'auto'),
    cwd: workdir,
    command: ['gmx', 'mdrun', '-s', arg('tpr'), '-nt', '1', '-deffnm', name],
    output: () => {},
  });
  tEngineStart = now();
  await launch.start();
  tReady = now();
  engineExit = launch.exited.then((e) => {
    tEngineExit = now();
    return e;
  });
  await lastValueFrom(fromImd({ connect: () => launch.connect(), engine: 'gromacs', reconnects: 3 }).pipe(tap(onFrame), ignoreElements()), { defaultValue: undefined });
} else if (mode === 'replay-netns') {
  // The replay server runs inside a private network namespace under westream's
  // supervisor; the socket is made there and handed over, as for a netns engine.
  const { SupervisedEngine } = await import(new URL('launch/supervised.js', dist));
  const eng = new SupervisedEngine({ command: [process.execPath, arg('server'), '--frame', arg('frame'), '--frames', arg('frames')], netns: true });
  let text = '';
  const port = await new Promise((resolve, reject) => {
    eng.stdout.on('data', (d) => {
      text += d;
      const m = /LISTENING (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    eng.exited.then(() => reject(new Error(`replay server exited: ${text}`)));
  });
  tEngineStart = tReady = now();
  await lastValueFrom(fromImd({ connect: () => eng.connect(port), engine: 'gromacs' }).pipe(tap(onFrame), ignoreElements()), { defaultValue: undefined });
  engineExit = eng.exited;
} else if (mode === 'replay') {
  tEngineStart = tReady = now();
  await lastValueFrom(fromImd({ connect: { host: '127.0.0.1', port: Number(arg('port')) }, engine: 'gromacs' }).pipe(tap(onFrame), ignoreElements()), {
    defaultValue: undefined,
  });
} else if (mode === 'xtc') {
  const dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : workdir, 'westream-bench-'));
  const fifo = path.join(dir, 'traj.xtc');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  tEngineStart = now();
  const gmx = spawn('gmx', ['mdrun', '-s', arg('tpr'), '-nt', '1', '-deffnm', name, '-x', fifo], {
    cwd: workdir,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, GMX_MAXBACKUP: '-1' },
  });
  engineExit = new Promise((resolve) =>
    gmx.once('exit', (code, signal) => {
      tEngineExit = now();
      resolve({ code, signal });
    }),
  );
  tReady = now();
  await lastValueFrom(fromTrajectory(fifo, { format: 'xtc', follow: true, until: engineExit, fifoReadWrite: true }).pipe(tap(onFrame), ignoreElements()), {
    defaultValue: undefined,
  });
  fs.rmSync(dir, { recursive: true, force: true });
} else {
  throw new Error(`unknown --mode ${mode}`);
}
fs.writeFileSync(out, pcoords.map((d) => d.toFixed(6)).join('\n') + '\n');
const tWritten = now();
const exit = engineExit ? await engineExit : { code: 0 };
const usage = process.resourceUsage();
const ns = (t) => (t === undefined ? null : t.toString());
process.stdout.write(
  'RESULT ' +
    JSON.stringify({
      client: 'westream',
      mode,
      frames,
      natoms,
      exit,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      maxRssMiB: usage.maxRSS / 1024,
      t: {
        start: ns(tStart),
        imported: ns(tImported),
        engineStart: ns(tEngineStart),
        ready: ns(tReady),
        first: ns(tFirst),
        last: ns(tLast),
        engineExit: ns(tEngineExit),
        written: ns(tWritten),
      },
    }) +
    '\n',
);
