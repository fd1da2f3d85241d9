// Every operator against MDAnalysis, frame by frame, on trajectories that
// OpenMM (orthorhombic box) and GROMACS (rhombic dodecahedron: triclinic)
// produced in test/fixtures/analysis_systems.py. Tolerances: distances and
// RMSD 1e-4 Å or 1e-5 relative; angles 1e-3 degrees.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  angle,
  centerOfGeometry,
  centerOfMass,
  coordination,
  dihedral,
  distance,
  distances,
  minDistance,
  nativeContacts,
  radiusOfGyration,
  rmsd,
  type Measure,
} from '../src/analysis/index.js';
import { OwnedFrame, type Frame } from '../src/core/frame.js';
import { readTopology, type Topology } from '../src/topology/index.js';
import { system, type Case, type SystemName } from './support/analysis-fixtures.js';

const topologyFile: Record<SystemName, string> = { openmm: 'system.prmtop', gromacs: 'system.gro' };

function operatorFor(c: Case, top: Topology, ref: Topology): Measure<number | ArrayLike<number>> {
  const sel = (s: unknown) => top.select(s as string);
  const pbc = c.pbc === undefined ? undefined : (c.pbc as boolean);
  switch (c.kind) {
    case 'distance':
      return distance(sel(c.a), sel(c.b), { pbc, center: c.center as 'mass' | 'geometry' | undefined });
    case 'distances':
      return distances(sel(c.a), sel(c.b));
    case 'angle': {
      const [a, b, d] = (c.atoms as string[]).map(sel);
      return angle(a, b, d);
    }
    case 'dihedral': {
      const [a, b, d, e] = (c.atoms as string[]).map(sel);
      return dihedral(a, b, d, e);
    }
    case 'com':
      return centerOfMass(sel(c.select));
    case 'cog':
      return centerOfGeometry(sel(c.select));
    case 'rg':
      return radiusOfGyration(sel(c.select));
    case 'rmsd':
      return rmsd(sel(c.select), ref.frames[0], {
        fit: c.fit ? sel(c.fit) : undefined,
        superposition: c.superposition as boolean | undefined,
        center: c.center as boolean | undefined,
        weights: c.weights as 'mass' | undefined,
      });
    case 'q':
      return nativeContacts(sel(c.a), sel(c.b), ref.frames[0], {
        radius: c.radius as number,
        method: c.method as 'hard_cut',
        beta: c.beta as number | undefined,
        lambda: c.lambda as number | undefined,
      });
    case 'coordination':
      return coordination(sel(c.a), sel(c.b), { cutoff: c.cutoff as number });
    case 'mindist':
      return minDistance(sel(c.a), sel(c.b));
    default:
      throw new Error(`no operator for case kind ${c.kind}`);
  }
}

function tolerance(kind: string, want: number): number {
  if (kind === 'angle' || kind === 'dihedral') return 1e-3;
  if (kind === 'coordination') return 0;
  if (kind === 'q') return 1e-6;
  return Math.max(1e-4, 1e-5 * Math.abs(want));
}

/** A unit quaternion turning by `degrees` about a random axis (r: uniform deviates). */
function turn(r: () => number, degrees: number): number[] {
  const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const axis = [g(), g(), g()];
  const n = Math.hypot(...axis);
  const h = (degrees * Math.PI) / 360;
  return [Math.cos(h), ...axis.map((v) => (Math.sin(h) * v) / n)];
}
const compose = (a: number[], b: number[]) => [
  a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
  a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
  a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
  a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
];
/** The frame turned by quaternion q about the origin and moved by t (no box: the motion leaves the cell). */
function moved(f: Frame, q: number[], t: number[]): OwnedFrame {
  const [a, b, c, d] = q;
  const R = [
    1 - 2 * (c * c + d * d), 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), 1 - 2 * (b * b + d * d), 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), 1 - 2 * (b * b + c * c),
  ];
  const p = f.positions;
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i += 3) {
    for (let k = 0; k < 3; k++) out[i + k] = R[3 * k] * p[i] + R[3 * k + 1] * p[i + 1] + R[3 * k + 2] * p[i + 2] + t[k];
  }
  return new OwnedFrame({ index: f.index, natoms: f.natoms, positions: out });
}

const kinds = ['distance', 'distances', 'angle', 'dihedral', 'com', 'cog', 'rg', 'rmsd', 'q', 'coordination', 'mindist'];

describe.each(['openmm', 'gromacs'] as SystemName[])('%s trajectory: westream vs MDAnalysis', (sys) => {
  let top: Topology;
  let ref: Topology;
  beforeAll(() => {
    const s = system(sys);
    top = readTopology(path.join(s.dir, topologyFile[sys]));
    ref = readTopology(path.join(s.dir, s.files.reference));
  }, 600_000);

  it('covers every operator kind, on every frame, with a periodic box', () => {
    const s = system(sys);
    expect(new Set(s.cases.map((c) => c.kind))).toEqual(new Set(kinds));
    expect(s.frames.length).toBeGreaterThanOrEqual(12);
    for (const f of s.frames) expect(f.box![0]).toBeGreaterThan(20);
    const triclinic = s.frames[0].box![1] !== 0 || s.frames[0].box![3] !== 0;
    expect(triclinic).toBe(sys === 'gromacs');
  });

  it.each(kinds)('%s', (kind) => {
    const s = system(sys);
    const cases = s.cases.filter((c) => c.kind === kind);
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const op = operatorFor(c, top, ref);
      s.frames.forEach((frame, k) => {
        const got = op.compute(frame);
        const want = c.expected[k];
        const g = typeof got === 'number' ? [got] : Array.from(got);
        const w = typeof want === 'number' ? [want] : want;
        expect(g.length, `${c.id} frame ${k}`).toBe(w.length);
        for (let i = 0; i < w.length; i++) {
          const err = Math.abs(g[i] - w[i]);
          if (!(err <= tolerance(kind, w[i]))) {
            throw new Error(`${sys} "${c.id}" frame ${k}[${i}]: westream ${g[i]}, MDAnalysis ${w[i]} (|Δ| ${err.toExponential(2)})`);
          }
        }
      });
    }
  });

  // RMSD with superposition does not depend on the frame's orientation: the
  // same trajectory tumbling (each frame turned 40° from the one before about
  // a random axis, so that it soon points every way), and in independent
  // random orientations, still matches MDAnalysis frame by frame.
  it.each(['tumbling', 'random'])('rmsd with superposition of frames in any orientation (%s)', (motion) => {
    const s = system(sys);
    let seed = motion === 'tumbling' ? 7 : 8;
    const r = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const cases = s.cases.filter((c) => c.kind === 'rmsd' && c.superposition !== false);
    expect(cases.length).toBeGreaterThan(3);
    for (const c of cases) {
      const op = operatorFor(c, top, ref);
      let q = [1, 0, 0, 0];
      for (let pass = 0; pass < 2; pass++) {
        s.frames.forEach((frame, k) => {
          q = motion === 'tumbling' ? compose(turn(r, 40), q) : turn(r, 360 * r());
          const got = op.compute(moved(frame, q, [r() * 80 - 40, r() * 80 - 40, r() * 80 - 40])) as number;
          const want = c.expected[k] as number;
          const err = Math.abs(got - want);
          if (!(err <= tolerance('rmsd', want))) throw new Error(`${sys} "${c.id}" frame ${k} (${motion}): westream ${got}, MDAnalysis ${want} (|Δ| ${err.toExponential(2)})`);
        });
      }
    }
  });
});
