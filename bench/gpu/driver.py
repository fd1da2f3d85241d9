"""GPU benchmark: OpenMM ns/day with no output, with westream streaming, and
with a DCD, on the CUDA platform (bench/gpu/run.sh runs this).

    python driver.py all  [--platform CUDA] [--atoms-scale full|small] [--steps N] [--rounds R] [--out FILE] [--property K=V ...]
    python driver.py build OUTDIR [--atoms-scale full|small] [--platform P]
    python driver.py run OUTDIR --mode none|state|westream|force|dcd [--steps N] [--interval 100] [--platform P] [--property K=V ...]

--build-platform minimises on another platform than the timed runs (pocl's
OpenCL crashes in OpenMM's minimiser: --platform OpenCL --build-platform CPU).
--property sets an OpenMM platform property for every timed run (on top of
Precision=mixed), e.g. --property UseBlockingSync=false (CUDA: the host spins
instead of sleeping while it waits for the GPU).

`all` builds a solvated system (Na+/Cl- at 0.15 M in TIP3P, Amber14, PME,
HBonds; ~25k atoms for `full`, ~1.5k for `small`) with Modeller and OpenMM's
bundled force fields (no downloads), minimises it once, then runs R rounds of
the modes interleaved, each mode in a fresh process:

  none      simulation.step(N), no reporters
  westream  `westream run --pipeline PIPELINE.yaml -- python driver.py run ...`:
            StreamReporter every --interval steps; the pipeline (Na-Cl
            distance, minimum image) runs in westream's Node process
  force     the same under `westream run`, but with westream.openmm.StreamForce
            instead of a reporter: a Force in the Context that queues a
            non-blocking download every --interval steps, so the GPU never
            waits for the host (falls back to nothing if westream._openmm
            was not built on this node: said, and the mode is left out)
  dcd       DCDReporter every --interval steps
  state     a reporter that asks OpenMM for the positions every --interval
            steps and does nothing with them: the floor any reporter pays
            (getState synchronises with the GPU and copies the positions)

Each engine process warms up (context creation, kernels compiled, 1000 steps),
synchronises with getState(), then times N steps up to a final getState();
ns/day = N × 2 fs / that time. Prints medians, [min–max] and ratios against
no output (goal: westream ≥ 0.99×, met by either westream mode). CUDA runs write
bench/results/gpu.json (or --out); other platforms write only with --out (CPU
runs test this script's logic; pocl's OpenCL measures the engine thread's side).
"""
import argparse
import json
import os
import platform as pyplatform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DT_PS = 0.002
MODES = ["none", "state", "westream", "force", "dcd"]
STREAMED = ("westream", "force")  # modes run under `westream run`
SCALES = {"full": 6.35, "small": 2.5}  # cubic box edge (nm): ~25k / ~1.5k atoms


def die(msg, code=2):
    print(f"bench/gpu: {msg}", file=sys.stderr)
    sys.exit(code)


def import_openmm():
    try:
        import openmm
        from openmm import app, unit
    except ImportError as e:
        die(f"cannot import openmm ({e}): install OpenMM with CUDA support (pip install 'openmm[cuda12]' or conda-forge openmm) "
            "into the Python that run.sh uses (WESTREAM_PYTHON, else .venv/bin/python, else python3)")
    return openmm, app, unit


def get_platform(name):
    openmm, _, _ = import_openmm()
    names = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    if name not in names:
        errors = "; ".join(openmm.Platform.getPluginLoadFailures()) or "none reported"
        die(f"OpenMM platform {name!r} is not available (platforms: {', '.join(names)}; plugin load failures: {errors}). "
            + ("This benchmark needs an NVIDIA GPU with a CUDA-enabled OpenMM build; test the script's logic with "
               "--platform CPU --atoms-scale small." if name == "CUDA" else ""))
    return openmm.Platform.getPlatformByName(name)


def platform_properties(name, extra=()):
    props = {"Precision": "mixed"} if name in ("CUDA", "OpenCL") else {}
    for kv in extra:
        key, sep, value = kv.partition("=")
        if not sep:
            die(f"--property takes KEY=VALUE (got {kv!r})")
        props[key] = value
    return props


