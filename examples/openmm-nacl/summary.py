"""Summarises a finished run: iterations, segments, the pcoord distribution,
and where each segment's time went (engine vs westream).

    python summary.py [SIMROOT]
"""
import glob
import json
import os
import sys

import h5py
import numpy as np

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
with h5py.File(os.path.join(root, "west.h5"), "r") as f:
    iters = sorted(k for k in f["iterations"] if (f["iterations"][k]["seg_index"]["status"] == 2).all())
    final = [f["iterations"][k]["pcoord"][:, -1, 0] for k in iters]
    weights = [f["iterations"][k]["seg_index"]["weight"] for k in iters]
    walltime = np.concatenate([f["iterations"][k]["seg_index"]["walltime"] for k in iters])

engine, busy, after = [], [], []
for log in glob.glob(os.path.join(root, "seg_logs", "*.log")):
    for line in open(log):
        if line.startswith('{"level"'):
            rec = json.loads(line)
            if "framesPerSecond" in rec:
                engine.append(rec["seconds"])
                busy.append(rec.get("pipelineBusySeconds", float("nan")))
            elif "rows" in rec:
                after.append(rec["msAfterLastFrame"])

all_d = np.concatenate(final)
print("iterations: %d   segments: %d" % (len(iters), len(all_d)))
print("Na-Cl distance at the end of each segment (Å): min %.2f  median %.2f  max %.2f" % (all_d.min(), np.median(all_d), all_d.max()))
print("probability over the distance, iteration %d (weighted ensemble):" % len(iters))
d, w = final[-1], weights[-1]
edges = [0, 2.6, 3.0, 3.4, 4.0, 5.0, 7.0, 10.0, np.inf]
hist, _ = np.histogram(d, bins=edges, weights=w)
for lo, hi, p in zip(edges[:-1], edges[1:], hist):
    print("  %5.1f-%-5s %-40s %.3f" % (lo, "%.1f" % hi if np.isfinite(hi) else "inf", "#" * int(round(40 * p / max(hist.sum(), 1e-300))), p))
if engine:
    wt = float(np.mean(walltime))
    print("per segment (mean): %.2f s wall in WESTPA = engine %.2f s + %.2f s for runseg.sh, westream start-up and teardown;"
          % (wt, float(np.mean(engine)), wt - float(np.mean(engine))))
    print("westream's pipeline computed %.1f ms per segment (median) while the engine ran; pcoord written %.1f ms (median) after the engine's last frame"
          % (1e3 * float(np.nanmedian(busy)), float(np.median(after))))
