"""A minimal westream consumer in pure Python, for tests.

It follows include/westream_wire.h (protocol version 1) exactly: listens on an
AF_UNIX SOCK_SEQPACKET socket, answers HELLO with SETUP plus three fds (a
memfd sealed with F_SEAL_SHRINK | F_SEAL_GROW holding the ring, the "data"
eventfd and the "space" eventfd), then reads frames out of the ring, copying
every slot it sees, and records END.

Everything runs on one background thread of the test process. Ordering with
the producer relies on x86-64/aarch64 aligned 8-byte loads/stores being
single-copy atomic; wake-ups are made robust by always signalling the space
eventfd after a release and by polling with a short timeout.
"""

import ctypes
import fcntl
import mmap
import os
import select
import socket
import struct
import threading
import time

import numpy as np

# ---------------------------------------------------------------- wire layout
PROTOCOL_VERSION = 1
MSG_MAGIC = 0x4D545357  # "WSTM"
RING_MAGIC = 0x474E49524D545357  # "WSTMRING"
POSITIONS, VELOCITIES, FORCES = 1, 2, 4
CONTENT_ALL = 7
HAS_STEP, HAS_TIME, HAS_BOX = 1, 2, 4
MSG_HELLO, MSG_SETUP, MSG_END, MSG_ERROR = 1, 2, 3, 4
MAX_ATOMS = 1 << 26
MAX_SLOTS = 1024
DEFAULT_SLOTS = 8
ERROR_TEXT = 240
RING_HEADER_BYTES = 4096
SLOT_HEADER_BYTES = 64
SLOT_ALIGN = 4096

HEADER = struct.Struct("=IHH")  # magic, version, type
HELLO = struct.Struct("=IHHIIIi")  # + natoms, content, nslots, pid
SETUP = struct.Struct("=IHHIIIIQ")  # + natoms, content, nslots, reserved, ring_bytes
END = struct.Struct("=IHHQ")  # + frames
ERROR = struct.Struct("=IHHi%ds" % ERROR_TEXT)  # + code, text
RING_STATIC = struct.Struct("=QIIIIQQ3Q")  # magic version natoms content nslots stride slots_offset array_offset[3]
SLOT_HEADER = struct.Struct("=QqdII6f")  # seq step time flags natoms box[6]
OFF_PUBLISHED = 128
OFF_CONSUMER_WAITING = 136
OFF_RELEASED = 256
OFF_PRODUCER_WAITING = 264

assert HELLO.size == 24 and SETUP.size == 32 and END.size == 16 and ERROR.size == 252
assert RING_STATIC.size == 64 and SLOT_HEADER.size == 56


def round_up(v, a):
    return (v + a - 1) // a * a


def compute_layout(natoms, content, nslots):
    """westream_compute_layout (native/channel/ring_layout.h):
    (array_offset[3], slot_stride, ring_bytes), or None outside the limits."""
    if not (0 < natoms <= MAX_ATOMS) or not (1 <= nslots <= MAX_SLOTS):
        return None
    if not content & POSITIONS or content & ~CONTENT_ALL:
        return None
    array_bytes = round_up(natoms * 12, 64)
    offset = SLOT_HEADER_BYTES
    offsets = []
    for i in range(3):
        if content & (1 << i):
            offsets.append(offset)
            offset += array_bytes
        else:
            offsets.append(0)
    stride = round_up(offset, SLOT_ALIGN)
    return offsets, stride, RING_HEADER_BYTES + stride * nslots


def _eventfd():
    if hasattr(os, "eventfd"):  # Python >= 3.10
        return os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.eventfd(0, 0o2000000 | 0o4000)  # EFD_CLOEXEC | EFD_NONBLOCK
    if fd < 0:
        raise OSError(ctypes.get_errno(), "eventfd")
    return fd


def _eventfd_signal(fd):
    try:
        os.write(fd, struct.pack("=Q", 1))
    except BlockingIOError:
        pass


def _eventfd_drain(fd):
    try:
        os.read(fd, 8)
    except BlockingIOError:
        pass


def error_message(text, code=-4):
    raw = text.encode()[: ERROR_TEXT - 1]
    return ERROR.pack(MSG_MAGIC, PROTOCOL_VERSION, MSG_ERROR, code, raw)


