"""OpenMM reporter that streams a running simulation to westream.

    from westream.openmm import StreamReporter

    reporter = StreamReporter(100)          # every 100 steps, address from WESTREAM_ADDRESS
    simulation.reporters.append(reporter)
    simulation.step(100000)
    reporter.end()                          # after the last step: the stream is complete
    reporter.close()

On a GPU, StreamForce streams from inside the Context instead, without
getState() (which makes the GPU wait for every frame):

    from westream.openmm import StreamForce

    stream = StreamForce(system, 100)       # before the Simulation/Context is created
    simulation = Simulation(topology, system, integrator, platform)
    simulation.step(100000)
    stream.finish(simulation)               # the last frame, then the stream is complete

OpenMM itself is imported only when a simulation calls the reporter, so this
module imports with numpy alone.
"""

import operator
import re

import numpy as np

from .producer import UNITS, Producer, _wire_array, wire_box

__all__ = ["StreamForce", "StreamReporter", "openmm_version"]


def openmm_version():
    """The installed OpenMM's version as a tuple of ints, from openmm.version.short_version."""
    import openmm

    parts = []
    for piece in str(openmm.version.short_version).split(".")[:3]:
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def _interval_and_slots(interval, nslots):
    """The arguments both streamers take, checked: steps >= 1, ring depth >= 0."""
    interval = operator.index(interval)
    if interval < 1:
        raise ValueError("interval must be a positive number of steps, got %d" % interval)
    nslots = operator.index(nslots)
    if nslots < 0:
        raise ValueError("nslots must be >= 0, got %d" % nslots)
    return interval, nslots


class StreamReporter:
    """Streams positions (and optionally velocities and forces) every `interval` steps.

    StreamReporter(interval, address=None, *, velocities=False, forces=False,
                   nslots=0, enforcePeriodicBox=None)

    `address`: the consumer's socket path or "@name"; None reads
    WESTREAM_ADDRESS (set by `westream run`). The channel opens lazily on the
    first report, with natoms = simulation.system.getNumParticles().
    `enforcePeriodicBox`: as for OpenMM's DCDReporter; None wraps molecules
    into the box exactly when the system is periodic.

    Every frame carries step = simulation.currentStep, time = state.getTime()
    in ps and, for a periodic system, the box from
    state.getPeriodicBoxVectors(). Conversion, exactly (what a consumer-side
    test reproduces bit for bit):

        pos_nm = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)   # float64
        wire   = (np.asarray(pos_nm, dtype=np.float64) * 10.0).astype(np.float32)  # Angstrom

    i.e. multiply in float64, then round to float32 once. Velocities
    (nm/ps -> Angstrom/ps) and box vectors (nm -> Angstrom) use the same
    float64 ``* 10.0``; forces (kJ/mol/nm -> kJ/mol/Angstrom) use a float64
    ``/ 10.0``. The box is sent as its lower-triangular entries
    (ax, bx, by, cx, cy, cz).

    Call end() after the last simulation.step() so the consumer knows the
    stream is complete, then close() (or use the reporter as a context
    manager: a normal exit ends and closes; an exception only closes, which
    the consumer sees as an incomplete stream). If the consumer goes away,
    a later report (or end()) raises westream.ConsumerGone out of
    simulation.step().

    report() hands the frame to the producer's background thread and returns
    (Producer.send(wait=False)), so OpenMM queues the next steps on the GPU
    while the frame is converted and published; the next report, end() or
    close() waits for it.
    """

    def __init__(self, interval, address=None, *, velocities=False, forces=False, nslots=0, enforcePeriodicBox=None):
        interval, nslots = _interval_and_slots(interval, nslots)
        self._interval = interval
        self._address = address
        self._velocities = bool(velocities)
        self._forces = bool(forces)
        self._nslots = nslots
        self._periodic = None if enforcePeriodicBox is None else bool(enforcePeriodicBox)
        self._producer = None
        self._uses_pbc = False
        self._box_vectors = self._box6 = None  # last box seen, and its wire form
        self._ended = False

    @property
    def interval(self):
        return self._interval

    @property
    def producer(self):
        """The underlying westream.Producer (None until the first report)."""
        return self._producer

    @property
    def frames(self):
        """Frames sent so far."""
        return 0 if self._producer is None else self._producer.frames

    def _include(self):
        include = ["positions"]
        if self._velocities:
            include.append("velocities")
        if self._forces:
            include.append("forces")
        return include

    def describeNextReport(self, simulation):
        """When the next report is due and what it needs.

        OpenMM >= 8.2: {'steps', 'periodic', 'include'}; older versions: the
        tuple (steps, positions, velocities, forces, energy, enforcePeriodicBox).
        """
        steps = self._interval - simulation.currentStep % self._interval
        if openmm_version() >= (8, 2):
            return {"steps": steps, "periodic": self._periodic, "include": self._include()}
        return (steps, True, self._velocities, self._forces, False, self._periodic)

    def _connect(self, simulation):
        system = simulation.system
        self._uses_pbc = bool(system.usesPeriodicBoundaryConditions())
        self._producer = Producer(
            system.getNumParticles(),
            self._address,
            velocities=self._velocities,
            forces=self._forces,
            nslots=self._nslots,
            units="nm",
        )

    def report(self, simulation, state):
        """Sends one frame built from `state` (see the class docstring for units)."""
        from openmm import unit

        if self._ended:
            raise ValueError("StreamReporter.report after end()")
        if self._producer is None:
            self._connect(simulation)
        n = self._producer.natoms
        positions = _wire_array(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer), "positions", n)
        box6 = None
        if self._uses_pbc:
            vectors = state.getPeriodicBoxVectors().value_in_unit(unit.nanometer)
            if vectors != self._box_vectors:  # constant at constant volume: converted once
                self._box_vectors, self._box6 = vectors, wire_box(np.array(vectors, dtype=np.float64), UNITS["nm"]["box"])
            box6 = self._box6
        velocities = forces = None
        if self._velocities:
            velocities = _wire_array(
                state.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond), "velocities", n)
        if self._forces:
            forces = _wire_array(
                state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer), "forces", n)
        # Handed to the producer's thread: OpenMM gets its thread back at once.
        self._producer._send(positions, velocities, forces, box6, simulation.currentStep,
                             state.getTime().value_in_unit(unit.picosecond), wait=False)

    def report_now(self, simulation):
        """Sends the simulation's current state as a frame, outside the interval.

        OpenMM calls reporters only after steps, so a segment's start point
        (step 0, the row 0 of a WESTPA pcoord) is sent with this before the
        first simulation.step().
        """
        state = simulation.context.getState(
            getPositions=True,
            getVelocities=self._velocities,
            getForces=self._forces,
            enforcePeriodicBox=bool(self._periodic) if self._periodic is not None else
            simulation.system.usesPeriodicBoundaryConditions(),
        )
        self.report(simulation, state)

    def end(self):
        """Declares the stream complete. Call it after the last simulation.step().
        Without any report (nothing was ever connected) it does nothing."""
        if self._producer is not None:
            self._producer.end()
        self._ended = True

    def close(self):
        """Releases the channel; without end() the consumer sees an incomplete stream."""
        if self._producer is not None:
            self._producer.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                if self._producer is None or not self._producer.closed:
                    self.end()
            finally:
                self.close()
        else:
            self.close()
        return False



