"""The peers of `npm run bench:formats`, and its test files.

  peers.py make DIR GRO       writes the benchmark trajectories into DIR from
                              the water box GRO (see run.mjs), with MDAnalysis'
                              writers (XTC, TRR, DCD, AMBER NetCDF)
  peers.py time LIB FILE NATOMS REPS
                              decodes FILE with LIB (mdanalysis or mdtraj) REPS
                              times; prints {"frames", "seconds"} of the fastest
  peers.py write FILE OUT PERIOD_MS N
                              latency writer: appends the first N XTC frames of FILE to
                              OUT one write() per frame, PERIOD_MS apart, and
                              prints the CLOCK_MONOTONIC ns taken just before
                              each write
"""
import json
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402


def make(outdir, gro, big_gro):
    import MDAnalysis as mda

    rng = np.random.default_rng(3)
    plan = [
        (gro, "xtc3k.xtc", "XTC", 2000),
        (big_gro, "xtc100k.xtc", "XTC", 100),
        (gro, "trr3k.trr", "TRR", 600),
        (gro, "dcd3k.dcd", "DCD", 1000),
        (gro, "nc3k.nc", "NCDF", 1000),
    ]
    for src, name, fmt, frames in plan:
        u = mda.Universe(src)
        base = u.atoms.positions.copy()
        with mda.Writer(os.path.join(outdir, name), u.atoms.n_atoms, format=fmt) as w:
            for i in range(frames):
                # Thermal jitter around the equilibrated box: realistic XTC compression.
                u.atoms.positions = base + rng.normal(0, 0.3, base.shape).astype(np.float32)
                u.trajectory.ts.time = 2.0 * i
                w.write(u.atoms)
    print("made")


def timed(lib, path, natoms, reps):
    best = float("inf")
    frames = 0
    for _ in range(reps):
        if lib == "mdanalysis":
            import MDAnalysis as mda

            fmt = {"nc": "NCDF"}.get(path.rsplit(".", 1)[1])
            u = mda.Universe.empty(natoms, trajectory=True)
            u.load_new(path, **({"format": fmt} if fmt else {}))
            t0 = time.perf_counter()
            n = 0
            for ts in u.trajectory:
                n += 1
            dt = time.perf_counter() - t0
        else:
            import mdtraj

            ext = path.rsplit(".", 1)[1]
            cls = {
                "xtc": mdtraj.formats.XTCTrajectoryFile,
                "trr": mdtraj.formats.TRRTrajectoryFile,
                "dcd": mdtraj.formats.DCDTrajectoryFile,
                "nc": mdtraj.formats.NetCDFTrajectoryFile,
            }[ext]
            t0 = time.perf_counter()
            with cls(path) as f:
                out = f.read()
            n = len(out[0])
            dt = time.perf_counter() - t0
        best = min(best, dt)
        frames = n
    print(json.dumps({"frames": frames, "seconds": best}))


def write(src, out, period_ms, nframes):
    from MDAnalysis.coordinates.XTC import XTCReader

    r = XTCReader(src)
    offsets = list(r._xdr.offsets) + [os.path.getsize(src)]
    data = open(src, "rb").read()
    fd = os.open(out, os.O_WRONLY | os.O_APPEND)
    stamps = []
    for i in range(min(nframes, len(offsets) - 1)):
        frame = data[offsets[i]:offsets[i + 1]]
        stamps.append(time.monotonic_ns())
        os.write(fd, frame)
        time.sleep(period_ms / 1000.0)
    os.close(fd)
    print(json.dumps(stamps))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "make":
        make(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "time":
        timed(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "write":
        write(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
