"""westream.openmm.StreamReporter with a real (tiny) OpenMM simulation."""
import types

import numpy as np
import openmm
import pytest
from openmm import app, unit

import westream
from westream.openmm import StreamReporter, openmm_version
from fake_consumer import FORCES, HAS_BOX, HAS_STEP, HAS_TIME, POSITIONS, VELOCITIES
from argon import argon_integrator, argon_system
from helpers import assert_same_bits


def argon_simulation(periodic=True, seed=1):
    """27 argon atoms on a jittered lattice, LJ, CPU platform."""
    topology, system, positions = argon_system(periodic, seed)
    integrator = argon_integrator(seed)
    sim = app.Simulation(topology, system, integrator, openmm.Platform.getPlatformByName("CPU"), {"Threads": "1"})
    sim.context.setPositions(positions)
    sim.context.setVelocitiesToTemperature(120 * unit.kelvin, seed)
    return sim


class Recorder:
    """Records, from the very state the StreamReporter gets, what it must send."""

    def __init__(self, twin):
        self.twin = twin
        self.records = []

    def describeNextReport(self, simulation):
        return self.twin.describeNextReport(simulation)

    def report(self, simulation, state):
        pos = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        include = self.twin._include()  # only what the reporters asked for is in the state
        vel = frc = np.zeros(0)
        if "velocities" in include:
            vel = state.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond)
        if "forces" in include:
            frc = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
        box = state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
        self.records.append(
            dict(
                step=simulation.currentStep,
                time=state.getTime().value_in_unit(unit.picosecond),
                pos=np.array(pos, dtype=np.float64),
                vel=np.array(vel, dtype=np.float64),
                frc=np.array(frc, dtype=np.float64),
                box=np.array(box, dtype=np.float64),
            )
        )


def check_frames(consumer_frames, records, periodic=True, with_vel=True, with_frc=True):
    assert len(consumer_frames) == len(records)
    for fr, rec in zip(consumer_frames, records):
        assert fr.step == rec["step"] and fr.time == rec["time"]
        # The documented conversion, reproduced independently.
        assert_same_bits(fr.positions, (np.asarray(rec["pos"], dtype=np.float64) * 10.0).astype(np.float32))
        if with_vel:
            assert_same_bits(fr.velocities, (rec["vel"] * 10.0).astype(np.float32))
        if with_frc:
            assert_same_bits(fr.forces, (rec["frc"] / 10.0).astype(np.float32))
        if periodic:
            assert fr.flags == HAS_STEP | HAS_TIME | HAS_BOX
            b = rec["box"]
            six = np.array([b[0, 0], b[1, 0], b[1, 1], b[2, 0], b[2, 1], b[2, 2]])
            assert_same_bits(fr.box, (six * 10.0).astype(np.float32))
        else:
            assert fr.flags == HAS_STEP | HAS_TIME


# --------------------------------------------------------- describeNextReport


@pytest.mark.parametrize(
    "version, dict_form",
    [("8.1.1", False), ("7.7.0", False), ("8.2.0", True), ("8.6.1", True), ("10.0", True), ("8.2.0.dev-abc", True)],
)
def test_describe_next_report_form_follows_the_version(monkeypatch, version, dict_form):
    monkeypatch.setattr(openmm.version, "short_version", version)
    sim = types.SimpleNamespace(currentStep=7)
    r = StreamReporter(5, "/nonexistent.sock", velocities=True)
    desc = r.describeNextReport(sim)
    if dict_form:
        assert desc == {"steps": 3, "periodic": None, "include": ["positions", "velocities"]}
    else:
        assert desc == (3, True, True, False, False, None)
    r2 = StreamReporter(4, forces=True, enforcePeriodicBox=False)
    sim.currentStep = 8
    desc = r2.describeNextReport(sim)
    if dict_form:
        assert desc == {"steps": 4, "periodic": False, "include": ["positions", "forces"]}
    else:
        assert desc == (4, True, False, True, False, False)


def test_openmm_version_parsing(monkeypatch):
    assert openmm_version()[:1] == (8,)  # the pinned test environment runs OpenMM 8
    monkeypatch.setattr(openmm.version, "short_version", "8.10.2rc1")
    assert openmm_version() == (8, 10, 2)


def test_reporter_arguments():
    with pytest.raises(ValueError, match="interval"):
        StreamReporter(0)
    with pytest.raises(TypeError):
        StreamReporter(2.5)
    r = StreamReporter(3)
    assert r.interval == 3 and r.producer is None and r.frames == 0
    r.end()  # never connected: nothing to end
    r.close()


# ------------------------------------------------------------- simulations


