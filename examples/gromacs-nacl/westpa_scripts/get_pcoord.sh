#!/usr/bin/env bash
# Basis/initial state pcoord: the same pipeline on the state's structure. The
# .gro holds 0.001 nm, as the XTC does, and is what new segments start from.
set -euo pipefail
exec westream pcoord --pipeline "$WEST_SIM_ROOT/pcoord.yaml" --structure "$WEST_STRUCT_DATA_REF/bstate.gro"
