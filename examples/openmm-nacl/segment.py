"""One WESTPA segment of the NaCl system, streamed to westream.

    python segment.py SIMDIR PARENT_STATE_XML [--steps 200] [--interval 100] [--seed N] [--dcd seg.dcd]
                      [--stream reporter|force]

Continues from the parent's State, streams the start point (row 0 of the
pcoord) and then every `interval`-th step to westream, and saves the final
State as seg.xml for the child segments. --stream reporter (the default)
uses StreamReporter; --stream force uses StreamForce, which on a GPU
platform streams without making the GPU wait (step 0 included). --dcd also
writes the frames to a DCD file (to check the pcoords afterwards).
"""
import argparse
import os

import openmm
from openmm import app, unit

from westream.openmm import StreamForce, StreamReporter


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("simdir", help="folder with system.xml and bstate.pdb (from build_system.py)")
    ap.add_argument("parent", help="parent segment's (or basis state's) State XML")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--interval", type=int, default=100)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("WEST_RAND16", "0")))
    ap.add_argument("--dcd", help="also write the streamed frames to this DCD file")
    ap.add_argument("--platform", default=os.environ.get("OPENMM_PLATFORM", "CPU"))
    ap.add_argument("--stream", choices=["reporter", "force"], default="reporter")
    args = ap.parse_args()

    with open(os.path.join(args.simdir, "system.xml")) as f:
        system = openmm.XmlSerializer.deserialize(f.read())
    pdb = app.PDBFile(os.path.join(args.simdir, "bstate.pdb"))
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    integrator.setRandomNumberSeed(args.seed)
    platform = openmm.Platform.getPlatformByName(args.platform)
    force = StreamForce(system, args.interval) if args.stream == "force" else None  # before the Context
    simulation = app.Simulation(pdb.topology, system, integrator, platform)
    simulation.loadState(args.parent)
    simulation.currentStep = 0
    if args.dcd:
        simulation.reporters.append(app.DCDReporter(args.dcd, args.interval, enforcePeriodicBox=True))
    if force is not None:
        simulation.step(args.steps)  # step 0, the start point, is sent when step 1 starts
        force.finish(simulation)
    else:
        with StreamReporter(args.interval, enforcePeriodicBox=True) as reporter:
            reporter.report_now(simulation)  # the start point: pcoord row 0
            simulation.reporters.append(reporter)
            simulation.step(args.steps)
    simulation.saveState("seg.xml")


if __name__ == "__main__":
    main()