def build(outdir, scale, platform_name):
    openmm, app, unit = import_openmm()
    box = SCALES[scale]
    top = app.Topology()
    chain = top.addChain()
    for name, element in (("NA", "Na"), ("CL", "Cl")):
        residue = top.addResidue(name, chain)
        top.addAtom(name, app.Element.getBySymbol(element), residue)
    positions = [openmm.Vec3(0.0, 0.0, 0.0), openmm.Vec3(0.5, 0.0, 0.0)] * unit.nanometer
    ff = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    modeller = app.Modeller(top, positions)
    modeller.addSolvent(ff, model="tip3p", boxSize=openmm.Vec3(box, box, box) * unit.nanometer,
                        ionicStrength=0.15 * unit.molar)
    system = ff.createSystem(modeller.topology, nonbondedMethod=app.PME, nonbondedCutoff=1.0 * unit.nanometer,
                             constraints=app.HBonds)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, DT_PS * unit.picoseconds)
    sim = app.Simulation(modeller.topology, system, integrator, get_platform(platform_name),
                         platform_properties(platform_name))
    sim.context.setPositions(modeller.positions)
    sim.minimizeEnergy(maxIterations=200)
    sim.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
    state = sim.context.getState(getPositions=True, getVelocities=True, enforcePeriodicBox=True)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "system.xml"), "w") as f:
        f.write(openmm.XmlSerializer.serialize(system))
    with open(os.path.join(outdir, "state.xml"), "w") as f:
        f.write(openmm.XmlSerializer.serialize(state))
    with open(os.path.join(outdir, "top.pdb"), "w") as f:
        app.PDBFile.writeFile(modeller.topology, state.getPositions(), f)
    with open(os.path.join(outdir, "pipeline.yaml"), "w") as f:
        f.write("# bench/gpu: a light pcoord so the stream is analysed, not just counted\n"
                "topology: top.pdb\npcoord:\n  - distance: {a: index 0, b: index 1}\n")
    return system.getNumParticles()


