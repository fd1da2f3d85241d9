# The pcoord script of WESTPA's tutorial7.1-basic-nacl (westpa_tutorials,
# common_files/get_distance.py), unchanged apart from these comments: a fresh
# Python process loads the parent state and the segment's DCD with mdtraj and
# writes the Na-Cl distance in Å, one row per frame, to dist.dat.
import mdtraj
import numpy

parent = mdtraj.load('parent.xml', top='bstate.pdb')
traj = mdtraj.load('seg.dcd', top='bstate.pdb')
dist_parent = mdtraj.compute_distances(parent, [[0,1]], periodic=True)
dist_traj = mdtraj.compute_distances(traj, [[0,1]], periodic=True)
dist = numpy.append(dist_parent,dist_traj)
d_arr = numpy.asarray(dist)
d_arr = d_arr*10
numpy.savetxt("dist.dat", d_arr)
