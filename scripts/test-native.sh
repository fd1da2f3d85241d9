#!/usr/bin/env bash
# Builds the native tests (channel, formats, kernels; StreamForce's core when
# the .venv has OpenMM) under
# AddressSanitizer and UndefinedBehaviorSanitizer and runs them with ctest.
# Needs only CMake, Ninja, a C/C++ compiler and GoogleTest (libgtest-dev);
# no node_modules. Exits non-zero on any build or test failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${WESTREAM_ASAN_BUILD_DIR:-build-asan}

# OpenMM's headers (from the .venv scripts/setup.sh made) add StreamForce's core tests.
openmm_include=
if [[ -x .venv/bin/python ]]; then
  openmm_include=$(.venv/bin/python -c 'import os, openmm.version as v; print(os.path.join(os.path.dirname(v.openmm_library_path), "include"))') || {
    echo "test-native: the .venv has no OpenMM (run scripts/setup.sh)" >&2; exit 1; }
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DWESTREAM_TESTS=ON -DWESTREAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DWESTREAM_OPENMM_INCLUDE="$openmm_include"
cmake --build "$BUILD_DIR"

# Extra options from the environment are appended (later ones win).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# -V: the GoogleTest summary ("[  PASSED  ] N tests") feeds the test count.
ctest --test-dir "$BUILD_DIR" --output-on-failure -V "$@"
