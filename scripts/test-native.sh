#!/usr/bin/env bash
# Builds the native channel tests (consumer core + C producer) under
# AddressSanitizer and UndefinedBehaviorSanitizer and runs them with ctest.
# Needs only CMake, Ninja, a C/C++ compiler and GoogleTest (libgtest-dev);
# no node_modules. Exits non-zero on any build or test failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${WESTREAM_ASAN_BUILD_DIR:-build-asan}

cmake -S . -B "$BUILD_DIR" -G Ninja -DWESTREAM_TESTS=ON -DWESTREAM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build "$BUILD_DIR"

# Extra options from the environment are appended (later ones win).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# -V: the GoogleTest summary ("[  PASSED  ] N tests") feeds the test count.
ctest --test-dir "$BUILD_DIR" --output-on-failure -V "$@"
