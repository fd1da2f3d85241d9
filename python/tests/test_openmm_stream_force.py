"""westream.openmm.StreamForce: frames captured inside OpenMM, on the host
(CPU platform) and through non-blocking device downloads (OpenCL; pocl gives
every machine an OpenCL device: scripts/setup.sh installs libpocl2, and the
tests point OpenCL's loader at it only in the process that needs it)."""
import os
import subprocess
import sys

import numpy as np
import openmm
import pytest
from openmm import app

import westream
from westream.openmm import StreamForce
from argon import argon_integrator, argon_system
from fake_consumer import HAS_BOX, HAS_STEP, HAS_TIME, POSITIONS
from helpers import assert_same_bits
from stream_force_run import simulate

HERE = os.path.dirname(os.path.abspath(__file__))


def check_frames(frames, records, periodic=True):
    assert [f.step for f in frames] == [r["step"] for r in records]
    for f, r in zip(frames, records):
        assert f.time == r["time"]
        # getState(enforcePeriodicBox=False) converted as StreamReporter does, bit for bit.
        assert_same_bits(f.positions, (r["pos"] * 10.0).astype(np.float32))
        if periodic:
            assert f.flags == HAS_STEP | HAS_TIME | HAS_BOX
            b = r["box"]
            assert_same_bits(f.box, (np.array([b[0, 0], b[1, 0], b[1, 1], b[2, 0], b[2, 1], b[2, 2]]) * 10.0)
                             .astype(np.float32))
        else:
            assert f.flags == HAS_STEP | HAS_TIME


def test_host_capture_matches_the_state(sock_path, consumer):
    c = consumer()
    stream, sim, records = simulate("CPU", interval=5, steps=[12, 8], address=sock_path, properties={"Threads": "1"})
    assert stream.frames(sim) == 4  # 0, 5, 10, 15 sent while stepping; 20 is due at finish()
    spent = stream.engine_seconds(sim)
    assert 0 < spent < 5
    stream.finish(sim)
    stream.finish(sim.context)  # finishing twice is harmless
    c.join()
    assert c.hello[0] == 27 and c.hello[1] == POSITIONS and c.end_frames == 5
    check_frames(c.frames, records)
    assert stream.frames(sim) == 5
    assert stream.engine_seconds(sim) > spent  # the last capture counted too


def test_finish_sends_nothing_when_the_last_step_is_not_due(sock_path, consumer):
    c = consumer()
    stream, sim, records = simulate("CPU", interval=4, steps=[10], address=sock_path, periodic=False, seed=2)
    stream.finish(sim)
    c.join()
    assert [f.step for f in c.frames] == [0, 4, 8] and c.end_frames == 3
    check_frames(c.frames, records, periodic=False)


@pytest.fixture
def pocl_env(tmp_path):
    """The environment in which OpenMM finds pocl's OpenCL device (libpocl2, from scripts/setup.sh)."""
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    (vendors / "pocl.icd").write_text("libpocl.so.2\n")
    return dict(os.environ, OCL_ICD_VENDORS=str(vendors))


@pytest.mark.parametrize("precision", ["single", "mixed", "double"])
def test_device_capture_matches_the_state(sock_path, consumer, pocl_env, tmp_path, precision):
    c = consumer()
    out = tmp_path / "records.npz"
    run = subprocess.run([sys.executable, os.path.join(HERE, "stream_force_run.py"), sock_path, precision, str(out)],
                         env=pocl_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    c.join()
    saved = np.load(out)
    records = [dict(step=int(saved["step"][i]), time=float(saved["time"][i]), pos=saved["pos"][i], box=saved["box"][i])
               for i in range(len(saved["step"]))]
    assert c.end_frames == 31
    check_frames(c.frames, records)
    # Unwrapping was exercised: some atom left the cell it started in.
    box = records[0]["box"]
    frac = np.concatenate([r["pos"] for r in records]) @ np.linalg.inv(box)
    assert (frac < 0).any() or (frac >= 1).any()


def test_close_leaves_the_stream_incomplete(sock_path, consumer):
    c = consumer()
    stream, sim, _ = simulate("CPU", interval=2, steps=[4], address=sock_path, seed=4)
    stream.close(sim)
    c.join()
    # Steps 0 and 2; step 4's frame would have been captured when step 5 started.
    assert [f.step for f in c.frames] == [0, 2] and c.end_frames is None and c.hung_up
    with pytest.raises(openmm.OpenMMException, match="westream: a frame is due at step 4 but the stream was finished"):
        sim.step(2)


def test_consumer_gone_fails_the_step(sock_path, consumer):
    c = consumer(stop_after=2, stop_action="close")
    stream, sim, _ = simulate("CPU", interval=1, steps=[2], address=sock_path, seed=5)
    c.join()
    with pytest.raises((openmm.OpenMMException, westream.ConsumerGone), match="westream: .*consumer"):
        for _ in range(50):  # the first frames after the hang-up may still fit the ring
            sim.step(1)
        stream.finish(sim)


def test_without_address_the_first_frame_fails(monkeypatch):
    monkeypatch.delenv("WESTREAM_ADDRESS", raising=False)
    topology, system, positions = argon_system(seed=6)
    StreamForce(system, 2)
    sim = app.Simulation(topology, system, argon_integrator(6), openmm.Platform.getPlatformByName("Reference"))
    sim.context.setPositions(positions)
    with pytest.raises(openmm.OpenMMException, match="WESTREAM_ADDRESS"):
        sim.step(1)


def test_address_from_the_environment(sock_path, consumer, monkeypatch):
    monkeypatch.setenv("WESTREAM_ADDRESS", sock_path)
    c = consumer()
    stream, sim, records = simulate("Reference", interval=3, steps=[6], address=None, seed=7)
    stream.finish(sim)
    c.join()
    assert c.end_frames == 3
    check_frames(c.frames, records)


def test_an_extension_built_for_another_openmm_is_refused(monkeypatch):
    import westream._openmm as native

    topology, system, _ = argon_system()
    monkeypatch.setattr(native, "built_against", "7.7.0")
    with pytest.raises(ImportError, match=r"built against OpenMM 7\.7\.0, but this is OpenMM %s: rebuild it: pip install --no-build-isolation" % openmm.version.version.replace(".", r"\.")):
        StreamForce(system, 1)
    assert system.getNumForces() == 1  # nothing was added


def test_arguments():
    topology, system, _ = argon_system()
    with pytest.raises(ValueError, match="positive"):
        StreamForce(system, 0)
    with pytest.raises(ValueError, match="nslots"):
        StreamForce(system, 1, nslots=-1)
    with pytest.raises(TypeError, match="openmm.System"):
        StreamForce(topology, 1)
    stream = StreamForce(system, 10)
    assert stream.interval == 10 and system.getNumForces() == 2 and stream.index == 1
    with pytest.raises(TypeError, match="Context or app.Simulation"):
        stream.finish(system)