def test_stream_reporter_frames_match_the_state(sock_path, consumer):
    c = consumer()
    sim = argon_simulation()
    stream = StreamReporter(5, sock_path, velocities=True, forces=True)
    recorder = Recorder(stream)
    sim.reporters.append(stream)
    sim.reporters.append(recorder)
    assert stream.producer is None  # lazy: nothing connected before the first report
    sim.step(20)
    assert stream.producer.natoms == 27 and stream.frames == 4
    stream.end()
    stream.close()
    c.join()
    assert c.hello[0] == 27 and c.hello[1] == POSITIONS | VELOCITIES | FORCES
    assert c.end_frames == 4
    assert [r["step"] for r in recorder.records] == [5, 10, 15, 20]
    np.testing.assert_allclose([r["time"] for r in recorder.records], [0.02, 0.04, 0.06, 0.08])
    check_frames(c.frames, recorder.records)
    # Sanity: the atoms moved and the box is the triclinic one, in Angstrom.
    assert not np.array_equal(c.frames[0].positions, c.frames[-1].positions)
    np.testing.assert_allclose(c.frames[0].box, [16, 5, 16, 3, -4, 16], rtol=1e-6)


def test_stream_reporter_legacy_tuple_form(sock_path, consumer, monkeypatch):
    # OpenMM 8.6's Simulation still understands the pre-8.2 tuple form.
    monkeypatch.setattr(openmm.version, "short_version", "8.1.1")
    c = consumer()
    sim = argon_simulation(seed=2)
    monkeypatch.setenv("WESTREAM_ADDRESS", sock_path)
    with StreamReporter(5) as stream:
        recorder = Recorder(stream)
        assert isinstance(stream.describeNextReport(sim), tuple)
        sim.reporters += [stream, recorder]
        sim.step(10)
    c.join()
    assert c.end_frames == 2 and c.hello[1] == POSITIONS
    check_frames(c.frames, recorder.records, with_vel=False, with_frc=False)


def test_stream_reporter_non_periodic_has_no_box(sock_path, consumer):
    c = consumer()
    sim = argon_simulation(periodic=False, seed=3)
    with StreamReporter(3, sock_path) as stream:
        recorder = Recorder(stream)
        sim.reporters += [stream, recorder]
        sim.step(7)
    c.join()
    assert [f.step for f in c.frames] == [3, 6] and c.end_frames == 2
    check_frames(c.frames, recorder.records, periodic=False, with_vel=False, with_frc=False)


def test_stream_reporter_exception_leaves_stream_incomplete(sock_path, consumer):
    c = consumer()
    sim = argon_simulation(seed=4)
    with pytest.raises(ZeroDivisionError):
        with StreamReporter(2, sock_path) as stream:
            sim.reporters.append(stream)
            sim.step(4)
            1 / 0
    c.join()
    assert len(c.frames) == 2 and c.end_frames is None and c.hung_up


def test_stream_reporter_without_address_fails_on_first_report(monkeypatch):
    monkeypatch.delenv("WESTREAM_ADDRESS", raising=False)
    sim = argon_simulation(seed=5)
    sim.reporters.append(StreamReporter(2))
    sim.step(1)  # no report yet
    with pytest.raises(westream.ChannelError, match="WESTREAM_ADDRESS"):
        sim.step(1)


def test_stream_reporter_report_after_end_is_an_error(sock_path, consumer):
    c = consumer()
    sim = argon_simulation(seed=6)
    stream = StreamReporter(1, sock_path)
    sim.reporters.append(stream)
    sim.step(1)
    stream.end()
    with pytest.raises(ValueError, match="after end"):
        sim.step(1)
    stream.close()
    c.join()
    assert c.end_frames == 1


def test_readme_example_runs(sock_path, consumer):
    """python/examples/openmm_water.py (the README's example) streams a PME water box."""
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "openmm_water.py")
    spec = importlib.util.spec_from_file_location("openmm_water_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    c = consumer()
    frames, natoms = example.main(sock_path, steps=20, interval=10)
    c.join()
    assert frames == 2 and c.end_frames == 2 and c.hello[0] == natoms and natoms > 1000
    assert [f.step for f in c.frames] == [10, 20]
    for f in c.frames:
        assert f.flags == HAS_STEP | HAS_TIME | HAS_BOX
        np.testing.assert_allclose(f.box, [25, 0, 25, 0, 0, 25], rtol=1e-5)
        # Wrapped into the box (OpenMM's default for periodic systems), in Angstrom.
        centers = f.positions.reshape(-1, 3, 3).mean(axis=1)
        assert np.isfinite(f.positions).all() and centers.min() > -2 and centers.max() < 27
