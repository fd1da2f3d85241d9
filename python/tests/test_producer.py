"""Producer against the pure-Python fake consumer (tests/fake_consumer.py)."""
import gc
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import numpy as np
import pytest

import westream
from westream import _producer
from fake_consumer import FORCES, HAS_BOX, HAS_STEP, HAS_TIME, POSITIONS, VELOCITIES, compute_layout
from helpers import assert_same_bits

HERE = os.path.dirname(os.path.abspath(__file__))


def xyz(n, seed=0, dtype=np.float32):
    return (np.random.default_rng(seed).standard_normal((n, 3)) * 20).astype(dtype)


# ------------------------------------------------------------------ package


def test_version_and_exceptions():
    assert westream.__version__ == "0.1.0"
    with open(os.path.join(HERE, "..", "pyproject.toml")) as f:
        assert re.search(r'^version = "0\.1\.0"$', f.read(), re.M)
    for name in ("ConsumerGone", "Refused", "ProtocolError", "ConnectError"):
        exc = getattr(westream, name)
        assert issubclass(exc, westream.ChannelError) and exc is not westream.ChannelError
        assert exc.__module__ == "westream"
    assert issubclass(westream.ChannelError, Exception)
    for name in ("Producer", "ChannelError", "ConsumerGone", "Refused", "ProtocolError", "ConnectError"):
        assert name in westream.__all__


