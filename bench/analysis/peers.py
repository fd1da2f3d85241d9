"""The Python peers of `npm run bench:analysis`: mdtraj and MDAnalysis on the
same frames that westream analyses, in the same run.

    python peers.py SPEC.json  →  JSON results on stdout

SPEC.json (written by run.mjs) names the raw float32 frame files. Every peer
works on in-memory numpy arrays: file reading and library imports are not
timed, only the per-frame analysis, one thread (OMP_NUM_THREADS=1).
Each measurement is repeated `reps` times; the medians of µs per frame (or
pairs per second) are reported with every repetition.
"""
import json
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import mdtraj as md  # noqa: E402
import MDAnalysis  # noqa: E402
from MDAnalysis.analysis import rms  # noqa: E402
from MDAnalysis.coordinates.memory import MemoryReader  # noqa: E402
from MDAnalysis.lib import distances  # noqa: E402
from MDAnalysis.lib.mdamath import triclinic_box  # noqa: E402

try:
    from MDAnalysis.lib import qcprot
except ImportError:  # pragma: no cover
    qcprot = None

spec = json.load(open(sys.argv[1]))
REPS = spec["reps"]


def frames_of(s):
    """The distinct frames, tiled into one trajectory (westream analyses the same frames in turn)."""
    xyz = np.fromfile(s["file"], dtype=np.float32).reshape(s["nframes"], s["natoms"], 3)
    return np.ascontiguousarray(np.tile(xyz, (s.get("tile", 1), 1, 1)))


def dims_of(box):
    """Lower-triangular (ax bx by cx cy cz) → MDAnalysis [a b c alpha beta gamma]."""
    ax, bx, by, cx, cy, cz = box
    return triclinic_box(np.array([ax, 0, 0]), np.array([bx, by, 0]), np.array([cx, cy, cz])).astype(np.float32)


def timed(fn, nframes):
    """Median µs per frame over REPS runs of fn() (which processes nframes frames)."""
    fn()  # warm-up
    runs = []
    for _ in range(REPS):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) / nframes * 1e6)
    return {"median": float(np.median(runs)), "runs": runs}


def topology(n):
    top = md.Topology()
    chain = top.add_chain()
    res = top.add_residue("X", chain)
    for _ in range(n):
        top.add_atom("C", md.element.carbon, res)
    return top


out = {"versions": {"mdtraj": md.__version__, "MDAnalysis": MDAnalysis.__version__, "numpy": np.__version__}, "rmsd": {}}

# --- RMSD with superposition ---------------------------------------------------
# spec["rmsd"]: frames rotated at most 30° from the reference (keyed by atom
# count); spec["rmsd_rotated"]: frames in any orientation (keyed "N-motion").
out["rmsd_rotated"] = {}
for s in spec["rmsd"] + spec.get("rmsd_rotated", []):
    xyz = frames_of(s)
    n, nf = s["natoms"], len(xyz)
    ref = xyz[0]
    top = topology(n)
    traj = md.Trajectory(xyz / 10.0, top)  # nm
    reftraj = md.Trajectory(ref[None] / 10.0, top)
    r = {}
    # mdtraj as WESTPA scripts call it: centring included, frames in a batch.
    r["mdtraj"] = timed(lambda: md.rmsd(traj, reftraj, 0), nf)
    # mdtraj's best case: trajectory centred beforehand (not timed), batch.
    ctraj = md.Trajectory(xyz / 10.0, top)
    ctraj.center_coordinates()
    cref = md.Trajectory(ref[None] / 10.0, top)
    cref.center_coordinates()
    r["mdtraj_precentered"] = timed(lambda: md.rmsd(ctraj, cref, 0, precentered=True), nf)
    if "key" in s:
        # Also in batches of 8 frames (sliced beforehand, not timed), in case mdtraj's time
        # per frame depended on the batch (40 frames of 100k atoms are 48 MB).
        chunks = [ctraj[i : i + 8] for i in range(0, nf, 8)]
        r["mdtraj_precentered_8"] = timed(lambda: [md.rmsd(c, cref, 0, precentered=True) for c in chunks], nf)
    # MDAnalysis rms.rmsd(center, superposition), one call per frame.
    ref64 = ref.astype(np.float64)
    r["mdanalysis"] = timed(lambda: [rms.rmsd(f, ref64, center=True, superposition=True) for f in xyz], nf)
    # MDAnalysis qcprot on centred float64 coordinates (its kernel alone).
    if qcprot is not None:
        c64 = (xyz - xyz.mean(axis=1, keepdims=True)).astype(np.float64)
        cr64 = ref64 - ref64.mean(axis=0)
        rot = np.zeros(9, dtype=np.float64)

        def qcp_loop():
            for f in c64:
                qcprot.CalcRMSDRotationalMatrix(cr64, f, n, rot, None)

        r["mdanalysis_qcprot"] = timed(qcp_loop, nf)
    # the values, to check that everybody computed the same thing
    r["values"] = [float(rms.rmsd(f, ref64, center=True, superposition=True)) for f in xyz[:5]]
    r["values_mdtraj"] = [float(v) * 10.0 for v in md.rmsd(traj, reftraj, 0)[:5]]
    if "key" in s:
        out["rmsd_rotated"][s["key"]] = r
    else:
        out["rmsd"][str(n)] = r
    del xyz, traj, ctraj, reftraj, cref
    chunks = None
    if qcprot is not None:
        del c64



