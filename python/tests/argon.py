"""A tiny OpenMM test system: 27 argon atoms, optionally in a triclinic box."""
import numpy as np
import openmm
from openmm import app, unit

# A reduced triclinic box (nm): a=(ax,0,0), b=(bx,by,0), c=(cx,cy,cz).
BOX_NM = [openmm.Vec3(1.6, 0, 0), openmm.Vec3(0.5, 1.6, 0), openmm.Vec3(0.3, -0.4, 1.6)]


def argon_system(periodic=True, seed=1):
    """(topology, system, positions): 27 argon atoms on a jittered lattice, LJ."""
    system = openmm.System()
    nb = openmm.NonbondedForce()
    topology = app.Topology()
    chain = topology.addChain()
    argon = app.Element.getBySymbol("Ar")
    rng = np.random.default_rng(seed)
    positions = []
    for i in range(3):
        for j in range(3):
            for k in range(3):
                system.addParticle(39.948)
                nb.addParticle(0.0, 0.34, 0.996)
                res = topology.addResidue("AR", chain)
                topology.addAtom("AR", argon, res)
                positions.append((np.array([i, j, k]) * 0.53 + 0.1 + rng.uniform(-0.02, 0.02, 3)).tolist())
    if periodic:
        system.setDefaultPeriodicBoxVectors(*BOX_NM)
        topology.setPeriodicBoxVectors(BOX_NM)
        nb.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)
        nb.setCutoffDistance(0.7)
    else:
        nb.setNonbondedMethod(openmm.NonbondedForce.NoCutoff)
    system.addForce(nb)
    return topology, system, positions * unit.nanometer


def argon_integrator(seed=1):
    integrator = openmm.LangevinMiddleIntegrator(120 * unit.kelvin, 1 / unit.picosecond, 0.004 * unit.picoseconds)
    integrator.setRandomNumberSeed(seed)
    return integrator
