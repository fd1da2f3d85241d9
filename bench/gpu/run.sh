#!/usr/bin/env bash
# GPU benchmark (bench/gpu/README in bench/README.md, "GPU (bench/gpu/run.sh)"):
# OpenMM CUDA ns/day with no output, with westream streaming every 100 steps
# (`westream run` + StreamReporter) and with a DCD every 100 steps, on a
# ~25k-atom solvated system built by driver.py (Modeller, no downloads).
#
#   bench/gpu/run.sh                                   # CUDA, ~25k atoms, 3 rounds × 50k steps
#   bench/gpu/run.sh --steps 100000 --rounds 5
#   bench/gpu/run.sh --platform CPU --atoms-scale small --steps 500 --rounds 1   # logic test, no results
#
# Needs, on the GPU node, only this checkout plus:
#   - node >= 20 and the built project (`npm ci`: dist/, build/Release/westream.node);
#   - a Python with a CUDA-enabled OpenMM and westream's Python package:
#     the checkout's .venv, or WESTREAM_PYTHON=/path/to/python, or python3 on PATH
#     (pip install 'openmm[cuda12]' ./python — or the prebuilt wheels).
# Writes bench/results/gpu.json (CUDA runs only; --out FILE to change).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
py=${WESTREAM_PYTHON:-}
if [[ -z $py ]]; then
  if [[ -x $root/.venv/bin/python ]]; then py=$root/.venv/bin/python; else py=$(command -v python3 || true); fi
fi
[[ -n $py ]] || { echo "bench/gpu: no Python found (set WESTREAM_PYTHON)" >&2; exit 2; }
export PATH="$root/bin:$PATH"
exec "$py" "$here/driver.py" all "$@"
