// Invariants on real frames: RMSD under rigid motion of the frame, distances
// and angles under shifts by box vectors (orthorhombic and triclinic), Rg of a
// rigid body; every kernel instruction set agrees; bad indices never crash.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { OwnedFrame, type Frame } from '../src/core/frame.js';
import {
  angle,
  centerOfMass,
  coordination,
  dihedral,
  distance,
  distances,
  kernels,
  minDistance,
  radiusOfGyration,
  rmsd,
} from '../src/analysis/index.js';
import { readTopology, type Topology } from '../src/topology/index.js';
import { system, type SystemName } from './support/analysis-fixtures.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random rotation matrix (uniform quaternion). */
function rotation(r: () => number): number[] {
  const [u1, u2, u3] = [r(), r(), r()];
  const a = Math.sqrt(1 - u1) * Math.sin(2 * Math.PI * u2), b = Math.sqrt(1 - u1) * Math.cos(2 * Math.PI * u2);
  const c = Math.sqrt(u1) * Math.sin(2 * Math.PI * u3), d = Math.sqrt(u1) * Math.cos(2 * Math.PI * u3);
  return [
    1 - 2 * (c * c + d * d), 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), 1 - 2 * (b * b + d * d), 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), 1 - 2 * (b * b + c * c),
  ];
}

function transformed(f: Frame, R: number[], t: number[]): OwnedFrame {
  const p = f.positions;
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    const [x, y, z] = [p[i], p[i + 1], p[i + 2]];
    out[i] = R[0] * x + R[1] * y + R[2] * z + t[0];
    out[i + 1] = R[3] * x + R[4] * y + R[5] * z + t[1];
    out[i + 2] = R[6] * x + R[7] * y + R[8] * z + t[2];
  }
  return new OwnedFrame({ index: f.index, natoms: f.natoms, positions: out }); // no box: rigid motion leaves the cell
}

/** Moves every atom by a random integer combination of the box vectors. */
function shifted(f: Frame, r: () => number): OwnedFrame {
  const b = f.box!;
  const p = f.positions.slice();
  for (let i = 0; i < p.length; i += 3) {
    const [na, nb, nc] = [0, 1, 2].map(() => Math.floor(r() * 5) - 2);
    p[i] += na * b[0] + nb * b[1] + nc * b[3];
    p[i + 1] += nb * b[2] + nc * b[4];
    p[i + 2] += nc * b[5];
  }
  return new OwnedFrame({ index: f.index, natoms: f.natoms, positions: p, box: b.slice() });
}

const systems: [SystemName, string][] = [
  ['openmm', 'system.prmtop'],
  ['gromacs', 'system.gro'],
];