def run(outdir, mode, steps, interval, platform_name, properties=(), warmup=1000):
    openmm, app, unit = import_openmm()
    with open(os.path.join(outdir, "system.xml")) as f:
        system = openmm.XmlSerializer.deserialize(f.read())
    pdb = app.PDBFile(os.path.join(outdir, "top.pdb"))
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, DT_PS * unit.picoseconds)
    integrator.setRandomNumberSeed(1)
    if mode in STREAMED and not os.environ.get("WESTREAM_ADDRESS"):
        die(f"--mode {mode} must run under `westream run` (WESTREAM_ADDRESS is not set)")
    force = None
    if mode == "force":
        from westream.openmm import StreamForce
        force = StreamForce(system, interval)  # before the Context exists
    sim = app.Simulation(pdb.topology, system, integrator, get_platform(platform_name),
                         platform_properties(platform_name, properties))
    sim.loadState(os.path.join(outdir, "state.xml"))
    reporter = None
    report_seconds = [0.0]
    if mode == "westream":
        from westream.openmm import StreamReporter
        reporter = StreamReporter(interval, enforcePeriodicBox=True)
        sim.reporters.append(TimedReporter(reporter, report_seconds))
    elif mode == "state":
        sim.reporters.append(TimedReporter(StateOnlyReporter(interval), report_seconds))
    elif mode == "dcd":
        dcd = os.path.join(outdir, f"out-{os.getpid()}.dcd")
        sim.reporters.append(app.DCDReporter(dcd, interval, enforcePeriodicBox=True))
    sim.step(warmup)  # kernels compiled, reporters opened, the first frames sent
    sim.context.getState(getEnergy=True)  # synchronise
    report_seconds[0] = 0.0  # count the timed steps only (the first report also connects)
    force_seconds = force.engine_seconds(sim) if force is not None else 0.0
    t0 = time.perf_counter()
    sim.step(steps)
    sim.context.getState(getEnergy=True)
    dt = time.perf_counter() - t0
    if reporter is not None:
        reporter.end()
        reporter.close()
    if force is not None:
        # The engine thread's time per frame, as report() is timed for the reporters.
        report_seconds[0] = force.engine_seconds(sim) - force_seconds
        force.finish(sim)
    if mode == "dcd":
        size = os.path.getsize(dcd)
        os.remove(dcd)
    else:
        size = None
    ns_per_day = steps * DT_PS / 1000 / dt * 86400
    print(json.dumps({"mode": mode, "steps": steps, "interval": interval, "seconds": dt, "nsPerDay": ns_per_day,
                      "atoms": system.getNumParticles(), "dcdBytes": size,
                      "reportMsPerFrame": 1000 * report_seconds[0] / (steps // interval)}), flush=True)


class StateOnlyReporter:
    """Asks for the positions like StreamReporter does and drops them."""

    def __init__(self, interval):
        self._interval = interval

    def describeNextReport(self, simulation):
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": True, "include": ["positions"]}

    def report(self, simulation, state):
        state.getPositions(asNumpy=True)


class TimedReporter:
    """Adds the time spent in the wrapped reporter's report() to total[0]."""

    def __init__(self, inner, total):
        self._inner, self._total = inner, total

    def describeNextReport(self, simulation):
        return self._inner.describeNextReport(simulation)

    def report(self, simulation, state):
        t = time.perf_counter()
        self._inner.report(simulation, state)
        self._total[0] += time.perf_counter() - t


def find_node():
    node = shutil.which("node")
    if not node:
        die("node (>= 20) not found on PATH: westream's CLI needs it")
    cli = os.path.join(ROOT, "bin", "westream.cjs")
    for f in (cli, os.path.join(ROOT, "dist", "bundle", "westream.cjs"), os.path.join(ROOT, "build", "Release", "westream.node")):
        if not os.path.exists(f):
            die(f"missing {os.path.relpath(f, ROOT)}: run `npm ci` (builds the addon and dist/) in {ROOT} first")
    return node, cli


def gpu_info():
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def all_modes(args):
    openmm, _, _ = import_openmm()
    get_platform(args.platform)  # clear error before anything else
    try:
        import westream.openmm  # noqa: F401
    except ImportError as e:
        die(f"cannot import westream's Python package ({e}): pip install {os.path.join(ROOT, 'python')} (or its wheel) into {sys.executable}")
    node, cli = find_node()
    modes = list(MODES)
    try:
        from westream.openmm import _openmm_module
        _openmm_module()  # built, and for this OpenMM
    except ImportError as e:
        print(f"NOTE: westream._openmm is not built for {sys.executable} ({e}); the `force` mode is left out. "
              f"Build it with: pip install --no-build-isolation {os.path.join(ROOT, 'python')} (needs g++ and OpenMM)",
              flush=True)
        modes.remove("force")
    work = tempfile.mkdtemp(prefix="westream-gpu-")
    try:
        t = time.time()
        natoms = build(work, args.atoms_scale, args.build_platform or args.platform)
        print(f"built {natoms} atoms (box {SCALES[args.atoms_scale]} nm, PME, HBonds, 2 fs) in {time.time() - t:.1f} s; "
              f"platform {args.platform}; {args.steps} timed steps per run, output every {args.interval} steps, "
              f"{args.rounds} rounds; platform properties {platform_properties(args.platform, args.property)}", flush=True)
        results = {m: [] for m in modes}
        report_ms = {m: [] for m in modes}
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for mode in order:
                cmd = [sys.executable, os.path.abspath(__file__), "run", work, "--mode", mode, "--steps", str(args.steps),
                       "--interval", str(args.interval), "--platform", args.platform]
                cmd += [f"--property={kv}" for kv in args.property]
                if mode in STREAMED:
                    cmd = [node, cli, "run", "--pipeline", os.path.join(work, "pipeline.yaml"), "--"] + cmd
                p = subprocess.run(cmd, capture_output=True, text=True)
                lines = [l for l in p.stdout.splitlines() if l.startswith('{"mode"')]
                if p.returncode != 0 or not lines:
                    die(f"{mode} run failed (exit {p.returncode}):\n{p.stderr[-3000:]}", 1)
                res = json.loads(lines[-1])
                if mode in STREAMED:
                    # The pipeline's rows (numbers); the engine shares stdout (pocl prints compiler notes there).
                    rows = [l for l in p.stdout.splitlines() if re.fullmatch(r"\s*-?[\d.]+(?:[eE][-+]?\d+)?(?:\s+-?[\d.]+(?:[eE][-+]?\d+)?)*\s*", l)]
                    res["pipelineRows"] = len(rows)
                    # StreamForce also sends step 0 (a WESTPA segment's row 0).
                    expect = (1000 + args.steps) // args.interval + (mode == "force")
                    if len(rows) != expect:
                        die(f"westream run ({mode}) analysed {len(rows)} frames, expected {expect}", 1)
                results[mode].append(res["nsPerDay"])
                report_ms[mode].append(res["reportMsPerFrame"])
                print(f"  round {r}: {mode:8s} {res['nsPerDay']:10.1f} ns/day"
                      + (f"  ({res['reportMsPerFrame']:.3f} ms per frame {'capturing on OpenMM' + chr(39) + 's thread' if mode == 'force' else 'in report()'})"
                         if mode in ("state", "westream", "force") else ""),
                      flush=True)
        med = {m: statistics.median(v) for m, v in results.items()}
        ratios = {m + "/none": med[m] / med["none"] for m in modes if m != "none"}
        ratios["westream/state"] = med["westream"] / med["state"]
        print(f"\n{natoms} atoms on {args.platform}, output every {args.interval} steps, median [min-max] of {args.rounds}:")
        for m in modes:
            print(f"  {m:8s} {med[m]:10.1f} ns/day [{min(results[m]):.1f}-{max(results[m]):.1f}]")
        best = max((m for m in STREAMED if m in modes), key=lambda m: ratios[m + "/none"])
        goal = ratios[best + "/none"] >= 0.99
        if "force" in modes:
            print(f"  StreamForce (force) / no output = {ratios['force/none']:.3f}x; "
                  f"StreamForce / StreamReporter = {med['force'] / med['westream']:.3f}x")
        print(f"  goal westream >= 0.99x no output: {'met' if goal else 'NOT met'} (best: {best}, "
              f"{ratios[best + '/none']:.3f}x)")
        print(f"  westream (StreamReporter) / no output = {ratios['westream/none']:.3f}x; "
              f"positions only (the floor of any reporter) / no output = {ratios['state/none']:.3f}x; "
              f"westream / positions only = {ratios['westream/state']:.3f}x; DCD / no output = {ratios['dcd/none']:.3f}x")
        if args.platform != "CUDA" and not args.out:
            print(f"({args.platform} platform: a test of the script's logic; nothing written, and these numbers are not results)")
            return
        out = args.out or os.path.join(ROOT, "bench", "results", "gpu.json")
        json.dump({
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"gpu": gpu_info(), "node": pyplatform.node(), "cpu": pyplatform.processor() or pyplatform.machine(),
                        "cores": os.cpu_count(), "python": pyplatform.python_version(), "openmm": openmm.__version__,
                        "nodejs": subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip(),
                        "platform": args.platform, "precision": "mixed",
                        "platformProperties": platform_properties(args.platform, args.property)},
            "atoms": natoms, "steps": args.steps, "interval": args.interval, "rounds": args.rounds,
            "nsPerDay": {m: {"median": med[m], "min": min(v), "max": max(v), "values": v} for m, v in results.items()},
            "reportMsPerFrame": {m: statistics.median(v) for m, v in report_ms.items() if m in ("state", "westream", "force")},
            "ratios": ratios, "goal": {"westream/none": 0.99, "met": goal, "best": best},
        }, open(out, "w"), indent=2)
        print(f"wrote {os.path.relpath(out, ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("all")
    a.add_argument("--platform", default="CUDA")
    a.add_argument("--atoms-scale", choices=sorted(SCALES), default="full")
    a.add_argument("--steps", type=int, default=50000)
    a.add_argument("--interval", type=int, default=100)
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--out", help="results file (default bench/results/gpu.json; other platforms than CUDA write only with --out)")
    a.add_argument("--build-platform", help="platform that minimises the built system (default: --platform)")
    a.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
    b = sub.add_parser("build")
    b.add_argument("outdir")
    b.add_argument("--atoms-scale", choices=sorted(SCALES), default="full")
    b.add_argument("--platform", default="CUDA")
    r = sub.add_parser("run")
    r.add_argument("outdir")
    r.add_argument("--mode", choices=MODES, required=True)
    r.add_argument("--steps", type=int, default=50000)
    r.add_argument("--interval", type=int, default=100)
    r.add_argument("--platform", default="CUDA")
    r.add_argument("--property", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    if args.cmd == "all":
        all_modes(args)
    elif args.cmd == "build":
        print(build(args.outdir, args.atoms_scale, args.platform))
    else:
        run(args.outdir, args.mode, args.steps, args.interval, args.platform, args.property)


if __name__ == "__main__":
    main()
