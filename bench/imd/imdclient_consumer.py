#!/usr/bin/env python3
"""One imdclient measurement for bench/imd/run.mjs (a fresh process each time).

  --mode live    start `gmx mdrun -imdport 0 -imdwait -imdterm` itself, read
                 the port from mdrun's output (the upstream TrajectoryStreamer
                 approach, minus its harmful probe connect), and read frames
                 with imdclient's IMDClient
  --mode replay  read a replayed IMD stream from 127.0.0.1:--port

Same pipeline as the westream consumer: the minimum-image distance of atoms 0
and 3 per frame, a pcoord file written when the stream ends. Prints RESULT {json} with
CLOCK_MONOTONIC timestamps in ns (time.monotonic_ns), comparable with the
driver's process.hrtime.
"""
import time

t_start = time.monotonic_ns()

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
from imdclient.IMDClient import IMDClient  # noqa: E402

t_imported = time.monotonic_ns()

p = argparse.ArgumentParser()
p.add_argument("--mode", required=True)
p.add_argument("--workdir", default=".")
p.add_argument("--tpr")
p.add_argument("--natoms", type=int, required=True)
p.add_argument("--port", type=int)
p.add_argument("--out", required=True)
p.add_argument("--name", default="icrun")
p.add_argument("--box", type=float, default=0.0, help="cubic box edge, Å (0: no minimum image)")
a = p.parse_args()
box = a.box

t = {"start": t_start, "imported": t_imported}
exit_info = {"code": 0}

if a.mode == "live":
    t["engineStart"] = time.monotonic_ns()
    proc = subprocess.Popen(
        ["gmx", "mdrun", "-s", a.tpr, "-nt", "1", "-deffnm", a.name,
         "-imdport", "0", "-imdwait", "-imdterm"],
        cwd=a.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    port = None
    for line in proc.stderr:
        m = re.search(r"IMD: Listening for IMD connection on port (\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        raise SystemExit("mdrun exited before it listened for IMD")
    t["ready"] = time.monotonic_ns()
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()

    def wait_engine():
        exit_info["code"] = proc.wait()
        t["engineExit"] = time.monotonic_ns()

    waiter = threading.Thread(target=wait_engine)
    waiter.start()
elif a.mode == "replay":
    t["engineStart"] = t["ready"] = time.monotonic_ns()
    port = a.port
    waiter = None
else:
    raise SystemExit(f"unknown --mode {a.mode}")

# timeout: imdclient's read timeout must not end the stream early (imdclient #111).
client = IMDClient("127.0.0.1", port, a.natoms, timeout=600)
pcoords = []
while True:
    try:
        f = client.get_imdframe()
    except EOFError:
        break
    if not pcoords:
        t["first"] = time.monotonic_ns()
    d = f.positions[0].astype(np.float64) - f.positions[3]
    if box > 0:
        d -= box * np.round(d / box)  # minimum image in the cubic box
    pcoords.append(float(np.sqrt(np.dot(d, d))))
    t["last"] = time.monotonic_ns()
client.stop()
with open(a.out, "w") as fh:
    fh.write("".join(f"{x:.6f}\n" for x in pcoords))
t["written"] = time.monotonic_ns()
if waiter is not None:
    waiter.join()
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({
    "client": "imdclient",
    "mode": a.mode,
    "frames": len(pcoords),
    "natoms": a.natoms,
    "exit": exit_info,
    "cpuSeconds": ru.ru_utime + ru.ru_stime,
    "maxRssMiB": ru.ru_maxrss / 1024,
    "t": {k: str(v) for k, v in t.items()},
}), flush=True)