def test_import_needs_numpy_only():
    # openmm is installed in the test environment: make it unimportable and
    # check that westream and westream.openmm still import.
    code = (
        "import sys; sys.modules['openmm'] = None\n"
        "import westream, westream.openmm\n"
        "r = westream.openmm.StreamReporter(10)\n"
        "print(sorted(m for m in sys.modules if m.startswith('openmm.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------- arguments, no consumer


@pytest.mark.parametrize("natoms", [0, -1, (1 << 26) + 1])
def test_bad_natoms(natoms):
    with pytest.raises(ValueError, match="natoms"):
        westream.Producer(natoms, "/nonexistent/x.sock")


def test_natoms_must_be_an_integer():
    with pytest.raises(TypeError):
        westream.Producer(2.5, "/nonexistent/x.sock")


@pytest.mark.parametrize("nslots", [-1, 1025])
def test_bad_nslots(nslots):
    with pytest.raises(ValueError, match="nslots"):
        westream.Producer(3, "/nonexistent/x.sock", nslots=nslots)


def test_bad_units():
    with pytest.raises(ValueError, match="units must be one of 'angstrom', 'nm'"):
        westream.Producer(3, "/nonexistent/x.sock", units="bohr")


def test_missing_address_is_a_channel_error(monkeypatch):
    monkeypatch.delenv("WESTREAM_ADDRESS", raising=False)
    with pytest.raises(westream.ChannelError) as info:
        westream.Producer(3)
    assert type(info.value) is westream.ChannelError
    assert "WESTREAM_ADDRESS is not set" in str(info.value)
    assert info.value.status_name == "WESTREAM_E_NO_ADDRESS" and info.value.status == -2


def test_empty_environment_address(monkeypatch):
    monkeypatch.setenv("WESTREAM_ADDRESS", "")
    with pytest.raises(westream.ChannelError, match="WESTREAM_ADDRESS"):
        westream.Producer(3)


def test_nonexistent_socket_is_a_connect_error(sock_path):
    with pytest.raises(westream.ConnectError) as info:
        westream.Producer(3, sock_path)
    msg = str(info.value)
    assert sock_path in msg and "No such file or directory" in msg
    assert info.value.status_name == "WESTREAM_E_CONNECT"


def test_stale_socket_is_a_connect_error(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(sock_path)  # bound, never listening: ECONNREFUSED
    try:
        with pytest.raises(westream.ConnectError, match="Connection refused"):
            westream.Producer(3, sock_path)
    finally:
        s.close()


def test_address_too_long():
    with pytest.raises(ValueError, match="limit for a Unix socket"):
        westream.Producer(3, "/tmp/" + "x" * 200)


def test_address_from_environment(sock_path, consumer, monkeypatch):
    c = consumer()
    monkeypatch.setenv("WESTREAM_ADDRESS", sock_path)
    with westream.Producer(2) as p:
        p.send(np.zeros((2, 3)))
    c.join()
    assert c.end_frames == 1 and len(c.frames) == 1


def test_pathlike_and_abstract_addresses(sock_path, consumer):
    import pathlib

    c = consumer()
    with westream.Producer(1, pathlib.Path(sock_path)) as p:
        p.send([1.0, 2.0, 3.0])
    c.join()
    assert c.end_frames == 1

    name = "@westream-test-%s" % uuid.uuid4().hex
    from fake_consumer import FakeConsumer

    with FakeConsumer(name) as c2:
        with westream.Producer(1, name) as p:
            p.send([4.0, 5.0, 6.0])
        c2.join()
    assert_same_bits(c2.frames[0].positions, np.array([[4, 5, 6]], np.float32))


# ------------------------------------------------------------------ streaming


def test_round_trip_bit_exact(sock_path, consumer):
    n = 37
    c = consumer()
    frames = [xyz(n, seed=i) for i in range(5)]
    boxes = [[10.0 + i, 11.0, 12.5] for i in range(5)]
    with westream.Producer(n, sock_path) as p:
        assert p.natoms == n and p.nslots == 8 and p.frames == 0
        for i, pos in enumerate(frames):
            assert p.send(pos, box=boxes[i], step=100 * i, time=0.5 * i) == i
        assert p.frames == 5
    c.join()
    assert c.hello[:3] == (n, POSITIONS, 0) and c.hello[3] == os.getpid()
    assert c.end_frames == 5 and len(c.frames) == 5 and not c.hung_up
    for i, f in enumerate(c.frames):
        assert f.seq == i and f.natoms == n
        assert f.flags == HAS_STEP | HAS_TIME | HAS_BOX
        assert f.step == 100 * i and f.time == 0.5 * i
        assert_same_bits(f.positions, frames[i])
        assert_same_bits(f.box, np.array([10.0 + i, 0, 11.0, 0, 0, 12.5], np.float32))
        assert f.velocities is None and f.forces is None
    assert p.closed and p.ended and p.frames == 5


def test_ring_header_matches_layout(sock_path, consumer):
    c = consumer(nslots=3)
    with westream.Producer(1000, sock_path, velocities=True, forces=True, nslots=3) as p:
        assert p.nslots == 3
    c.join()
    offsets, stride, ring_bytes = compute_layout(1000, POSITIONS | VELOCITIES | FORCES, 3)
    # 12000 bytes per array rounded to 64: 12032; slot = 64 + 3 * 12032 -> 36160 -> 36864 (9 pages).
    assert offsets == [64, 64 + 12032, 64 + 2 * 12032] and stride == 36864 and ring_bytes == 4096 + 3 * 36864
    assert c.hello[1] == POSITIONS | VELOCITIES | FORCES and c.hello[2] == 3
    assert c.end_frames == 0


def test_optional_fields_absent(sock_path, consumer):
    c = consumer()
    with westream.Producer(2, sock_path) as p:
        p.send(np.ones((2, 3)))
        p.send(np.ones(6), step=-5)
        p.send(np.ones(6), time=1e300)
    c.join()
    assert [f.flags for f in c.frames] == [0, HAS_STEP, HAS_TIME]
    assert c.frames[1].step == -5 and c.frames[2].time == 1e300


def test_flat_and_float64_positions(sock_path, consumer):
    n = 11
    c = consumer()
    pos64 = xyz(n, seed=3, dtype=np.float64) + 1e-9  # not representable in float32
    with westream.Producer(n, sock_path) as p:
        p.send(pos64.ravel())
        p.send(pos64.T.copy().T)  # Fortran order
        p.send(pos64.astype(np.float16))
        p.send(np.arange(3 * n, dtype=np.int64).reshape(n, 3))
        p.send(pos64.tolist())
    c.join()
    ref = pos64.astype(np.float32)
    assert_same_bits(c.frames[0].positions, ref)
    assert_same_bits(c.frames[1].positions, ref)
    assert_same_bits(c.frames[2].positions, pos64.astype(np.float16).astype(np.float32))
    assert_same_bits(c.frames[3].positions, np.arange(3 * n, dtype=np.float32).reshape(n, 3))
    assert_same_bits(c.frames[4].positions, ref)


def test_non_finite_values_pass_bit_exact(sock_path, consumer):
    c = consumer()
    pos = np.array([[np.nan, np.inf, -np.inf], [-0.0, 1e-45, 3.4e38]], dtype=np.float32)
    payload_nan = np.array([0x7FC12345], dtype=np.uint32).view(np.float32)[0]
    pos[1, 1] = payload_nan
    with westream.Producer(2, sock_path) as p:
        p.send(pos)
        p.send(np.array([[1e39, -1e39, np.nan]] * 2, dtype=np.float64))  # overflow -> inf, no warning
    c.join()
    assert_same_bits(c.frames[0].positions, pos)
    assert np.isposinf(c.frames[1].positions[0, 0]) and np.isneginf(c.frames[1].positions[0, 1])
    assert np.isnan(c.frames[1].positions[0, 2])


@pytest.mark.parametrize(
    "bad, shape",
    [(np.zeros((4, 3)), "(4, 3)"), (np.zeros((5, 2)), "(5, 2)"), (np.zeros(14), "(14,)"), (np.zeros((5, 3, 1)), "(5, 3, 1)")],
)
def test_wrong_shape_names_expected_and_actual(sock_path, consumer, bad, shape):
    c = consumer()
    with westream.Producer(5, sock_path) as p:
        with pytest.raises(ValueError) as info:
            p.send(bad)
        msg = str(info.value)
        assert "positions" in msg and "(5, 3)" in msg and "(15,)" in msg and shape in msg
        assert p.frames == 0
        p.send(np.zeros((5, 3)))  # the failed call left nothing acquired
    c.join()
    assert c.end_frames == 1


def test_bad_dtypes_and_values(sock_path, consumer):
    c = consumer()
    with westream.Producer(1, sock_path) as p:
        with pytest.raises(TypeError, match="real numeric"):
            p.send(np.array([["a", "b", "c"]]))
        with pytest.raises(TypeError, match="real numeric"):
            p.send(np.array([1 + 2j, 0, 0]))
        with pytest.raises(TypeError):
            p.send(np.zeros(3), step=1.5)
        with pytest.raises(ValueError, match="lower-triangular"):
            p.send(np.zeros(3), box=[[1, 1, 0], [0, 1, 0], [0, 0, 1]])
        assert p.frames == 0
    c.join()
    assert c.end_frames == 0


def test_velocities_and_forces_need_to_be_enabled(sock_path, consumer):
    c = consumer()
    with westream.Producer(2, sock_path, velocities=True) as p:
        with pytest.raises(ValueError, match="forces=True"):
            p.send(np.zeros((2, 3)), forces=np.zeros((2, 3)))
        p.send(np.ones((2, 3)), velocities=np.full((2, 3), 2.0))
        p.send(np.ones((2, 3)))  # velocities omitted: zeros
        with pytest.raises(ValueError, match=r"velocities must have shape \(2, 3\)"):
            p.send(np.ones((2, 3)), velocities=np.ones((3, 3)))
    c.join()
    assert c.hello[1] == POSITIONS | VELOCITIES
    assert c.frames[0].forces is None
    assert_same_bits(c.frames[0].velocities, np.full((2, 3), 2.0, np.float32))
    assert_same_bits(c.frames[1].velocities, np.zeros((2, 3), np.float32))


def test_velocities_rejected_when_disabled(sock_path, consumer):
    c = consumer()
    with westream.Producer(2, sock_path) as p:
        with pytest.raises(ValueError, match="velocities=True"):
            p.send(np.zeros((2, 3)), velocities=np.zeros((2, 3)))
    c.join()


def test_nm_units_conversion_numbers(sock_path, consumer):
    n = 500
    rng = np.random.default_rng(7)
    pos = rng.uniform(0, 5, (n, 3))  # nm, float64
    vel = rng.normal(0, 0.5, (n, 3))  # nm/ps
    frc = rng.normal(0, 800, (n, 3))  # kJ/mol/nm
    box = np.array([[4.5, 0, 0], [1.2, 4.1, 0], [-0.7, 1.3, 3.9]])  # nm
    c = consumer()
    with westream.Producer(n, sock_path, velocities=True, forces=True, units="nm") as p:
        assert p.units == "nm"
        p.send(pos, box=box, velocities=vel, forces=frc)
        p.send(pos.astype(np.float32), box=[4.5, 4.1, 3.9], velocities=vel.astype(np.float32),
               forces=frc.astype(np.float32))
    c.join()
    f0, f1 = c.frames
    assert_same_bits(f0.positions, (pos * 10.0).astype(np.float32))
    assert_same_bits(f0.velocities, (vel * 10.0).astype(np.float32))
    assert_same_bits(f0.forces, (frc / 10.0).astype(np.float32))
    assert_same_bits(f0.box, (np.array([4.5, 1.2, 4.1, -0.7, 1.3, 3.9]) * 10.0).astype(np.float32))
    # float32 input: widened exactly, scaled in float64, rounded once.
    p32 = pos.astype(np.float32)
    assert_same_bits(f1.positions, (p32.astype(np.float64) * 10.0).astype(np.float32))
    assert_same_bits(f1.forces, (frc.astype(np.float32).astype(np.float64) / 10.0).astype(np.float32))
    assert_same_bits(f1.box, np.array([45, 0, 41, 0, 0, 39], np.float32))
    # The numbers themselves: 1 nm is 10 A, 1 kJ/mol/nm is 0.1 kJ/mol/A.
    np.testing.assert_allclose(f0.positions, pos * 10, rtol=1e-6)
    np.testing.assert_allclose(f0.forces, frc * 0.1, rtol=1e-6)
    # And the float64 path differs from float32-then-scale for some values (the order is pinned).
    assert not np.array_equal(f0.positions, pos.astype(np.float32) * np.float32(10))


def test_angstrom_units_are_untouched(sock_path, consumer):
    c = consumer()
    frc = xyz(4, seed=9)
    with westream.Producer(4, sock_path, forces=True, units="angstrom") as p:
        p.send(xyz(4, seed=8), forces=frc, box=[[3, 0, 0], [1, 3, 0], [1, 1, 3]])
    c.join()
    assert_same_bits(c.frames[0].positions, xyz(4, seed=8))
    assert_same_bits(c.frames[0].forces, frc)
    assert_same_bits(c.frames[0].box, np.array([3, 1, 3, 1, 1, 3], np.float32))


def test_box_forms_on_the_wire(sock_path, consumer):
    c = consumer()
    with westream.Producer(1, sock_path) as p:
        p.send(np.zeros(3), box=[20.0, 30.0, 40.0])
        p.send(np.zeros(3), box=[20.0, 30.0, 40.0, 90, 90, 90])
        p.send(np.zeros(3), box=[20.0, 20.0, 20.0, 60, 60, 90])
        p.send(np.zeros(3), box=np.diag([20.0, 30.0, 40.0]))
    c.join()
    ortho = np.array([20, 0, 30, 0, 0, 40], np.float32)
    assert_same_bits(c.frames[0].box, ortho)
    assert_same_bits(c.frames[1].box, ortho)
    assert_same_bits(c.frames[3].box, ortho)
    np.testing.assert_allclose(c.frames[2].box, [20, 0, 20, 10, 10, 20 * np.sqrt(0.5)], rtol=1e-6, atol=1e-5)


# ------------------------------------------------------------------ frame()


def test_frame_fast_path_writes_in_place(sock_path, consumer):
    n = 64
    c = consumer()
    with westream.Producer(n, sock_path, velocities=True) as p:
        for i in range(3):
            with p.frame() as f:
                assert f.index == i
                assert f.positions.shape == (n, 3) and f.positions.dtype == np.float32
                assert f.positions.flags.c_contiguous and f.positions.flags.writeable
                assert f.forces is None
                f.positions[:] = xyz(n, seed=i)
                f.velocities[:] = i
                f.step, f.time, f.box = i * 10, i * 0.002, [5, 6, 7]
            assert f.positions is None  # views dropped after publishing
        assert p.frames == 3
    c.join()
    for i, fr in enumerate(c.frames):
        assert_same_bits(fr.positions, xyz(n, seed=i))
        assert_same_bits(fr.velocities, np.full((n, 3), i, np.float32))
        assert (fr.step, fr.time, fr.flags) == (i * 10, i * 0.002, HAS_STEP | HAS_TIME | HAS_BOX)
        assert_same_bits(fr.box, np.array([5, 0, 6, 0, 0, 7], np.float32))


def test_frame_views_are_the_slot_memory(sock_path, consumer):
    c = consumer(nslots=2)
    with westream.Producer(4, sock_path) as p:
        with p.frame() as f:
            base = f.positions.__array_interface__["data"][0]
            f.positions[:] = 1
        with p.frame() as g:
            g.positions[:] = 2
            assert g.positions.__array_interface__["data"][0] != base
        with p.frame() as h:  # slot 0 again (2 slots)
            assert h.positions.__array_interface__["data"][0] == base
            h.positions[:] = 3
    c.join()
    assert [float(fr.positions[0, 0]) for fr in c.frames] == [1, 2, 3]


def test_frame_exception_publishes_nothing_and_reuses_the_slot(sock_path, consumer):
    c = consumer()
    with westream.Producer(2, sock_path) as p:
        with pytest.raises(KeyError):
            with p.frame() as f:
                f.positions[:] = 99
                raise KeyError("engine failed")
        assert p.frames == 0 and f.positions is None
        with pytest.raises(ValueError, match="never published"):
            p.end()
        with p.frame() as g:
            assert g.index == 0
            g.positions[:] = 7
        p.send(np.full((2, 3), 8.0))
    c.join()
    assert c.end_frames == 2
    assert [float(fr.positions[1, 2]) for fr in c.frames] == [7, 8]


def test_nested_frame_is_an_error(sock_path, consumer):
    c = consumer()
    with westream.Producer(1, sock_path) as p:
        with p.frame() as f:
            f.positions[:] = 0
            with pytest.raises(RuntimeError, match="already acquired"):
                p.frame()
            with pytest.raises(RuntimeError, match="already acquired"):
                p.send(np.zeros(3))
    c.join()
    assert c.end_frames == 1


def test_views_outliving_close_do_not_crash(sock_path, consumer):
    c = consumer()
    p = westream.Producer(8, sock_path)
    with p.frame() as f:
        kept = f.positions
        kept[:] = 5
    assert p._ch.exports == 1
    p.end()
    p.close()
    # The ring is gone; the stale view now sees an anonymous zero page instead of faulting.
    assert kept.sum() == 0.0
    kept[:] = 1  # writable, harmless
    ch = p._ch
    del kept, f
    gc.collect()
    assert ch.exports == 0
    c.join()
    assert_same_bits(c.frames[0].positions, np.full((8, 3), 5, np.float32))


# ------------------------------------------------------------ life cycle


def test_exit_with_exception_closes_without_end(sock_path, consumer):
    c = consumer()
    with pytest.raises(RuntimeError, match="engine blew up"):
        with westream.Producer(3, sock_path) as p:
            p.send(np.zeros((3, 3)))
            p.send(np.zeros((3, 3)))
            raise RuntimeError("engine blew up")
    c.join()
    assert p.closed and not p.ended
    assert c.hung_up and c.end_frames is None and len(c.frames) == 2


def test_end_close_idempotence_and_use_after_close(sock_path, consumer):
    c = consumer()
    p = westream.Producer(3, sock_path)
    p.send(np.zeros((3, 3)))
    p.end()
    p.end()
    with pytest.raises(ValueError, match="ended"):
        p.send(np.zeros((3, 3)))
    p.close()
    p.close()
    assert p.frames == 1 and p.nslots == 8 and p.closed
    with pytest.raises(ValueError, match="closed"):
        p.send(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="closed"):
        p.frame()
    assert "closed" in repr(p)
    c.join()
    assert c.end_frames == 1


def test_close_without_end_is_incomplete(sock_path, consumer):
    c = consumer()
    p = westream.Producer(3, sock_path)
    p.send(np.zeros((3, 3)))
    p.close()
    with pytest.raises(ValueError, match="closed"):
        p.end()
    c.join()
    assert c.hung_up and c.end_frames is None and len(c.frames) == 1


def test_flow_control_with_a_slow_consumer(sock_path, consumer):
    n, count = 100, 30
    c = consumer(nslots=2, read_delay=0.003)
    with westream.Producer(n, sock_path, nslots=2) as p:
        assert p.nslots == 2
        for i in range(count):
            p.send(xyz(n, seed=i), step=i)
    c.join()
    assert c.end_frames == count and len(c.frames) == count
    assert c.max_outstanding <= 2
    for i, fr in enumerate(c.frames):
        assert fr.step == i
        assert_same_bits(fr.positions, xyz(n, seed=i))


# ---------------------------------------------------------- consumer failures


def test_consumer_error_at_setup_is_refused(sock_path, consumer):
    consumer(reply="error", error_text="atom count 3 does not match the topology (2)")
    with pytest.raises(westream.Refused) as info:
        westream.Producer(3, sock_path)
    assert "atom count 3 does not match the topology (2)" in str(info.value)
    assert info.value.status == -4


@pytest.mark.parametrize(
    "reply, pattern",
    [
        ("garbage", "invalid 32-byte set-up message"),
        ("unsealed", "not sealed against shrinking"),
        ("wrong_natoms", "consumer set up 4 atoms"),
    ],
)
def test_consumer_protocol_errors(sock_path, consumer, reply, pattern):
    consumer(reply=reply)
    with pytest.raises(westream.ProtocolError, match=pattern):
        westream.Producer(3, sock_path)


def test_silent_consumer_times_out(sock_path, consumer, monkeypatch):
    monkeypatch.setenv("WESTREAM_CONNECT_TIMEOUT", "0.3")
    c = consumer(reply="none")
    t0 = time.monotonic()
    with pytest.raises(westream.ConnectError, match="did not answer"):
        westream.Producer(3, sock_path)
    assert 0.25 < time.monotonic() - t0 < 5
    c.stop.set()


def _blocked_send(p, n):
    """Sends until the ring is full; returns when the next send would block."""
    for _ in range(p.nslots):
        p.send(np.zeros((n, 3)))


def test_consumer_gone_while_blocked_on_a_full_ring(sock_path, consumer):
    c = consumer(nslots=2, consume=False)
    p = westream.Producer(4, sock_path)
    _blocked_send(p, 4)
    assert p.frames == 2

    # A Python thread keeps running while the producer waits: the GIL is released.
    ticks = [0]
    stop_ticking = threading.Event()

    def tick():
        while not stop_ticking.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    timer = threading.Timer(0.5, c.stop.set)
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(westream.ConsumerGone) as info:
            p.send(np.zeros((4, 3)))
        t1 = time.monotonic()
    finally:
        stop_ticking.set()
        ticker.join()
        timer.cancel()
    assert t1 - t0 >= 0.4, "send should have blocked until the consumer hung up"
    assert c.closed_at is not None and t1 - c.closed_at < 1.0
    assert ticks[0] > 50
    assert "consumer closed the channel after 2 frames" in str(info.value)
    assert info.value.status_name == "WESTREAM_E_CONSUMER_GONE"
    # The failure sticks.
    with pytest.raises(westream.ConsumerGone):
        p.send(np.zeros((4, 3)))
    with pytest.raises(westream.ConsumerGone):
        p.end()
    p.close()
    assert p.frames == 2


def test_consumer_error_mid_stream(sock_path, consumer):
    c = consumer(nslots=2, stop_after=3, stop_action="error", error_text="disk full")
    deadline = time.monotonic() + 10
    with pytest.raises(westream.ConsumerGone, match="consumer stopped the stream: disk full"):
        with westream.Producer(2, sock_path, nslots=2) as p:
            while time.monotonic() < deadline:
                p.send(np.zeros((2, 3)))
    c.join()
    assert 3 <= p.frames <= 5  # 3 read, at most 2 more fit in the ring
    assert c.end_frames is None


def test_calls_from_another_thread_while_blocked(sock_path, consumer):
    c = consumer(nslots=1, consume=False)
    p = westream.Producer(2, sock_path)
    _blocked_send(p, 2)
    errors = []

    def blocked():
        try:
            p.send(np.zeros((2, 3)))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.2)
    assert t.is_alive()
    with pytest.raises(RuntimeError, match="another thread"):
        p._ch.send(np.zeros((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="another thread"):
        p.close()
    c.stop.set()
    t.join(5)
    assert not t.is_alive() and len(errors) == 1 and isinstance(errors[0], westream.ConsumerGone)
    p.close()


# ------------------------------------------------------------ the extension


def test_extension_send_checks_buffer_sizes(sock_path, consumer):
    c = consumer()
    ch = _producer.Channel(3, sock_path, _producer.POSITIONS | _producer.FORCES, 0)
    assert (ch.natoms, ch.nslots, ch.frames, ch.content) == (3, 8, 0, POSITIONS | FORCES)
    z32 = np.zeros(9, np.float32)
    with pytest.raises(ValueError, match="positions must be 3 x 3 float32 or float64 values \\(36 or 72 bytes\\), got 32 bytes"):
        ch.send(np.zeros(8, np.float32))
    with pytest.raises(ValueError, match="positions must be .* got 36 bytes of 'B'"):
        ch.send(b"\0" * 36)  # untyped bytes: the element type must be known
    with pytest.raises(ValueError, match="forces must be"):
        ch.send(z32, forces=np.zeros(10, np.float32))
    with pytest.raises(ValueError, match="box must be 6 float32"):
        ch.send(z32, box=np.zeros(6, np.float64))
    with pytest.raises(ValueError, match="not opened with velocities"):
        ch.send(z32, velocities=z32)
    with pytest.raises(ValueError, match="factors must each be 1, 10 or 0.1"):
        ch.send(z32, factors=(1.0, 2.0, 1.0))
    pos = xyz(3, seed=1)
    assert ch.send(pos, forces=memoryview(pos.copy()), box=np.arange(6, dtype=np.float32), step=9,
                   time=0.25) == 0
    assert ch.send(memoryview(pos)) == 1  # forces omitted: zeros
    # acquire / publish directly, with memoryviews of the slot
    index, mv, vel, frc = ch.acquire()
    assert index == 2 and vel is None and isinstance(mv, memoryview) and len(mv) == 36 and not mv.readonly
    assert ch.acquire()[0] == 2  # same slot again until published
    np.frombuffer(mv, np.float32)[:] = 4.0
    np.frombuffer(frc, np.float32)[:] = -1.0
    with pytest.raises(ValueError, match="while a frame is acquired"):
        ch.send(pos)
    assert ch.publish(step=3) == 2
    with pytest.raises(ValueError, match="publish without an acquired frame"):
        ch.publish()
    del mv, frc
    ch.end()
    ch.close()
    assert ch.closed and ch.frames == 0
    c.join()
    assert c.end_frames == 3
    f0, f1, f2 = c.frames
    assert_same_bits(f0.positions, pos)
    assert_same_bits(f0.forces, pos)
    assert_same_bits(f0.box, np.arange(6, dtype=np.float32))
    assert (f0.step, f0.time, f0.flags) == (9, 0.25, HAS_STEP | HAS_TIME | HAS_BOX)
    assert f1.flags == 0 and not f1.forces.any()
    assert_same_bits(f2.positions, np.full((3, 3), 4.0, np.float32))
    assert_same_bits(f2.forces, np.full((3, 3), -1.0, np.float32))
    assert (f2.flags, f2.step) == (HAS_STEP, 3)


def test_status_names():
    assert _producer.status_name(-6) == "WESTREAM_E_CONSUMER_GONE"
    assert _producer.status_name(0) == "WESTREAM_OK"
    assert _producer.status_name(-99) == "WESTREAM_E_UNKNOWN"


@pytest.mark.parametrize(
    "args, pattern",
    [((-1,), "natoms must be between 1 and 67108864, got -1"), ((3, "/x", 1, 1025), "nslots must be between 0"),
     ((3, "/x", 8), "unknown content bits"), ((3, "/a\0b"), "null byte")],
)
def test_extension_rejects_bad_arguments(args, pattern):
    with pytest.raises(ValueError, match=pattern):
        _producer.Channel(*args)


# ------------------------------------------------- send(wait=False)


def test_background_send_is_bit_exact_and_in_order(sock_path, consumer):
    n = 300
    rng = np.random.default_rng(11)
    frames = [(rng.uniform(0, 5, (n, 3)), rng.normal(0, 800, (n, 3))) for _ in range(40)]
    c = consumer(read_delay=0.001)  # a slow consumer: the background thread waits on a full ring
    with westream.Producer(n, sock_path, forces=True, units="nm", nslots=2) as p:
        for i, (pos, frc) in enumerate(frames):
            assert p.send(pos, forces=frc, step=i, time=0.5 * i, box=[4, 4, 4], wait=False) == i
        assert p.frames == 40  # waits for the frame in flight
    c.join()
    assert c.end_frames == 40 and [f.step for f in c.frames] == list(range(40))
    for f, (pos, frc) in zip(c.frames, frames):
        assert_same_bits(f.positions, (pos * 10.0).astype(np.float32))
        assert_same_bits(f.forces, (frc / 10.0).astype(np.float32))
        assert f.flags == HAS_STEP | HAS_TIME | HAS_BOX


def test_background_send_keeps_the_array_alive(sock_path, consumer):
    c = consumer(nslots=1, consume=False)
    p = westream.Producer(3, sock_path)
    p.send(xyz(3, seed=1))  # the ring is full now
    pos = xyz(3, seed=2)
    p.send(pos, wait=False)  # waits in the background thread
    del pos
    gc.collect()  # the buffer the background thread reads must survive this
    c.consume = True  # the consumer starts reading
    p.end()
    p.close()
    c.join()
    assert_same_bits(c.frames[1].positions, xyz(3, seed=2))


def test_background_send_failure_is_raised_by_the_next_call(sock_path, consumer):
    c = consumer(nslots=1, consume=False)
    p = westream.Producer(2, sock_path)
    p.send(np.zeros((2, 3)))
    p.send(np.ones((2, 3)), wait=False)  # blocks in the background: the ring is full
    time.sleep(0.2)
    c.stop.set()  # the consumer hangs up
    with pytest.raises(westream.ConsumerGone, match="consumer closed the channel after 1 frames"):
        p.send(np.ones((2, 3)), wait=False)
    with pytest.raises(westream.ConsumerGone):
        p.end()
    p.close()
    assert p.closed


def test_close_after_background_send_leaves_nothing_running(sock_path, consumer):
    c = consumer()
    p = westream.Producer(5, sock_path)
    for _ in range(3):
        p.send(xyz(5), wait=False)
    p.close()  # no end(): incomplete, but the frame in flight went out first
    c.join()
    assert len(c.frames) == 3 and c.end_frames is None and c.hung_up
    assert threading.active_count() == 1 + sum(t.daemon for t in threading.enumerate())


@pytest.mark.parametrize("wait", [True, False])
def test_ctrl_c_while_waiting_on_a_full_ring(sock_path, consumer, wait):
    import signal

    c = consumer(nslots=1, consume=False)
    p = westream.Producer(2, sock_path)
    p.send(np.zeros((2, 3)))  # the ring is full
    if not wait:
        p.send(np.ones((2, 3)), wait=False)  # in flight: its thread waits for a slot
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        p.send(np.full((2, 3), 2.0), wait=wait)
    assert time.monotonic() - t0 < 2.0
    timer.join()
    c.consume = True  # the producer is still usable: the frames go out in order
    p.send(np.full((2, 3), 3.0))
    p.end()
    p.close()
    c.join()
    assert [float(f.positions[0, 0]) for f in c.frames] == ([0.0, 3.0] if wait else [0.0, 1.0, 3.0])
