"""The α ≈ 1 pcoord (bench/westpa, heavy.yaml) written the tutorial way: a
fresh Python process loads parent.xml + seg.dcd with mdtraj after the engine
exits and computes, per frame, the Na-Cl distance and, for each cutoff in
SPEC, the number of (water O, water H) pairs within that cutoff (minimum
image) — one measure at a time, as the pipeline file declares them.

    python heavy_mdtraj.py SPEC.json      (writes dist.dat)
"""
import json
import sys

import mdtraj
import numpy

spec = json.load(open(sys.argv[1]))
parent = mdtraj.load('parent.xml', top='bstate.pdb')
traj = mdtraj.join([parent, mdtraj.load('seg.dcd', top='bstate.pdb')])
top = traj.topology
o = top.select(spec['a'])
h = top.select(spec['b'])
pairs = numpy.array([(i, j) for i in o for j in h])
cols = [mdtraj.compute_distances(traj, [[0, 1]], periodic=True)[:, 0] * 10]
for cutoff in spec['cutoffs']:
    d = mdtraj.compute_distances(traj, pairs, periodic=True)
    cols.append((d * 10 <= cutoff).sum(axis=1))
numpy.savetxt('dist.dat', numpy.column_stack(cols))
