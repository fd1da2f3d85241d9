"""One NaCl segment the way WESTPA's tutorial7.1-basic-nacl runs it: OpenMM
writes seg.dcd with a DCDReporter, saves seg.xml and exits; the pcoord is
computed afterwards by a separate process (get_distance.py).

    python baseline_segment.py SIMDIR PARENT_XML [--steps 1000] [--interval 500] [--seed N]

Same system, integrator, platform and seeds as examples/openmm-nacl/segment.py,
so the only difference from the westream arm is how frames leave the engine.
Prints `start_unix` (before importing OpenMM), `ready_unix` (context
created, parent state loaded) and `last_report_unix` (right after the last DCD
frame is written and flushed: the reference point for "time to pcoord").
"""
import time

START = time.time()  # noqa: E402  (before the heavy imports)

import argparse
import os

import openmm
from openmm import app, unit


class TimedDCDReporter(app.DCDReporter):
    """DCDReporter that remembers when its last frame hit the file."""

    last = None

    def report(self, simulation, state):
        super().report(simulation, state)
        self._out.flush()
        TimedDCDReporter.last = time.time()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("simdir")
    ap.add_argument("parent")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--interval", type=int, default=500)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("WEST_RAND16", "0")))
    ap.add_argument("--platform", default=os.environ.get("OPENMM_PLATFORM", "CPU"))
    args = ap.parse_args()

    with open(os.path.join(args.simdir, "system.xml")) as f:
        system = openmm.XmlSerializer.deserialize(f.read())
    pdb = app.PDBFile(os.path.join(args.simdir, "bstate.pdb"))
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    integrator.setRandomNumberSeed(args.seed)
    platform = openmm.Platform.getPlatformByName(args.platform)
    simulation = app.Simulation(pdb.topology, system, integrator, platform)
    simulation.loadState(args.parent)
    simulation.currentStep = 0
    print(f"start_unix={START:.6f}", flush=True)
    print(f"ready_unix={time.time():.6f}", flush=True)
    simulation.reporters.append(TimedDCDReporter("seg.dcd", args.interval, enforcePeriodicBox=True))
    simulation.step(args.steps)
    print(f"last_report_unix={TimedDCDReporter.last:.6f}", flush=True)
    simulation.saveState("seg.xml")


if __name__ == "__main__":
    main()
