#!/usr/bin/env bash
# Sets everything up, then runs the OpenMM NaCl example with WESTPA from PyPI:
# w_init, then w_run (processes work manager, 2 workers) for 3 iterations,
# each segment streamed through `westream run`; ends with a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sim=${WESTREAM_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/westream-demo-XXXXXX")/openmm-nacl}
cp -r examples/openmm-nacl "$sim"
export WESTREAM_HOME=$PWD WEST_SIM_ROOT=$sim
echo "== building the system and initialising WESTPA in $sim"
SEGS_PER_STATE=${SEGS_PER_STATE:-4} bash "$sim/init.sh" > "$sim/init.log"
echo "== w_run: 3 iterations, 2 workers (per-segment logs in $sim/seg_logs)"
WORKERS=${WORKERS:-2} bash "$sim/run.sh" 2>&1 | grep --line-buffered -E "^Iteration|^Beginning iteration|segments|complete|error|Error" || true
echo "== summary"
.venv/bin/python "$sim/summary.py" "$sim"