describe.each(systems)('%s frames (%s)', (sys, file) => {
  let top: Topology;
  let frames: OwnedFrame[];
  beforeAll(() => {
    const s = system(sys);
    top = readTopology(path.join(s.dir, file));
    frames = s.frames;
  }, 600_000);

  it('RMSD with superposition is invariant under rotation and translation of the frame', () => {
    const r = rng(1);
    const bb = top.select('backbone');
    const heavy = top.select('protein and not name H*');
    const ref = frames[0];
    const ops = [rmsd(bb, ref), rmsd(heavy, ref, { fit: bb }), rmsd(top.select('not resname NA CL'), ref), rmsd(bb, ref, { weights: 'mass' })];
    for (const f of frames.slice(1, 6)) {
      for (let k = 0; k < 4; k++) {
        const g = transformed(f, rotation(r), [r() * 100 - 50, r() * 100 - 50, r() * 100 - 50]);
        for (const op of ops) expect(Math.abs(op.compute(g) - op.compute(f))).toBeLessThan(2e-5);
      }
    }
    // The reference moved rigidly is at RMSD 0 (the precise path near zero).
    for (let k = 0; k < 4; k++) {
      const g = transformed(ref, rotation(r), [r() * 40, -r() * 40, r() * 40]);
      for (const op of ops.slice(0, 2)) expect(op.compute(g)).toBeLessThan(1e-4);
    }
  });

  it('RMSD of a tumbling trajectory: the same values, one float pass per frame (the prediction follows the orientation)', () => {
    const r = rng(4);
    const ref = frames[0];
    const all = top.select('not resname NA CL SOD CLA');
    const bb = top.select('backbone');
    const ops = [rmsd(all, ref), rmsd(bb, ref), rmsd(bb, ref, { weights: 'mass' })];
    const k = kernels();
    // each frame turned a further 20 degrees about a random axis (and moved): after a few frames any orientation
    let R = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const seq = frames.slice(1).concat(frames.slice(1)).map((f) => {
      const axis = rotation(r).slice(0, 3);
      const n = Math.hypot(...axis);
      const [x, y, z] = axis.map((v) => v / n);
      const t = (20 * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t), C = 1 - c;
      const D = [x * x * C + c, x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, y * y * C + c, y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, z * z * C + c];
      R = Array.from({ length: 9 }, (_, i) => D[3 * Math.floor(i / 3)] * R[i % 3] + D[3 * Math.floor(i / 3) + 1] * R[3 + (i % 3)] + D[3 * Math.floor(i / 3) + 2] * R[6 + (i % 3)]);
      return { f, g: transformed(f, R, [r() * 60 - 30, r() * 60 - 30, r() * 60 - 30]) };
    });
    const want = seq.map(({ f }) => ops.map((op) => op.compute(f)));
    // fresh operators: their predictions start at the identity, as for a new segment
    const fresh = [rmsd(all, ref), rmsd(bb, ref), rmsd(bb, ref, { weights: 'mass' })];
    const before = k.qcpCounters();
    seq.forEach(({ g }, i) => fresh.forEach((op, j) => expect(Math.abs(op.compute(g) - want[i][j])).toBeLessThan(2e-5)));
    const after = k.qcpCounters();
    expect(after.calls - before.calls).toBe(3 * seq.length);
    expect(after.doublePasses - before.doublePasses).toBe(0);
    expect(after.floatPasses - before.floatPasses).toBe(3 * seq.length);
  });

  it('distances, angles, dihedrals, minimum distance and coordination are invariant under shifts by box vectors', () => {
    const r = rng(2);
    const s = (x: string) => top.select(x);
    const ops = [
      distance(s('resname NA SOD'), s('resname CL CLA')), // group centres: not shift-invariant, checked below
      distance(s('resid 2-4 and backbone'), s('resid 9-11 and backbone'), { center: 'mass' }),
      angle(s('resid 4 and name N'), s('resid 4 and name CA'), s('resid 4 and name C')),
      dihedral(s('resid 5 and name N'), s('resid 5 and name CA'), s('resid 5 and name C'), s('resid 6 and name N')),
      minDistance(s('protein'), s('resname NA CL SOD CLA')),
      coordination(s('resname NA SOD'), s('water and name O OW'), { cutoff: 3.5 }),
    ];
    const ion = s('resname NA SOD').indices[0];
    const single = distance([ion], s('resname CL CLA').indices.slice(0, 1));
    const arr = distances(s('protein and name CA'), s('resname NA CL SOD CLA'));
    for (const f of frames.slice(0, 6)) {
      // whole molecules must stay whole for centre distances: shift only single atoms for those
      const g = shifted(f, r);
      for (const op of [ops[4], ops[5], single]) {
        const a = op.compute(f) as number, b = op.compute(g) as number;
        expect(Math.abs(a - b)).toBeLessThan(1e-4);
      }
      // angles and dihedrals only use bond vectors: invariant too
      for (const op of [ops[2], ops[3]]) expect(Math.abs((op.compute(f) as number) - (op.compute(g) as number))).toBeLessThan(1e-3);
      const da = arr.compute(f).slice();
      const db = arr.compute(g);
      for (let k = 0; k < da.length; k++) expect(Math.abs(da[k] - db[k])).toBeLessThan(1e-3);
      expect(ops[0].compute(f)).toBeGreaterThan(0);
      expect(ops[1].compute(f)).toBeGreaterThan(0);
    }
  });

  it('radius of gyration of a rigid body is constant; its centre of mass moves with it', () => {
    const r = rng(3);
    const prot = top.select('protein');
    const rg = radiusOfGyration(prot);
    const com = centerOfMass(prot);
    const f = frames[2];
    const rg0 = rg.compute(f);
    const c0 = com.compute(f);
    for (let k = 0; k < 8; k++) {
      const R = rotation(r);
      const t = [r() * 60 - 30, r() * 60 - 30, r() * 60 - 30];
      const g = transformed(f, R, t);
      expect(Math.abs(rg.compute(g) - rg0)).toBeLessThan(1e-4);
      const c = com.compute(g);
      for (let d = 0; d < 3; d++) {
        const want = R[3 * d] * c0[0] + R[3 * d + 1] * c0[1] + R[3 * d + 2] * c0[2] + t[d];
        expect(Math.abs(c[d] - want)).toBeLessThan(1e-4);
      }
    }
  });

  it('a contiguous run of atoms (streamed as a view of the frame) gives what the same atoms gathered give', () => {
    const n = Math.min(frames[0].natoms - 10, 700);
    const run = Int32Array.from({ length: n }, (_, i) => 7 + i);
    const reversed = run.slice().reverse(); // the same atoms through an index: gathered
    const ref = frames[0];
    const [a, b] = [rmsd(run, ref), rmsd(reversed, ref)];
    const [c, d] = [radiusOfGyration(run, { weights: 'geometry' }), radiusOfGyration(reversed, { weights: 'geometry' })];
    const [e, g] = [rmsd(run, ref, { fit: top.select('backbone') }), rmsd(reversed, ref, { fit: top.select('backbone') })];
    for (const f of frames.slice(1, 4)) {
      expect(Math.abs(a.compute(f) - b.compute(f))).toBeLessThan(1e-5);
      expect(Math.abs(c.compute(f) - d.compute(f))).toBeLessThan(1e-5);
      expect(Math.abs(e.compute(f) - g.compute(f))).toBeLessThan(1e-5);
    }
    // a run that leaves the frame is reported, not read
    const beyond = Int32Array.from({ length: 100 }, (_, i) => frames[0].natoms - 50 + i);
    expect(() => radiusOfGyration(beyond, { weights: 'geometry' }).compute(frames[1])).toThrow(/atom index \d+ is outside/);
  });

  it('every kernel instruction set gives the same values', () => {
    const k = kernels();
    const best = k.isa();
    const prot = top.select('protein');
    const all = top.select('all');
    const ops = [rmsd(prot, frames[0]), rmsd(all, frames[0]), radiusOfGyration(all), minDistance(prot, top.select('water')), distances(prot, top.select('resname NA CL SOD CLA'))];
    const values = (isa: 'avx512' | 'avx2' | 'baseline') => {
      k.setIsa(isa);
      return ops.map((op) => Array.from((op.compute(frames[3]) as number | Float32Array) instanceof Float32Array ? (op.compute(frames[3]) as Float32Array) : [op.compute(frames[3]) as number]));
    };
    try {
      const base = values('baseline');
      for (const isa of ['avx2', 'avx512'] as const) {
        const v = values(isa);
        v.forEach((arr, i) => arr.forEach((x, j) => expect(Math.abs(x - base[i][j])).toBeLessThan(1e-4)));
      }
    } finally {
      k.setIsa(best as 'avx512');
    }
    expect(k.isa()).toBe(best);
  });
});