class Frame:
    """One frame as the consumer read it out of the ring (copies)."""

    def __init__(self, seq, step, time, flags, natoms, box, positions, velocities, forces):
        self.seq, self.step, self.time, self.flags, self.natoms = seq, step, time, flags, natoms
        self.box = box
        self.positions, self.velocities, self.forces = positions, velocities, forces


class FakeConsumer:
    """Serves exactly one producer connection on a background thread.

    reply: "setup" (normal), "error" (refuse with ERROR `error_text`),
           "none" (read HELLO, never answer), "garbage" (a 32-byte message
           with a bad magic), "unsealed" (SETUP with a memfd that is not
           sealed), "wrong_natoms" (SETUP for natoms + 1).
    nslots: ring depth to grant (None: the producer's request, or 8).
    consume: read and release frames (False: never release, the ring fills).
    stop_after: after reading this many frames, do `stop_action`:
           "close" (hang up without a word) or "error" (send ERROR, keep the
           socket open until the producer closes).
    """

    def __init__(self, address, *, reply="setup", nslots=None, consume=True, stop_after=None,
                 stop_action="close", error_text="no thanks", read_delay=0.0, timeout=20.0):
        self.address = str(address)
        self.reply = reply
        self.grant_nslots = nslots
        self.consume = consume
        self.stop_after = stop_after
        self.stop_action = stop_action
        self.error_text = error_text
        self.read_delay = read_delay
        self.timeout = timeout
        self.hello = None  # (natoms, content, nslots, pid)
        self.layout = None
        self.nslots = None
        self.frames = []
        self.end_frames = None  # from END
        self.hung_up = False  # the producer closed the socket
        self.closed_at = None  # time.monotonic() when we hung up on the producer
        self.error = None  # exception in the consumer thread
        self.ring_header = None
        self.max_outstanding = 0  # most frames published but not yet released
        self.stop = threading.Event()  # ask the thread to hang up now
        self.ready = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        bind_to = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        self._listener.bind(bind_to)
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._run, name="fake-consumer", daemon=True)

    # ------------------------------------------------------------- control
    def start(self):
        self._thread.start()
        return self

    def join(self, timeout=10.0):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("fake consumer did not finish")
        if self.error is not None:
            raise self.error

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop.set()
        self._thread.join(10.0)
        self._listener.close()
        if not self.address.startswith("@"):
            try:
                os.unlink(self.address)
            except FileNotFoundError:
                pass
        return False

    # ------------------------------------------------------------- serving
    def _run(self):
        try:
            self._listener.settimeout(self.timeout)
            conn, _ = self._listener.accept()
            try:
                self._serve(conn)
            finally:
                if self.closed_at is None:
                    conn.close()
        except BaseException as e:  # reported by join()
            self.error = e

    def _serve(self, conn):
        conn.settimeout(self.timeout)
        msg = conn.recv(1024)
        magic, version, mtype, natoms, content, nslots, pid = HELLO.unpack(msg)
        if (magic, version, mtype) != (MSG_MAGIC, PROTOCOL_VERSION, MSG_HELLO):
            raise AssertionError("bad HELLO %r" % (msg,))
        self.hello = (natoms, content, nslots, pid)
        if self.reply == "error":
            conn.send(error_message(self.error_text))
            return
        if self.reply == "none":
            self.stop.wait(self.timeout)
            return
        if self.reply == "garbage":
            conn.send(b"\x00" * SETUP.size)
            self.stop.wait(self.timeout)
            return
        grant = self.grant_nslots or nslots or DEFAULT_SLOTS
        setup_natoms = natoms + 1 if self.reply == "wrong_natoms" else natoms
        layout = compute_layout(setup_natoms, content, grant)
        offsets, stride, ring_bytes = layout
        self.layout, self.nslots = layout, grant

        memfd = os.memfd_create("westream-test-ring", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        data_fd = _eventfd()
        space_fd = _eventfd()
        try:
            os.ftruncate(memfd, ring_bytes)
            ring = mmap.mmap(memfd, ring_bytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            RING_STATIC.pack_into(ring, 0, RING_MAGIC, PROTOCOL_VERSION, setup_natoms, content, grant, stride,
                                  RING_HEADER_BYTES, *offsets)
            if self.reply != "unsealed":
                fcntl.fcntl(memfd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
            self.ring_header = bytes(ring[:RING_HEADER_BYTES])
            setup = SETUP.pack(MSG_MAGIC, PROTOCOL_VERSION, MSG_SETUP, setup_natoms, content, grant, 0, ring_bytes)
            socket.send_fds(conn, [setup], [memfd, data_fd, space_fd])
        finally:
            os.close(memfd)  # our mapping keeps the memory
        try:
            self.ready.set()
            self._read_frames(conn, ring, natoms, content, offsets, stride, grant, data_fd, space_fd)
        finally:
            os.close(data_fd)
            os.close(space_fd)
            try:
                ring.close()
            except BufferError:
                pass

    def _hang_up(self, conn):
        conn.close()
        self.closed_at = time.monotonic()

    def _read_frames(self, conn, ring, natoms, content, offsets, stride, nslots, data_fd, space_fd):
        words = np.frombuffer(ring, dtype=np.uint64, count=RING_HEADER_BYTES // 8)
        published_i, released_i = OFF_PUBLISHED // 8, OFF_RELEASED // 8
        waiting32 = np.frombuffer(ring, dtype=np.uint32, count=RING_HEADER_BYTES // 4)
        cw_i = OFF_CONSUMER_WAITING // 4
        seen = 0
        deadline = time.monotonic() + self.timeout
        stopped = False
        try:
            while True:
                if self.stop.is_set():
                    self._hang_up(conn)
                    return
                if time.monotonic() > deadline:
                    raise AssertionError("fake consumer timed out after %d frames" % seen)
                published = int(words[published_i])
                self.max_outstanding = max(self.max_outstanding, published - seen)
                if self.consume and not stopped:
                    while seen < published:
                        if self.read_delay:
                            time.sleep(self.read_delay)
                        self.frames.append(self._read_slot(ring, seen, natoms, content, offsets, stride, nslots))
                        seen += 1
                        words[released_i] = seen  # release-store (x86 TSO)
                        _eventfd_signal(space_fd)
                        if self.stop_after is not None and seen >= self.stop_after:
                            stopped = True
                            break
                if stopped and self.stop_action == "close":
                    self._hang_up(conn)
                    return
                if stopped and self.stop_action == "error":
                    conn.send(error_message(self.error_text, code=-6))
                    self.stop_action = "sent"
                if self.end_frames is not None and (seen >= self.end_frames or not self.consume):
                    return
                if self.hung_up and (seen >= int(words[published_i]) or not self.consume or stopped):
                    return
                # Announce sleep, look once more, then sleep briefly.
                waiting32[cw_i] = 1
                if int(words[published_i]) != published:
                    continue
                r, _, _ = select.select([data_fd, conn], [], [], 0.05)
                if data_fd in r:
                    _eventfd_drain(data_fd)
                if conn in r:
                    msg = conn.recv(1024)
                    if not msg:
                        self.hung_up = True
                    else:
                        magic, version, mtype = HEADER.unpack_from(msg)
                        if (magic, version, mtype) != (MSG_MAGIC, PROTOCOL_VERSION, MSG_END) or len(msg) != END.size:
                            raise AssertionError("unexpected message from the producer: %r" % (msg,))
                        self.end_frames = END.unpack(msg)[3]
        finally:
            del words, waiting32

    def _read_slot(self, ring, index, natoms, content, offsets, stride, nslots):
        base = RING_HEADER_BYTES + (index % nslots) * stride
        seq, step, tm, flags, slot_natoms, *box = SLOT_HEADER.unpack_from(ring, base)
        if seq != index:
            raise AssertionError("slot seq %d at ring position %d" % (seq, index))
        if slot_natoms != natoms:
            raise AssertionError("slot natoms %d, negotiated %d" % (slot_natoms, natoms))
        arrays = []
        for i in range(3):
            if offsets[i]:
                a = np.frombuffer(ring, dtype=np.float32, count=3 * natoms, offset=base + offsets[i])
                arrays.append(a.reshape(natoms, 3).copy())
            else:
                arrays.append(None)
        return Frame(seq, step, tm, flags, slot_natoms, np.array(box, dtype=np.float32), *arrays)