def other_sections():
    # --- distance arrays ------------------------------------------------------------
    d = spec["distances"]
    xyz = frames_of(d)
    na, nb = d["na"], d["nb"]
    a, b = xyz[0][:na], xyz[0][na : na + nb]
    res = {}
    for label, box in (("none", None), ("orthorhombic", d["ortho"]), ("triclinic", d["triclinic"])):
        dims = None if box is None else dims_of(box)
        buf = np.empty((na, nb), dtype=np.float64)
        t = timed(lambda: distances.distance_array(a, b, box=dims, result=buf), 1)
        res[label] = {"mdanalysis_pairs_per_s": na * nb / (t["median"] * 1e-6), "runs_us": t["runs"]}
        if label != "triclinic":
            top = topology(na + nb)
            traj = md.Trajectory(np.concatenate([a, b])[None] / 10.0, top)
            if box is not None:
                traj.unitcell_vectors = np.array([[[box[0], 0, 0], [box[1], box[2], 0], [box[3], box[4], box[5]]]], dtype=np.float32) / 10.0
            pairs = np.array([[i, na + j] for i in range(na) for j in range(nb)], dtype=np.int32)
            t = timed(lambda: md.compute_distances(traj, pairs, periodic=box is not None), 1)
            res[label]["mdtraj_pairs_per_s"] = na * nb / (t["median"] * 1e-6)
        res[label]["check"] = [float(v) for v in distances.distance_array(a[:2], b[:3], box=dims).ravel()]
    out["distances"] = res

    # --- radius of gyration -----------------------------------------------------------
    g = spec["rg"]
    xyz = frames_of(g)
    masses = np.fromfile(g["masses"], dtype=np.float32).astype(np.float64)
    nf = len(xyz)


    u = MDAnalysis.Universe.empty(g["natoms"])
    u.add_TopologyAttr("masses", masses)
    u.load_new(xyz, format=MemoryReader, order="fac")


    def mda_rg_universe():
        for _ in u.trajectory:
            u.atoms.radius_of_gyration()


    traj = md.Trajectory(xyz / 10.0, topology(g["natoms"]))
    out["rg"] = {
        "mdanalysis": timed(mda_rg_universe, nf),
        "mdtraj": timed(lambda: md.compute_rg(traj, masses=masses), nf),
        "values": [float(v) * 10 for v in md.compute_rg(traj, masses=masses)[:3]],
    }

    # --- loading a PDB topology ---------------------------------------------------
    t = spec["topology"]
    out["topology"] = {
        "mdanalysis": timed(lambda: MDAnalysis.Universe(t["file"]), 1),
        "mdtraj": timed(lambda: md.load_pdb(t["file"]), 1),
        "natoms": [MDAnalysis.Universe(t["file"]).atoms.n_atoms, md.load_pdb(t["file"]).n_atoms],
    }

    # --- the whole pipeline, per frame ---------------------------------------------
    p = spec["pipeline"]
    xyz = frames_of(p)
    boxes = np.tile(np.fromfile(p["boxes"], dtype=np.float32).reshape(p["nframes"], 6), (p["tile"], 1))
    nf = len(xyz)
    ina, icl = p["na"], p["cl"]
    ow = np.array(p["ow"], dtype=np.int64)
    ref_ow = xyz[0][ow].astype(np.float64)
    dims = [dims_of(b) for b in boxes]


    def mda_pipeline():
        rows = []
        for f, dm in zip(xyz, dims):
            dist = distances.calc_bonds(f[ina], f[icl], box=dm)
            pairs = distances.capped_distance(f[ina][None, :], f[ow], p["cutoff"], box=dm, return_distances=False)
            r = rms.rmsd(f[ow], ref_ow, center=True, superposition=True)
            rows.append((float(dist), len(pairs), r))
        return rows


    top = topology(p["natoms"])
    mtraj = md.Trajectory(xyz / 10.0, top)
    mtraj.unitcell_vectors = np.array([[[b[0], 0, 0], [b[1], b[2], 0], [b[3], b[4], b[5]]] for b in boxes], dtype=np.float32) / 10.0
    mref = md.Trajectory(xyz[:1] / 10.0, top)


    def mdtraj_pipeline():
        dist = md.compute_distances(mtraj, [[ina, icl]], periodic=True)
        pairs = np.array([[ina, int(j)] for j in ow], dtype=np.int32)
        near = (md.compute_distances(mtraj, pairs, periodic=True) <= p["cutoff"] / 10.0).sum(axis=1)
        r = md.rmsd(mtraj, mref, 0, atom_indices=ow)
        return dist, near, r


    rows = mda_pipeline()
    out["pipeline"] = {
        "mdanalysis": timed(mda_pipeline, nf),
        "mdtraj": timed(mdtraj_pipeline, nf),
        "values": [list(r) for r in rows[:3]],
    }


if "distances" in spec:
    other_sections()
out["cpu_seconds"] = time.process_time()
json.dump(out, sys.stdout)
