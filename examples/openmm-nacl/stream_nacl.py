"""Na+ and Cl- in a TIP3P water box, simulated by OpenMM and streamed to westream.

    westream run -- python examples/openmm-nacl/stream_nacl.py [--steps 1000] [--interval 50]

The system is built here with OpenMM's Modeller and its bundled Amber14 force
field (no downloaded files). StreamReporter writes every `interval`-th step
into the channel named by WESTREAM_ADDRESS; positions arrive in Å.
"""

import argparse
import sys

import openmm
from openmm import app, unit

from westream.openmm import StreamReporter


def build(box_nm=2.5):
    top = app.Topology()
    chain = top.addChain()
    for name, element in (("NA", "Na"), ("CL", "Cl")):
        residue = top.addResidue(name, chain)
        top.addAtom(name, app.Element.getBySymbol(element), residue)
    positions = [openmm.Vec3(0.0, 0.0, 0.0), openmm.Vec3(0.5, 0.0, 0.0)] * unit.nanometer
    forcefield = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    modeller = app.Modeller(top, positions)
    modeller.addSolvent(forcefield, model="tip3p", boxSize=openmm.Vec3(box_nm, box_nm, box_nm) * unit.nanometer)
    system = forcefield.createSystem(modeller.topology, nonbondedMethod=app.PME,
                                     nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds)
    return modeller, system


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--interval", type=int, default=50)
    ap.add_argument("--platform", default="CPU", help="OpenMM platform (CPU, CUDA, OpenCL, Reference)")
    args = ap.parse_args()

    modeller, system = build()
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    platform = openmm.Platform.getPlatformByName(args.platform)
    simulation = app.Simulation(modeller.topology, system, integrator, platform)
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy(maxIterations=100)
    print("simulating %d atoms for %d steps on %s" % (system.getNumParticles(), args.steps, args.platform),
          file=sys.stderr)
    with StreamReporter(args.interval) as reporter:
        simulation.reporters.append(reporter)
        simulation.step(args.steps)


if __name__ == "__main__":
    main()
