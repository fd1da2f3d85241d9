#!/usr/bin/env bash
# Sets up this checkout on a fresh machine: system packages (Debian, as root),
# node modules with the native addon (cmake-js) and the TypeScript build,
# and a Python virtual environment (.venv) with the pinned PyPI packages and
# the westream Python package. Safe to run again: present system packages
# and an up-to-date .venv are skipped; npm ci runs every time (it rebuilds
# the addon and dist/ from the sources).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v ninja >/dev/null || missing+=(ninja-build)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v gmx >/dev/null || missing+=(gromacs)
{ command -v ip || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ]; } >/dev/null || missing+=(iproute2)
[ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
command -v python3 >/dev/null || missing+=(python3 python3-dev)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v clang++ >/dev/null || missing+=(clang)
compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null || missing+=(libclang-rt-14-dev)
# An OpenCL device on any machine (pocl, on the CPU) for the tests of
# westream.openmm.StreamForce's device path. The library only, not its ICD
# file: registered system-wide, OpenCL would become OpenMM's default platform
# for every script here; the tests point OCL_ICD_VENDORS at it themselves.
libs=$(ldconfig -p 2>/dev/null || true)
grep -q 'libpocl\.so\.2 ' <<<"$libs" || missing+=(libpocl2)
grep -q 'libOpenCL\.so\.1 ' <<<"$libs" || missing+=(ocl-icd-libopencl1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

# --- node modules, addon (cmake-js), TypeScript ----------------------------
say "npm ci (builds the native addon and the TypeScript)"
npm ci --no-audit --no-fund --loglevel=error

# --- Python virtual environment ---------------------------------------------
# Rebuilt only when the pins or the Python package change.
stamp=$(cat python/requirements.txt python/pyproject.toml python/setup.py \
  python/src/westream/*.py python/src/westream/*.[ch] python/src/westream/*.cpp native/channel/producer.c \
  native/openmm/*.[ch]* include/*.h 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat .venv/.westream-stamp 2>/dev/null)" != "$stamp" ]; then
  say "creating .venv with the pinned Python packages"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r python/requirements.txt
  # Without build isolation: westream._openmm compiles against this OpenMM.
  WESTREAM_OPENMM=1 .venv/bin/pip install -q --disable-pip-version-check --no-build-isolation ./python
  echo "$stamp" > .venv/.westream-stamp
fi
say "ready"
