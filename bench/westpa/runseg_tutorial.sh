#!/usr/bin/env bash
# One segment as WESTPA's tutorial7.1-basic-nacl runseg.sh does it: link the
# parent state and topology into the segment folder, run the engine (which
# writes seg.dcd), then start a fresh Python process that computes the pcoord
# with mdtraj and copy it to WEST_PCOORD_RETURN. BASELINE_STEPS /
# BASELINE_INTERVAL set the segment length and DCD interval; BASELINE_PCOORD
# swaps the pcoord script (bench/westpa/heavy_mdtraj.py for the α ≈ 1 rows);
# BASELINE_ANALYZE=PIPELINE.yaml runs `westream analyze seg.dcd` with that
# pipeline instead (the same kernels as streaming, but after the engine).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$WEST_CURRENT_SEG_DATA_REF"
case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) ln -sf "$WEST_PARENT_DATA_REF/seg.xml" parent.xml ;;
  SEG_INITPOINT_NEWTRAJ)   ln -sf "$WEST_PARENT_DATA_REF/bstate.xml" parent.xml ;;
esac
ln -sf "$WEST_SIM_ROOT/bstates/nacl/bstate.pdb" bstate.pdb
"$WESTREAM_PYTHON" "$here/baseline_segment.py" "$WEST_SIM_ROOT/bstates/nacl" parent.xml \
  --steps "${BASELINE_STEPS:-1000}" --interval "${BASELINE_INTERVAL:-500}" > engine.out
if [[ -n ${BASELINE_ANALYZE:-} ]]; then
  westream analyze seg.dcd --topology bstate.pdb --pipeline "$BASELINE_ANALYZE" > dist.dat
else
  "$WESTREAM_PYTHON" "${BASELINE_PCOORD:-$here/get_distance.py}" ${BASELINE_PCOORD_ARGS:-}
fi
cat dist.dat > "$WEST_PCOORD_RETURN"
