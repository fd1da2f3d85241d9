"""westream: stream MD frames from a simulation engine to the westream consumer.

    import westream
    with westream.Producer(natoms, units="nm") as p:   # address from WESTREAM_ADDRESS
        for step in range(nsteps):
            ...
            p.send(positions_nm, box=box_nm, step=step, time=t_ps)

See Producer, Producer.frame() (zero-copy writes) and
westream.openmm.StreamReporter. Importing westream needs numpy only.
"""

from ._producer import ChannelError, ConnectError, ConsumerGone, ProtocolError, Refused
from .producer import UNITS, Frame, Producer, wire_box

__version__ = "0.1.0"

__all__ = [
    "Producer",
    "Frame",
    "wire_box",
    "UNITS",
    "ChannelError",
    "ConsumerGone",
    "Refused",
    "ProtocolError",
    "ConnectError",
    "__version__",
]
