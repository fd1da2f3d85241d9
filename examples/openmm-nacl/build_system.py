"""Builds the Na+/Cl- in TIP3P water system with OpenMM's own tools.

    python build_system.py OUTDIR [--box-nm 2.0]

Writes OUTDIR/system.xml (the serialized System), OUTDIR/bstate.pdb (topology
and coordinates of the basis state) and OUTDIR/bstate.xml (its State). No
downloaded files: Modeller solvates with OpenMM's bundled Amber14/TIP3P.
"""
import argparse
import os

import numpy as np
import openmm
from openmm import app, unit

from stream_nacl import build


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--box-nm", type=float, default=2.0)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    modeller, system = build(box_nm=args.box_nm)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    simulation = app.Simulation(modeller.topology, system, integrator, openmm.Platform.getPlatformByName("CPU"))
    simulation.context.setPositions(modeller.positions)
    simulation.minimizeEnergy(maxIterations=200)
    # Round to what a PDB file holds (0.001 Å), so the basis state's pcoord
    # from bstate.pdb (get_pcoord) equals row 0 streamed from bstate.xml.
    state = simulation.context.getState(getPositions=True, enforcePeriodicBox=True)
    rounded = np.round(state.getPositions(asNumpy=True).value_in_unit(unit.angstrom), 3)
    simulation.context.setPositions(rounded * unit.angstrom)
    simulation.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
    state = simulation.context.getState(getPositions=True, getVelocities=True)
    with open(os.path.join(args.outdir, "system.xml"), "w") as f:
        f.write(openmm.XmlSerializer.serialize(system))
    with open(os.path.join(args.outdir, "bstate.xml"), "w") as f:
        f.write(openmm.XmlSerializer.serialize(state))
    with open(os.path.join(args.outdir, "bstate.pdb"), "w") as f:
        app.PDBFile.writeFile(modeller.topology, state.getPositions(), f)


if __name__ == "__main__":
    main()
