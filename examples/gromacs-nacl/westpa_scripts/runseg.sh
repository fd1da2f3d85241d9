#!/usr/bin/env bash
# One segment: grompp from the parent (its checkpoint, or the basis state's
# .gro for a new trajectory), then `westream run` starts an unmodified
# `gmx mdrun` that writes its XTC into a named pipe in a private directory;
# westream decodes each frame as it arrives, computes the Na-Cl distance and
# writes WEST_PCOORD_RETURN (pcoord_len rows, checked against west.cfg) when
# mdrun ends. GROMACS writes the step-0 frame itself, so row 0 is the first
# streamed frame. SEG_KEEP=1 also keeps a copy of the XTC as seg.xtc (tests);
# SEG_NSTEPS overrides nsteps; SEG_PIPELINE swaps the pipeline file;
# SEG_TMPFS_DIR moves the private directory of the pipe (default /dev/shm).
set -euo pipefail
cd "$WEST_CURRENT_SEG_DATA_REF"
nacl="$WEST_SIM_ROOT/bstates/nacl"
case "$WEST_CURRENT_SEG_INITPOINT_TYPE" in
  SEG_INITPOINT_CONTINUES) start=(-c "$WEST_PARENT_DATA_REF/seg.gro" -t "$WEST_PARENT_DATA_REF/seg.cpt") ;;
  SEG_INITPOINT_NEWTRAJ)   start=(-c "$WEST_PARENT_DATA_REF/bstate.gro") ;;
  *) echo "unknown WEST_CURRENT_SEG_INITPOINT_TYPE=$WEST_CURRENT_SEG_INITPOINT_TYPE" >&2; exit 1 ;;
esac
# A fresh Langevin seed per segment, so siblings diverge.
sed -e "s/@SEED@/${WEST_RAND16:-1}/" ${SEG_NSTEPS:+-e "s/^nsteps = .*/nsteps = $SEG_NSTEPS/"} "$nacl/md.mdp" > seg.mdp
${GMX:-gmx} -quiet grompp -f seg.mdp "${start[@]}" -p "$nacl/topol.top" -o seg.tpr -po mdout.mdp -maxwarn 0
exec westream run --trajectory seg.xtc --transport fifo ${SEG_KEEP:+--keep-trajectory seg.xtc} \
  ${SEG_TMPFS_DIR:+--tmpfs-dir "$SEG_TMPFS_DIR"} \
  --pipeline "${SEG_PIPELINE:-$WEST_SIM_ROOT/pcoord.yaml}" -- \
  ${GMX:-gmx} -quiet mdrun -nt 1 -deffnm seg -x seg.xtc
