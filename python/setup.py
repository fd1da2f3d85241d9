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


def openmm_extension():
    """westream._openmm (StreamForce), compiled against the OpenMM that is
    importable while building: install with --no-build-isolation after
    OpenMM (scripts/setup.sh and bench/gpu/bundle do). WESTREAM_OPENMM=0
    leaves it out; WESTREAM_OPENMM=1 makes a missing OpenMM an error."""
    want = os.environ.get("WESTREAM_OPENMM", "auto")
    if want == "0":
        return []
    try:
        import openmm.version
    except ImportError as e:
        if want == "1":
            sys.exit("westream: WESTREAM_OPENMM=1 but OpenMM is not importable here (%s); "
                     "install OpenMM first and build with pip install --no-build-isolation ./python" % e)
        print("westream: OpenMM is not importable while building, so westream.openmm.StreamForce "
              "is left out (install OpenMM, then pip install --no-build-isolation ./python)", file=sys.stderr)
        return []
    lib = openmm.version.openmm_library_path
    native = os.path.join("..", "native", "openmm")
    return [
        Extension(
            "westream._openmm",
            sources=[os.path.join("src", "westream", "_openmm.cpp"), PRODUCER_C]
            + [os.path.join(native, f) for f in ("stream_force.cpp", "stream_force_impl.cpp", "snapshot.cpp",
                                                 "snapshot_sender.cpp", "host_buffer.cpp")],
            include_dirs=INCLUDE_DIRS + [native, os.path.join(os.path.dirname(lib), "include")],
            library_dirs=[lib],
            libraries=["OpenMM", "dl"],
            runtime_library_dirs=[lib],
            depends=[os.path.join(native, f) for f in os.listdir(os.path.join(HERE, native)) if f.endswith(".h")],
            # The OpenMM it is built against: its C++ layout is what the extension relies on.
            define_macros=[("WESTREAM_OPENMM_BUILT_AGAINST", '"%s"' % openmm.version.version)],
            extra_compile_args=["-O2", "-Wall", "-Wno-missing-field-initializers", "-pthread"],
            extra_link_args=["-pthread"],
            language="c++",
        )
    ]


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
    ]
    + openmm_extension(),
)
