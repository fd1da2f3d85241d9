#!/usr/bin/env bash
# One segment: OpenMM runs it and streams its frames to `westream run`, which
# computes the Na-Cl distance per frame and writes WEST_PCOORD_RETURN
# (pcoord_len rows, checked against west.cfg) as soon as the last one is computed.
# SEG_STEPS / SEG_INTERVAL / SEG_DCD tune the segment; SEG_STREAM=force streams
# with StreamForce instead of StreamReporter (for GPU platforms: OPENMM_PLATFORM=CUDA);
# SEG_SCRIPT and SEG_PIPELINE swap the engine script or the pipeline file (used by tests).
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) parent="$WEST_PARENT_DATA_REF/seg.xml" ;;
  SEG_INITPOINT_NEWTRAJ)   parent="$WEST_PARENT_DATA_REF/bstate.xml" ;;
  *) echo "unknown WEST_CURRENT_SEG_INITPOINT_TYPE=$WEST_CURRENT_SEG_INITPOINT_TYPE" >&2; exit 1 ;;
esac
exec westream run --pipeline "${SEG_PIPELINE:-$WEST_SIM_ROOT/pcoord.yaml}" -- \
  "$WESTREAM_PYTHON" "${SEG_SCRIPT:-$WEST_SIM_ROOT/segment.py}" "$WEST_SIM_ROOT/bstates/nacl" "$parent" \
  --steps "${SEG_STEPS:-200}" --interval "${SEG_INTERVAL:-100}" ${SEG_DCD:+--dcd seg.dcd} \
  --stream "${SEG_STREAM:-reporter}"
