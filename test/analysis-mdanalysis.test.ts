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
});
