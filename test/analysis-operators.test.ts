// The operators on small hand-made frames with known answers, the RxJS
// plumbing (select, everyNth, row, user measures), frame.retain(), and errors.
import { bufferCount, from, lastValueFrom, map, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';

import { OwnedFrame, type Frame } from '../src/core/frame.js';
import {
  angle,
  centerOfGeometry,
  centerOfMass,
  coordination,
  dihedral,
  distance,
  everyNth,
  measure,
  minDistance,
  nativeContacts,
  radiusOfGyration,
  rmsd,
  row,
  select,
} from '../src/analysis/index.js';
import { parsePDB } from '../src/topology/index.js';

const frame = (xyz: number[], box?: number[], index = 0) =>
  new OwnedFrame({ index, natoms: xyz.length / 3, positions: Float32Array.from(xyz), box: box && Float32Array.from(box) });

const run = <T>(frames: Frame[], op: (s: Observable<Frame>) => Observable<T>) => lastValueFrom(from(frames).pipe(op, toArray()));

describe('geometry with known answers', () => {
  it('distance: minimum image in orthorhombic and triclinic boxes, and without', async () => {
    const ortho = frame([1, 1, 1, 9, 1, 1], [10, 0, 10, 0, 0, 10]);
    expect(distance([0], [1]).compute(ortho)).toBeCloseTo(2, 6);
    expect(distance([0], [1], { pbc: false }).compute(ortho)).toBeCloseTo(8, 6);
    // triclinic: b = (5, 10, 0); the atoms are one b-vector apart (plus 1 Å in x)
    const tri = frame([0, 0, 0, 6, 10, 0], [10, 5, 10, 0, 0, 10]);
    expect(distance([0], [1]).compute(tri)).toBeCloseTo(1, 6);
    expect(await run([ortho, frame([0, 0, 0, 3, 4, 0])], distance([0], [1]))).toEqual([expect.closeTo(2, 6), expect.closeTo(5, 6)]);
  });

  it('angle and dihedral, with the IUPAC sign', () => {
    const f = frame([1, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(angle([0], [1], [2]).compute(f)).toBeCloseTo(90, 10);
    // a-b-c-d with d rotated +60° about b→c (x axis): +60 (IUPAC: clockwise looking along b→c is positive)
    const c60 = Math.cos(Math.PI / 3), s60 = Math.sin(Math.PI / 3);
    const d = frame([0, 1, 0, 0, 0, 0, 1, 0, 0, 1, c60, s60]);
    expect(dihedral([0], [1], [2], [3]).compute(d)).toBeCloseTo(60, 6);
    const trans = frame([0, 1, 0, 0, 0, 0, 1, 0, 0, 1, -1, 0]);
    expect(Math.abs(dihedral([0], [1], [2], [3]).compute(trans))).toBeCloseTo(180, 6);
  });

  it('centres, radius of gyration, coordination and minimum distance', () => {
    const top = parsePDB(
      [
        'ATOM      1  C   MOL A   1       0.000   0.000   0.000  1.00  0.00           C',
        'ATOM      2  O   MOL A   1       2.000   0.000   0.000  1.00  0.00           O',
        'ATOM      3  H   MOL A   1       0.000   3.000   0.000  1.00  0.00           H',
        'END',
      ].join('\n'),
      'mol.pdb',
    );
    const f = top.frames[0];
    const all = top.select('all');
    expect(Array.from(centerOfGeometry(all).compute(f))).toEqual([expect.closeTo(2 / 3, 6), expect.closeTo(1, 6), 0]);
    const m = [12.011, 15.999, 1.008];
    const M = m[0] + m[1] + m[2];
    const com = centerOfMass(all).compute(f);
    expect(com[0]).toBeCloseTo((2 * m[1]) / M, 6);
    expect(com[1]).toBeCloseTo((3 * m[2]) / M, 6);
    const rg2 = (m[0] * (com[0] ** 2 + com[1] ** 2) + m[1] * ((2 - com[0]) ** 2 + com[1] ** 2) + m[2] * (com[0] ** 2 + (3 - com[1]) ** 2)) / M;
    expect(radiusOfGyration(all).compute(f)).toBeCloseTo(Math.sqrt(rg2), 6);
    expect(radiusOfGyration(all, { weights: 'geometry' }).compute(f)).toBeCloseTo(Math.sqrt((0.444444 + 1 + 1.777777 + 1 + 0.444444 + 4) / 3), 4);
    expect(coordination(top.select('name C'), top.select('name O H'), { cutoff: 2 }).compute(f)).toBe(1); // <= cutoff counts
    expect(coordination(top.select('name C'), top.select('name O H'), { cutoff: 3 }).compute(f)).toBe(2);
    expect(minDistance(top.select('name H'), top.select('name C O')).compute(f)).toBeCloseTo(3, 6);
  });

  it('RMSD: zero for the reference, QCP against a known rotation, weights and options', () => {
    const xyz = [0, 0, 0, 1.5, 0, 0, 1.5, 1.5, 0, 0, 1.5, 1.5, 3, 2, 1];
    const ref = frame(xyz);
    // rotate by 90° about z and translate: superposition recovers it exactly
    const moved = frame(xyz.map((_, i) => (i % 3 === 0 ? -xyz[i + 1] + 5 : i % 3 === 1 ? xyz[i - 1] - 2 : xyz[i] + 7)));
    const atoms = [0, 1, 2, 3, 4];
    expect(rmsd(atoms, ref).compute(ref)).toBeLessThan(1e-6);
    expect(rmsd(atoms, ref).compute(moved)).toBeLessThan(1e-5);
    // without superposition the rotation shows
    expect(rmsd(atoms, ref, { superposition: false }).compute(moved)).toBeGreaterThan(1);
    // a pure translation: zero when centred, the shift when not
    const shifted = frame(xyz.map((v, i) => v + (i % 3 === 0 ? 3 : 0)));
    expect(rmsd(atoms, ref, { superposition: false }).compute(shifted)).toBeLessThan(1e-6);
    expect(rmsd(atoms, ref, { superposition: false, center: false }).compute(shifted)).toBeCloseTo(3, 5);
  });

  it('native contacts: all formed in the reference, fewer when pulled apart', () => {
    const ref = frame([0, 0, 0, 3, 0, 0, 0, 3, 0, 10, 10, 10]);
    const q = nativeContacts([0], [1, 2, 3], ref, { radius: 4 });
    expect(q.compute(ref)).toBe(1);
    expect(q.compute(frame([0, 0, 0, 5, 0, 0, 0, 3, 0, 10, 10, 10]))).toBe(0.5);
    const soft = nativeContacts([0], [1, 2], ref, { radius: 4, method: 'soft_cut' });
    expect(soft.compute(ref)).toBeCloseTo(1 / (1 + Math.exp(5 * (3 - 1.8 * 3))), 10);
    expect(() => nativeContacts([0], [3], ref, { radius: 4 })).toThrow(/no pairs .* are within 4 Å in the reference/);
  });
});

describe('operators in a stream', () => {
  const frames = Array.from({ length: 10 }, (_, k) => frame([0, 0, 0, k + 1, 0, 0, 0, 2 * k, 0], undefined, k));

  it('select gathers the atoms into frames that own their arrays', async () => {
    const out = await run(frames, select([2, 0]));
    expect(out[3].natoms).toBe(2);
    expect(Array.from(out[3].positions)).toEqual([0, 6, 0, 0, 0, 0]);
    expect(out[3].positions.buffer).not.toBe(frames[3].positions.buffer);
  });

  it('everyNth keeps every n-th frame', async () => {
    expect((await run(frames, everyNth(4))).map((f) => f.index)).toEqual([0, 4, 8]);
    expect((await run(frames, everyNth(4, 1))).map((f) => f.index)).toEqual([1, 5, 9]);
    expect(() => everyNth(0)).toThrow(/positive integer/);
  });

  it('row zips several values of the same frame into one pcoord row, with labels', async () => {
    const nframes = measure((f: Frame) => f.index * 10, 'tenfold');
    const r = row(distance([0], [1]), distance([0], [2]), nframes, (f: Frame) => [f.natoms, -1]);
    expect(r.labels).toEqual(['distance', 'distance', 'tenfold', 'value3']);
    const out = await run(frames.slice(0, 3), r);
    expect(out.map((a) => Array.from(a))).toEqual([
      [1, 0, 0, 3, -1],
      [2, 2, 10, 3, -1],
      [3, 4, 20, 3, -1],
    ]);
  });

  it('frame.retain(): what to call before keeping a zero-copy frame past the synchronous step', async () => {
    // A source that reuses one buffer for every frame, like a ring slot.
    const slot = new Float32Array(3);
    class SlotFrame implements Frame {
      readonly natoms = 1;
      readonly positions = slot;
      constructor(readonly index: number) {}
      retain(): Frame {
        return new OwnedFrame({ index: this.index, natoms: 1, positions: this.positions.slice() });
      }
    }
    const source = new Observable<Frame>((sub) => {
      for (let k = 0; k < 3; k++) {
        slot[0] = k; // the producer overwrites the slot
        sub.next(new SlotFrame(k));
      }
      sub.complete();
    });
    const kept = await lastValueFrom(source.pipe(bufferCount(3)));
    expect(kept.map((f) => f.positions[0])).toEqual([2, 2, 2]); // every buffered view shows the last write
    const retained = await lastValueFrom(source.pipe(map((f) => f.retain()), bufferCount(3)));
    expect(retained.map((f) => f.positions[0])).toEqual([0, 1, 2]);
  });
});

describe('errors', () => {
  const f = frame([0, 0, 0, 1, 0, 0]);
  it('groups that are empty, out of the frame, or without masses', () => {
    expect(() => distance([], [1])).toThrow(/distance: no atoms given/);
    expect(() => distance([0], [5]).compute(f)).toThrow(/atom index 5 is outside frame 0 \(2 atoms\)/);
    expect(() => distance([0.5], [1])).toThrow(/not a non-negative integer/);
    expect(() => centerOfMass([0, 1])).toThrow(/centerOfMass needs masses: pass an AtomGroup/);
    expect(() => coordination([0], [1], { cutoff: -1 })).toThrow(/cutoff/);
  });
  it('an RMSD reference with too few atoms', () => {
    expect(() => rmsd([0, 1, 5], f)).toThrow(/atom 5 is not in the reference \(2 atoms\)/);
  });
});
