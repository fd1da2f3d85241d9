"""Build script for the westream._producer extension.

The extension is compiled from this package's CPython wrapper plus the C
producer shared with the rest of the project (../native/channel/producer.c),
so the package is built in-tree from a checkout: `pip install ./python` from
the repository root.
"""
import os
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
# Paths relative to this file: setuptools wants relative source paths, and
# pip (>= 21.3) builds in-tree, so they resolve inside the checkout.
PRODUCER_C = os.path.join("..", "native", "channel", "producer.c")
INCLUDE_DIRS = [os.path.join("..", "include"), os.path.join("..", "native", "channel")]

if not os.path.exists(os.path.join(HERE, PRODUCER_C)):
    sys.exit(
        "westream: %s not found. Build the Python package from a westream checkout "
        "(pip install ./python from the repository root)." % os.path.normpath(os.path.join(HERE, PRODUCER_C))
    )

setup(
    ext_modules=[
        Extension(
            "westream._producer",
            sources=[os.path.join("src", "westream", "_producer.c"), os.path.join("src", "westream", "_sender.c"), PRODUCER_C],
            include_dirs=INCLUDE_DIRS,
            depends=[
                os.path.join("src", "westream", "_sender.h"),
                os.path.join("..", "include", "westream.h"),
                os.path.join("..", "include", "westream_wire.h"),
                os.path.join("..", "native", "channel", "ring_layout.h"),
                os.path.join("..", "native", "channel", "address.h"),
            ],
            extra_compile_args=["-O2", "-Wall", "-Wno-missing-field-initializers"],
        )
    ],
)
