"""Argon with a westream StreamForce, and the states the stream must carry.

Also a script: `python stream_force_run.py SOCKET PRECISION OUT.npz` runs the
OpenCL case in its own process, because OpenMM sees OpenCL (pocl) only where
OCL_ICD_VENDORS points at it (test_openmm_stream_force.py sets that), and the
rest of the test process keeps OpenMM's default platform unchanged.
"""
import sys

import numpy as np
import openmm
from openmm import app, unit

from westream.openmm import StreamForce
from argon import argon_integrator, argon_system


class StateRecorder:
    """What the stream must carry: the unwrapped state after every `interval` steps."""

    def __init__(self, interval):
        self.interval = interval
        self.records = []

    def describeNextReport(self, simulation):
        return {"steps": self.interval - simulation.currentStep % self.interval, "periodic": False,
                "include": ["positions"]}

    def report(self, simulation, state):
        self.records.append(record(simulation.currentStep, state))


def record(step, state):
    return dict(
        step=step,
        time=state.getTime().value_in_unit(unit.picosecond),
        pos=np.array(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer), dtype=np.float64),
        box=np.array(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer), dtype=np.float64),
    )


def simulate(platform, *, interval, steps, address, periodic=True, properties=None, seed=1):
    """Runs argon with a StreamForce; returns (stream, simulation, records of the expected frames)."""
    topology, system, positions = argon_system(periodic, seed)
    stream = StreamForce(system, interval, address)
    sim = app.Simulation(topology, system, argon_integrator(seed), openmm.Platform.getPlatformByName(platform),
                         properties or {})
    sim.context.setPositions(positions)
    sim.context.setVelocitiesToTemperature(120 * unit.kelvin, seed)
    recorder = StateRecorder(interval)
    recorder.records.append(record(0, sim.context.getState(getPositions=True)))
    sim.reporters.append(recorder)
    for n in steps:
        sim.step(n)
    return stream, sim, recorder.records


def main():
    sock, precision, out = sys.argv[1:4]
    # 600 steps: OpenMM reorders and rewraps the atoms every 250 steps, so the
    # device's order and cell offsets change under the stream.
    stream, sim, records = simulate("OpenCL", interval=20, steps=[300, 300], address=sock,
                                    properties={"Precision": precision}, seed=3)
    stream.finish(sim)
    np.savez(out, **{k: np.array([r[k] for r in records]) for k in ("step", "time", "pos", "box")})


if __name__ == "__main__":
    main()
