"""The westream producer: Producer, Frame and the unit/box conversions."""

import math
import operator

import numpy as np

from . import _producer
__all__ = ["Producer", "Frame", "wire_box", "UNITS"]

#: Unit systems a Producer accepts, and what each one multiplies by to reach
#: the wire units (Angstrom, Angstrom/ps, kJ/mol/Angstrom, Angstrom).
#: Every conversion is computed in float64 and rounded to float32 once.
UNITS = {
    "angstrom": {"positions": 1.0, "velocities": 1.0, "forces": 1.0, "box": 1.0},
    # GROMACS / OpenMM: nm -> A is x10, nm/ps -> A/ps is x10, kJ/mol/nm -> kJ/mol/A is /10.
    "nm": {"positions": 10.0, "velocities": 10.0, "forces": 0.1, "box": 10.0},
}

# Relative tolerance for the zero entries of a lower-triangular box matrix.
_BOX_TOLERANCE = 1e-5


def _write(dst, src, factor):
    """Writes `src` into the float32 view `dst`, converted by `factor`.

    factor 1: a straight cast (bit-exact for float32 input). factor 10: the
    product is computed in float64, then rounded to float32 once, i.e.
    ``(src.astype(float64) * 10.0).astype(float32)``. factor 0.1 means a
    float64 division by 10.0, ``(src.astype(float64) / 10.0).astype(float32)``.
    Non-finite values pass through; float64 values beyond float32 range
    become +-inf.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if factor == 1.0:
            np.copyto(dst, src, casting="unsafe")
        elif factor == 0.1:
            np.divide(src, 10.0, out=dst, dtype=np.float64, casting="unsafe")
        else:
            np.multiply(src, factor, out=dst, dtype=np.float64, casting="unsafe")


def _cos_sin(degrees):
    # Exact for right angles, like MDAnalysis: cos(pi/2) is 6e-17 in float64.
    if degrees == 90.0:
        return 0.0, 1.0
    r = math.radians(degrees)
    return math.cos(r), math.sin(r)


def wire_box(box, scale=1.0):
    """Converts a unit cell to the wire form: float32[6] = ax, bx, by, cx, cy, cz.

    `box` is one of
      * a (3, 3) matrix whose rows are the cell vectors a, b, c, lower
        triangular as OpenMM and GROMACS reduced boxes are:
        a = (ax, 0, 0), b = (bx, by, 0), c = (cx, cy, cz). The entries that
        must be zero may deviate by 1e-5 of the largest entry (they are
        dropped); more raises ValueError;
      * 3 lengths of an orthorhombic cell;
      * 6 MDAnalysis-style dimensions [a, b, c, alpha, beta, gamma], angles in
        degrees, converted to the lower-triangular form with
        bx = b cos(gamma), by = b sin(gamma), cx = c cos(beta),
        cy = c (cos(alpha) - cos(beta) cos(gamma)) / sin(gamma),
        cz = sqrt(c^2 - cx^2 - cy^2) (right angles exact).
    Values are multiplied by `scale` (10 for nm) in float64, then rounded to
    float32. Values are not range-checked otherwise.
    """
    try:
        b = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError("box must be array-like of real numbers (%s)" % e) from None
    if b.shape == (3, 3):
        finite = np.abs(b[np.isfinite(b)])
        tol = _BOX_TOLERANCE * (float(finite.max()) if finite.size else 0.0)
        upper = (b[0, 1], b[0, 2], b[1, 2])
        if any(abs(u) > tol for u in upper):
            raise ValueError(
                "box matrix must be lower-triangular (rows a=(ax,0,0), b=(bx,by,0), c=(cx,cy,cz)), "
                "as OpenMM/GROMACS reduced boxes are; got a=%s, b=%s, c=%s"
                % (b[0].tolist(), b[1].tolist(), b[2].tolist())
            )
        six = [b[0, 0], b[1, 0], b[1, 1], b[2, 0], b[2, 1], b[2, 2]]
    elif b.shape == (3,):
        six = [b[0], 0.0, b[1], 0.0, 0.0, b[2]]
    elif b.shape == (6,):
        la, lb, lc, alpha, beta, gamma = (float(v) for v in b)
        for name, angle in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
            if not 0.0 < angle < 180.0:
                raise ValueError("box angle %s must be between 0 and 180 degrees, got %r" % (name, angle))
        if alpha == beta == gamma == 90.0:
            six = [la, 0.0, lb, 0.0, 0.0, lc]
        else:
            ca, _ = _cos_sin(alpha)
            cb, _ = _cos_sin(beta)
            cg, sg = _cos_sin(gamma)
            cx = lc * cb
            cy = lc * (ca - cb * cg) / sg
            cz2 = lc * lc - cx * cx - cy * cy
            if not cz2 > 0.0:
                raise ValueError(
                    "box dimensions %s do not describe a valid cell (the angles cannot close)" % b.tolist()
                )
            six = [la, lb * cg, lb * sg, cx, cy, math.sqrt(cz2)]
    else:
        raise ValueError(
            "box must be a (3, 3) matrix of row vectors, 3 orthorhombic lengths, or 6 dimensions "
            "[a, b, c, alpha, beta, gamma]; got shape %s" % (b.shape,)
        )
    out = np.empty(6, dtype=np.float32)
    _write(out, np.array(six, dtype=np.float64), 1.0 if scale == 1.0 else scale)
    return out


def _xyz(values, name, natoms):
    """values as an (natoms, 3) real array (any dtype; no copy when possible)."""
    a = np.asarray(values)
    if a.dtype.kind not in "fiu":
        raise TypeError("%s must be a real numeric array, got dtype %s" % (name, a.dtype))
    if a.shape == (natoms, 3):
        return a
    if a.shape == (3 * natoms,):
        return a.reshape(natoms, 3)
    raise ValueError(
        "%s must have shape (%d, 3) (or flat (%d,)), got shape %s" % (name, natoms, 3 * natoms, a.shape)
    )


def _wire_array(values, name, natoms):
    """_xyz as C-contiguous float32 or float64, the types the C side converts."""
    a = _xyz(values, name, natoms)
    if a.dtype not in (np.float32, np.float64) or not a.flags.c_contiguous or not a.dtype.isnative:
        a = np.ascontiguousarray(a, dtype=np.float64)
    return a


class Frame:
    """An acquired ring slot, written in place; published when the `with` ends.

    ``positions`` (and ``velocities``/``forces`` when the stream carries them)
    are float32 (natoms, 3) numpy views of the shared memory, in wire units
    (Angstrom, Angstrom/ps, kJ/mol/Angstrom) whatever the producer's `units`.
    They hold whatever the slot held before (a frame ``nslots`` ago): write
    every array the stream carries. Set ``step`` (int), ``time`` (ps) and
    ``box`` (any form :func:`wire_box` accepts, in Angstrom) as needed.
    The views must not be used after the `with` block: the consumer owns the
    memory again.
    """

    __slots__ = ("_producer", "index", "positions", "velocities", "forces", "step", "time", "_box", "_state")

    def __init__(self, producer, index, positions, velocities, forces):
        self._producer = producer
        self.index = index
        self.positions = positions
        self.velocities = velocities
        self.forces = forces
        self.step = None
        self.time = None
        self._box = None
        self._state = "acquired"

    @property
    def box(self):
        """The wire box (float32[6], Angstrom) or None; set it in any :func:`wire_box` form."""
        return None if self._box is None else self._box.copy()

    @box.setter
    def box(self, value):
        self._box = None if value is None else wire_box(value)

    def _drop_views(self):
        self.positions = self.velocities = self.forces = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._producer._publish(self)
        else:
            self._producer._abandon(self)
        return False

    def __repr__(self):
        return "<westream.Frame %d %s>" % (self.index, self._state)


class Producer:
    """Streams frames of `natoms` atoms to the westream consumer.

    Producer(natoms, address=None, *, velocities=False, forces=False,
             nslots=0, units="angstrom")

    `address` is the consumer's socket path or "@name" (abstract namespace);
    None reads the WESTREAM_ADDRESS environment variable that `westream run`
    sets. `velocities` / `forces` add those arrays to every frame. `nslots`
    asks for a ring depth (0: the consumer chooses). `units`:

      * "angstrom": positions and box in Angstrom, velocities in Angstrom/ps,
        forces in kJ/mol/Angstrom: no conversion (float32 input is copied
        bit-exactly, other dtypes rounded to float32);
      * "nm" (GROMACS / OpenMM): positions and box in nm, velocities in nm/ps
        (x10), forces in kJ/mol/nm (/10); each value is converted in float64
        and rounded to float32 once: ``(x.astype(float64) * 10.0).astype(float32)``
        and ``(f.astype(float64) / 10.0).astype(float32)``.

    Time is always in ps. Connection failures raise ConnectError (no
    consumer), Refused (the consumer said no) or ChannelError (no address).

    As a context manager, a normal exit calls end() then close(); an
    exception only closes, so the consumer sees an incomplete stream.
    """

    def __init__(self, natoms, address=None, *, velocities=False, forces=False, nslots=0, units="angstrom"):
        natoms = operator.index(natoms)
        if not 1 <= natoms <= _producer.MAX_ATOMS:
            raise ValueError("natoms must be between 1 and %d, got %d" % (_producer.MAX_ATOMS, natoms))
        nslots = operator.index(nslots)
        if not 0 <= nslots <= _producer.MAX_SLOTS:
            raise ValueError("nslots must be between 0 (consumer's choice) and %d, got %d" % (_producer.MAX_SLOTS, nslots))
        if units not in UNITS:
            raise ValueError("units must be one of %s, got %r" % (", ".join(repr(u) for u in UNITS), units))
        content = _producer.POSITIONS
        if velocities:
            content |= _producer.VELOCITIES
        if forces:
            content |= _producer.FORCES
        self._natoms = natoms
        self._units = units
        self._factors = UNITS[units]
        self._velocities = bool(velocities)
        self._forces = bool(forces)
        self._frame = None  # the acquired Frame, if any
        self._ended = False
        self._frames_at_close = 0
        self._ch = None
        self._ch = _producer.Channel(natoms, address, content, nslots)
        self._nslots = self._ch.nslots

    # -- properties ---------------------------------------------------------
    @property
    def natoms(self):
        """Atoms per frame."""
        return self._natoms

    @property
    def nslots(self):
        """Ring depth the consumer chose."""
        return self._nslots

    @property
    def frames(self):
        """Frames published so far."""
        ch = self._ch
        return self._frames_at_close if ch is None or ch.closed else ch.frames

    @property
    def units(self):
        return self._units

    @property
    def closed(self):
        return self._ch is None or self._ch.closed

    @property
    def ended(self):
        return self._ended

    # -- frames -------------------------------------------------------------
    def _check_open(self):
        if self.closed:
            raise ValueError("westream producer is closed")
        if self._ended:
            raise ValueError("westream stream already ended")

    def frame(self):
        """Acquires the next ring slot (blocking while the ring is full).

        Use as ``with producer.frame() as f: f.positions[:] = xyz_angstrom``;
        leaving the block publishes the frame (an exception publishes
        nothing, and the next frame() reuses the slot). See :class:`Frame`.
        """
        self._check_open()
        if self._frame is not None and self._frame._state == "acquired":
            raise RuntimeError("a frame is already acquired: publish it (leave its `with` block) first")
        index, pos, vel, frc = self._ch.acquire()
        n = self._natoms
        f = Frame(
            self,
            index,
            np.frombuffer(pos, dtype=np.float32).reshape(n, 3),
            None if vel is None else np.frombuffer(vel, dtype=np.float32).reshape(n, 3),
            None if frc is None else np.frombuffer(frc, dtype=np.float32).reshape(n, 3),
        )
        self._frame = f
        return f

    def _publish(self, f):
        if f is not self._frame or f._state != "acquired":
            raise RuntimeError("this frame was already published or abandoned")
        step = None if f.step is None else operator.index(f.step)
        time = None if f.time is None else float(f.time)
        try:
            self._ch.publish(step, time, f._box)
        finally:
            if not self._ch.acquired:
                f._state = "published"
                f._drop_views()
                self._frame = None

    def _abandon(self, f):
        # The C API cannot give a slot back: keep it acquired; the next
        # frame() hands out the same slot again.
        if f is self._frame and f._state == "acquired":
            f._state = "abandoned"
            f._drop_views()

    def send(self, positions, box=None, step=None, time=None, velocities=None, forces=None, *, wait=True):
        """Publishes one frame; returns its index. Blocks while the ring is full.

        positions: (natoms, 3) or flat (3*natoms,) real array in this
        producer's `units`, converted to float32 (non-finite values pass).
        velocities / forces: same shapes, only for a producer opened with
        them (zeros when omitted). box: see :func:`wire_box`. step: int.
        time: ps.

        wait=False hands the frame to the producer's background thread and
        returns at once, so an engine's reporter gives the engine back its
        thread while the frame is converted and published (the
        StreamReporter does this). The arrays must stay unchanged until the
        next call on this producer; that call (or end()) waits for the frame
        and raises if it could not be sent.
        """
        self._check_open()
        n = self._natoms
        pos = _wire_array(positions, "positions", n)
        vel = frc = None
        if velocities is not None:
            if not self._velocities:
                raise ValueError("velocities given, but this Producer was created without velocities=True")
            vel = _wire_array(velocities, "velocities", n)
        if forces is not None:
            if not self._forces:
                raise ValueError("forces given, but this Producer was created without forces=True")
            frc = _wire_array(forces, "forces", n)
        box6 = None if box is None else wire_box(box, self._factors["box"])
        return self._send(pos, vel, frc, box6, step, time, wait)

    def _send(self, pos, vel, frc, box6, step, time, wait):
        # send() after argument checks; box6 already in wire form (wire_box).
        step = None if step is None else operator.index(step)
        time = None if time is None else float(time)
        k = self._factors
        if self._ch.acquired:  # an abandoned frame() holds a slot: fill that one
            with self.frame() as f:
                for dst, src, factor in ((f.positions, pos, k["positions"]), (f.velocities, vel, k["velocities"]),
                                         (f.forces, frc, k["forces"])):
                    if dst is not None:
                        dst.fill(0.0) if src is None else _write(dst, src, factor)
                f.step, f.time, f._box = step, time, box6
            return f.index
        return self._ch.send(pos, vel, frc, box6, step, time, (k["positions"], k["velocities"], k["forces"]), wait)

    # -- life cycle ---------------------------------------------------------
    def end(self):
        """Declares the stream complete: the consumer checks it got every frame."""
        if self._ended:
            return
        if self.closed:
            raise ValueError("westream producer is closed")
        self._ch.end()
        self._ended = True

    def close(self):
        """Releases the channel. Without a prior end() the consumer treats the
        stream as incomplete. Safe to call twice."""
        ch = self._ch
        if ch is not None and not ch.closed:
            self._frames_at_close = ch.frames
            ch.close()
        f = self._frame
        if f is not None:
            f._drop_views()
            self._frame = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                if not self.closed:
                    self.end()
            finally:
                self.close()
        else:
            self.close()
        return False

    def __repr__(self):
        state = "closed" if self.closed else ("ended" if self._ended else "open")
        return "<westream.Producer natoms=%d nslots=%d frames=%d units=%r %s>" % (
            self._natoms,
            self._nslots,
            self.frames,
            self._units,
            state,
        )

