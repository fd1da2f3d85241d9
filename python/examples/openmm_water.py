"""Stream a small OpenMM water box to westream.

    westream run -- python python/examples/openmm_water.py       # WESTREAM_ADDRESS set by westream
    python python/examples/openmm_water.py /path/to/consumer.sock [steps] [interval]
"""
import sys

import openmm
from openmm import app, unit

from westream.openmm import StreamReporter


def main(address=None, steps=5000, interval=100):
    forcefield = app.ForceField("amber14/tip3p.xml")
    modeller = app.Modeller(app.Topology(), [])
    modeller.addSolvent(forcefield, boxSize=openmm.Vec3(2.5, 2.5, 2.5) * unit.nanometer)
    system = forcefield.createSystem(
        modeller.topology, nonbondedMethod=app.PME, nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds
    )
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    simulation = app.Simulation(modeller.topology, system, integrator, openmm.Platform.getPlatformByName("CPU"))
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy(maxIterations=100)

    with StreamReporter(interval, address) as reporter:  # connects on the first report
        simulation.reporters.append(reporter)
        simulation.step(steps)
    # Leaving the block called reporter.end(): the consumer knows the stream is complete.
    return reporter.frames, system.getNumParticles()


if __name__ == "__main__":
    args = sys.argv[1:]
    frames, natoms = main(
        args[0] if args else None,
        int(args[1]) if len(args) > 1 else 5000,
        int(args[2]) if len(args) > 2 else 100,
    )
    print("streamed %d frames of %d atoms" % (frames, natoms))