describe('native kernels reject bad input without crashing', () => {
  const k = () => kernels();
  const pos = new Float32Array(30).map((_, i) => i);
  it('indices outside the frame', () => {
    const out = new Float64Array(4);
    expect(() => k().centerRg(pos, Int32Array.of(0, 10), 2, null, out)).toThrow(RangeError);
    expect(() => k().centerRg(pos, Int32Array.of(0, 10), 2, null, out)).toThrow(/atom index 10 \(entry 1\) is outside the frame's 10 atoms/);
    expect(() => k().centerRg(pos, Int32Array.of(-1), 1, null, out)).toThrow(/atom index -1/);
    expect(() => k().distanceStats(pos, Int32Array.of(0), 1, pos, Int32Array.of(99), 1, null, 1, out)).toThrow(RangeError);
    expect(() => k().pairDistances(pos, Int32Array.of(0, 1, 2, 10), null, new Float64Array(2))).toThrow(/atom index 10/);
    const fit = k().qcpFit(new Float32Array(6), null, Int32Array.of(1, 12));
    expect(() => fit(pos)).toThrow(RangeError);
    expect(() => fit(pos)).toThrow(/atom index 12 \(entry 1\) is outside the frame's 10 atoms/);
    expect(() => k().qcpFit(new Float32Array(6), null, null)(pos.subarray(0, 3))).toThrow(/atom index 1 is outside the frame's 1 atoms/);
    expect(() => k().qcpFit(new Float32Array(6), null, Int32Array.of(8, 9))(pos.subarray(0, 27))).toThrow(/atom index 9 is outside the frame's 9 atoms/);
    expect(() => k().qcpFit(new Float32Array(6), null, Int32Array.of(1, -1))).toThrow(/atom index -1/);
    expect(() => k().qcpFit(new Float32Array(5), null, null)).toThrow(/x, y and z arrays of equal length/);
    expect(() => k().qcpFit(new Float32Array(6), null, Int32Array.of(1, 2, 3))).toThrow(/index has 3 atoms, the reference 2/);
    expect(() => k().qcpFit(new Float32Array(6), Float32Array.of(1), null)).toThrow(/one entry per reference atom/);
    expect(() => k().qcpFit(new Float32Array(6), Float32Array.of(0, 0), null)).toThrow(/weights must sum to a positive number/);
    expect(() => k().qcpFit(new Float32Array(0), null, null)).toThrow(/selection is empty/);
    expect(() => k().qcpFit(new Float32Array(6), null, null)(pos, new Float64Array(11))).toThrow(/transform must have 12 entries/);
    expect(() => k().withinMask(pos, Int32Array.of(0), 1, Int32Array.of(3, 11), 2, null, 2, new Uint8Array(10))).toThrow(RangeError);
  });
  it('wrong array types and sizes', () => {
    const out = new Float64Array(4);
    expect(() => k().centerRg(new Float64Array(30) as unknown as Float32Array, null, 10, null, out)).toThrow(/positions must be a Float32Array/);
    expect(() => k().centerRg(pos.subarray(0, 29), null, 9, null, out)).toThrow(/multiple of 3/);
    expect(() => k().centerRg(pos, null, 11, null, out)).toThrow(/more atoms than the frame/);
    expect(() => k().distanceArray(pos, null, 10, pos, null, 10, Float32Array.of(1, 2), new Float32Array(100))).toThrow(/box must have 6 entries/);
    expect(() => k().distanceArray(pos, null, 10, pos, null, 10, null, new Float32Array(99))).toThrow(/out must hold nA \* nB = 100/);
    expect(() => k().centerRg(pos, null, 0, null, out)).toThrow(/empty/);
    expect(() => k().centerRg(pos, null, 2, Float32Array.of(0, 0), out)).toThrow(/sum to zero/);
  });
});