class StreamForce:
    """Streams positions every `interval` steps from inside OpenMM.

    StreamForce(system, interval, address=None, *, nslots=0)

    Adds a zero-energy Force to `system` (create it before the Simulation or
    Context). At the start of every step it checks whether a frame is due;
    on CUDA, OpenCL and HIP it then queues a non-blocking download of the
    positions behind the steps already queued, and a westream thread waits
    for it and publishes the frame, so the GPU is never left idle waiting
    for the host (getState(), and so every reporter, drains its queue). On
    CPU and Reference platforms the copy is synchronous.

    Frames are the states between steps, as reporters see them, at every
    step that is a multiple of `interval`, step 0 included (a WESTPA
    segment's start point): the state after step s is sent when step s+1
    starts, and finish() sends the last one. Positions are unwrapped, as
    getState(enforcePeriodicBox=False) gives them (minimum-image measures
    are unaffected), converted as StreamReporter does (x10 in float64, one
    rounding to float32); time in ps, the box when the system is periodic.
    A barostat that comes before this force in the System moves the
    positions before they are captured: add the StreamForce first.

    `address`: the consumer's socket path or "@name"; None reads
    WESTREAM_ADDRESS when the first frame is due. A failed channel raises
    openmm.OpenMMException ("westream: ...") out of simulation.step(), and
    westream.ChannelError subclasses out of finish().
    """

    def __init__(self, system, interval, address=None, *, nslots=0):
        import openmm

        if not isinstance(system, openmm.System):
            raise TypeError("StreamForce needs an openmm.System, got %s" % type(system).__name__)
        interval, nslots = _interval_and_slots(interval, nslots)
        self._native = _openmm_module()
        self._system = system  # keeps the C++ System (and so the force) alive
        self._interval = interval
        self.index = self._native.add_stream_force(int(system.this), interval, address or "", nslots)

    @property
    def interval(self):
        return self._interval

    def _call(self, name, target):
        import openmm

        context = getattr(target, "context", target)  # a Simulation or a Context
        if not isinstance(context, openmm.Context):
            raise TypeError("expected an openmm.Context or app.Simulation, got %s" % type(target).__name__)
        return getattr(self._native, name)(int(self._system.this), self.index, int(context.this))

    def finish(self, target):
        """Sends the current state if its step is due and not sent yet, waits for
        the frames in flight, and declares the stream complete. `target`: the
        Simulation or Context that ran the steps."""
        self._call("finish", target)

    def close(self, target):
        """Waits for frames in flight and closes without declaring the stream
        complete: the consumer sees an incomplete stream."""
        self._call("close", target)

    def frames(self, target):
        """Frames published so far by `target` (Simulation or Context)."""
        return self._call("frames", target)

    def engine_seconds(self, target):
        """Seconds OpenMM's thread spent capturing frames in `target`: queuing
        the downloads on a GPU (copying on CPU), waits for a free buffer
        included. What streaming cost the simulation itself."""
        return self._call("engine_seconds", target)


_REBUILD = ("pip install --no-build-isolation ./python (from a westream checkout, with OpenMM and wheel "
            "installed)")


def _openmm_module():
    """westream._openmm, checked against the OpenMM imported now: it uses OpenMM's
    C++ classes, so it must be the OpenMM it was compiled against."""
    import openmm.version

    try:
        from . import _openmm
    except ImportError as e:
        raise ImportError(
            "westream.openmm.StreamForce needs westream's OpenMM extension, which is built only when OpenMM is "
            "importable while westream is installed: %s [%s]" % (_REBUILD, e)
        ) from None
    if _openmm.built_against != openmm.version.version:
        raise ImportError(
            "westream's OpenMM extension was built against OpenMM %s, but this is OpenMM %s: rebuild it: %s"
            % (_openmm.built_against, openmm.version.version, _REBUILD)
        )
    return _openmm
