#!/usr/bin/env bash
# Builds the system with GROMACS, then initialises WESTPA (w_init) from one basis state.
set -euo pipefail
cd "$(dirname "$0")"
source ./env.sh
rm -rf traj_segs seg_logs istates west.h5 bstates/nacl
mkdir -p seg_logs traj_segs bstates
bash build_system.sh bstates/nacl "${BOX_NM:-2.3}"
echo "nacl 1.0 nacl" > bstates/bstates.txt
w_init --bstates-from bstates/bstates.txt --segs-per-state "${SEGS_PER_STATE:-5}" --work-manager serial "$@"
