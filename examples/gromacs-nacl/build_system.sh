#!/usr/bin/env bash
# Builds Na+ and Cl- in a small TIP3P water box with GROMACS's own tools and
# its bundled AMBER99SB-ILDN force field (no downloads, no pdb2gmx):
#
#   bash build_system.sh OUTDIR [BOX_NM]        (default box: 2.3 nm, ~1200 atoms)
#
# Writes OUTDIR/topol.top, OUTDIR/md.mdp (the segment's run parameters, with
# @SEED@ for the Langevin seed) and OUTDIR/bstate.gro: the basis state after
# minimisation and a short NVT equilibration, coordinates and velocities.
# GMX (default gmx) picks the GROMACS binary.
set -euo pipefail
out=$1
box=${2:-2.3}
gmx=${GMX:-gmx}
mkdir -p "$out"
cd "$out"
work=build
rm -rf "$work" && mkdir "$work"

cat > topol.top <<'TOP'
; Na+ and Cl- in TIP3P water, AMBER99SB-ILDN (GROMACS's bundled copy)
#include "amber99sb-ildn.ff/forcefield.itp"
#include "amber99sb-ildn.ff/tip3p.itp"
#include "amber99sb-ildn.ff/ions.itp"

[ system ]
Na+ Cl- in water

[ molecules ]
NA  1
CL  1
TOP

# The two ions 0.5 nm apart along x in the middle of the box.
awk -v L="$box" 'BEGIN {
  c = L / 2
  print "Na+ Cl-"; print 2
  printf "%5d%-5s%5s%5d%8.3f%8.3f%8.3f\n", 1, "NA", "NA", 1, c - 0.25, c, c
  printf "%5d%-5s%5s%5d%8.3f%8.3f%8.3f\n", 2, "CL", "CL", 2, c + 0.25, c, c
  printf "%10.5f%10.5f%10.5f\n", L, L, L
}' > "$work/ions.gro"

# Fill the box with water (spc216.gro is GROMACS's 3-site water box, the usual
# start for TIP3P); solvate appends the SOL count to topol.top.
"$gmx" -quiet solvate -cp "$work/ions.gro" -cs spc216.gro -p topol.top -o "$work/solvated.gro" >"$work/solvate.log" 2>&1
rm -f \#topol.top.*

# Parameters shared by every stage: PME, 0.9 nm cut-offs (under half the box).
common='cutoff-scheme = Verlet
coulombtype = PME
rcoulomb = 0.9
rvdw = 0.9
DispCorr = EnerPres
constraints = h-bonds
'
printf '%s' "integrator = steep
nsteps = 500
emtol = 500
$common" > "$work/em.mdp"

# The segment: Langevin (sd) at 300 K, 2 fs, 200 steps, an XTC frame every 100
# steps (steps 0, 100, 200: pcoord_len 3). Full precision for the checkpoint.
printf '%s' "integrator = sd
dt = 0.002
nsteps = 200
tinit = 0
tc-grps = System
tau-t = 1.0
ref-t = 300
ld-seed = @SEED@
gen-vel = no
continuation = yes
nstxout-compressed = 100
compressed-x-precision = 1000
nstxout = 0
nstvout = 0
nstenergy = 100
nstlog = 100
nstcalcenergy = 100
$common" > md.mdp

printf '%s' "integrator = sd
dt = 0.002
nsteps = 2500
tc-grps = System
tau-t = 1.0
ref-t = 300
ld-seed = 1
gen-vel = yes
gen-temp = 300
gen-seed = 1
continuation = no
nstxout-compressed = 0
nstenergy = 500
nstlog = 500
$common" > "$work/nvt.mdp"

(
  cd "$work"
  "$gmx" -quiet grompp -f em.mdp -c solvated.gro -p ../topol.top -o em.tpr -po em.out.mdp -maxwarn 0 >grompp-em.log 2>&1
  "$gmx" -quiet mdrun -nt 1 -deffnm em >mdrun-em.log 2>&1
  "$gmx" -quiet grompp -f nvt.mdp -c em.gro -p ../topol.top -o nvt.tpr -po nvt.out.mdp -maxwarn 0 >grompp-nvt.log 2>&1
  "$gmx" -quiet mdrun -nt 1 -deffnm nvt >mdrun-nvt.log 2>&1
)
# The basis state: coordinates (0.001 nm) and velocities as the .gro holds them.
# Segments started from it read exactly these numbers, so the pcoord
# get_pcoord.sh computes from bstate.gro is the step-0 frame they stream.
cp "$work/nvt.gro" bstate.gro
rm -rf "$work"
echo "built $(sed -n 2p bstate.gro | tr -d ' ') atoms in $out"
