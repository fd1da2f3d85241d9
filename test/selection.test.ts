// The selection language against MDAnalysis: static selections on every
// topology format, dynamic ones (around, sphzone, byres, same ... as) frame by
// frame on real trajectories, and error messages that point at the culprit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { OwnedFrame } from '../src/core/frame.js';
import { loadPipeline } from '../src/pipeline/index.js';
import { parseSelection, readTopology, SelectionError, type Topology } from '../src/topology/index.js';
import { system, type SystemName } from './support/analysis-fixtures.js';

beforeAll(() => {
  system('openmm');
  system('gromacs');
}, 600_000);

// Where MDAnalysis has no element or chain attributes for a format, westream
// guesses elements from names (all O-names here start with O, H-names with H).
/** The SelectionError parsing `sel` throws (the test fails if it throws nothing or something else). */
function selectionError(sel: string): SelectionError {
  try {
    parseSelection(sel);
  } catch (e) {
    expect(e).toBeInstanceOf(SelectionError);
    return e as SelectionError;
  }
  throw new Error(`no error for selection ${JSON.stringify(sel.slice(0, 80))}`);
}

const equivalent: Record<string, string> = { 'element O': 'name O*', 'element H and protein': 'name H* and protein' };

const files: [SystemName, string][] = [
  ['openmm', 'system.pdb'],
  ['openmm', 'system.prmtop'],
  ['openmm', 'system.psf'],
  ['gromacs', 'system.gro'],
  ['gromacs', 'system.pdb'],
];

describe.each(files)('static selections on %s %s', (sys, file) => {
  it('select the same atoms as MDAnalysis', () => {
    const s = system(sys);
    const top = readTopology(path.join(s.dir, file));
    const ref = s.topologies[file].selections;
    const compared: string[] = [];
    for (const [sel, want] of Object.entries(ref)) {
      const got = Array.from(top.select(sel, { allowEmpty: true }).indices);
      if (Array.isArray(want)) {
        expect(got, sel).toEqual(want);
      } else if (sel in equivalent) {
        const other = ref[equivalent[sel]];
        const expected = Array.isArray(other) ? other : Array.from(top.select(equivalent[sel]).indices);
        expect(got.length, sel).toBeGreaterThan(0);
        expect(got, sel).toEqual(expected);
      } else {
        expect(want.error, sel).toMatch(/chainIDs/); // MDAnalysis has no chain ids for this format: none match
        expect(got, sel).toEqual([]);
      }
      compared.push(sel);
    }
    expect(compared.length).toBe(Object.keys(ref).length);
    expect(compared.length).toBeGreaterThan(25);
  });
});

describe.each([
  ['openmm', 'system.prmtop'],
  ['gromacs', 'system.gro'],
] as [SystemName, string][])('dynamic selections on %s (%s), frame by frame', (sys, file) => {
  it('around, sphzone, byres and same residue as match MDAnalysis on every frame', () => {
    const s = system(sys);
    const top = readTopology(path.join(s.dir, file));
    expect(s.dynamic.length).toBeGreaterThanOrEqual(7);
    for (const { selection, expected } of s.dynamic) {
      const g = top.select(selection);
      expect(g.dynamic, selection).toBe(true);
      expect(expected.length).toBe(s.frames.length);
      s.frames.forEach((f, k) => expect(Array.from(g.at(f)), `${selection} @ frame ${k}`).toEqual(expected[k]));
    }
  });
});

describe('selection semantics', () => {
  let top: Topology;
  beforeAll(() => {
    top = readTopology(path.join(system('openmm').dir, 'system.pdb'));
  });

  it('and/or bind equally from the left and not binds tightest, as in MDAnalysis', () => {
    const ids = (s: string) => Array.from(top.select(s, { allowEmpty: true }).indices);
    expect(ids('name N or name CA and resid 3')).toEqual(ids('(name N or name CA) and resid 3'));
    expect(ids('not name CA and resid 3')).toEqual(ids('(not name CA) and resid 3'));
    expect(ids('resid 3 and not name CA or name N')).toEqual(ids('(resid 3 and (not name CA)) or name N'));
  });

  it('ranges, globs, escapes, bynum/index, hydrogen/heavy', () => {
    const ids = (s: string) => Array.from(top.select(s, { allowEmpty: true }).indices);
    expect(ids('resid 2 to 4')).toEqual(ids('resid 2-4'));
    expect(ids('resid 2 : 4')).toEqual(ids('resid 2:4'));
    expect(ids('bynum 1-5')).toEqual([0, 1, 2, 3, 4]);
    expect(ids('index 3')).toEqual([3]);
    expect(ids('name C?')).toEqual(top.names.flatMap((n, i) => (/^C.$/.test(n) ? [i] : [])));
    expect(ids('name [!C]A')).toEqual(top.names.flatMap((n, i) => (/^[^C]A$/.test(n) ? [i] : [])));
    expect(ids('name [!C]A').length).toBeGreaterThan(0);
    expect(ids('hydrogen')).toEqual(ids('element H'));
    expect(ids('heavy')).toEqual(ids('not element H'));
    expect(ids('protein and heavy').length + ids('protein and hydrogen').length).toBe(ids('protein').length);
  });

  it('within R of includes the reference atoms; around R excludes them', () => {
    const s = system('openmm');
    const t = readTopology(path.join(s.dir, 'system.prmtop'));
    const f = s.frames[0];
    const within = Array.from(t.select('within 4 of resid 4').at(f));
    const around = Array.from(t.select('around 4 resid 4').at(f));
    const res4 = Array.from(t.select('resid 4').indices);
    expect(within).toEqual([...new Set([...around, ...res4])].sort((a, b) => a - b));
    expect(around.some((i) => res4.includes(i))).toBe(false);
  });

  it('point and prop select by coordinates', () => {
    const s = system('openmm');
    const t = readTopology(path.join(s.dir, 'system.prmtop'));
    const f = s.frames[0];
    const [x, y, z] = [f.positions[30], f.positions[31], f.positions[32]];
    expect(Array.from(t.select(`point ${x} ${y} ${z} 0.001`).at(f))).toEqual([10]);
    const above = t.select('prop z > 10').at(f);
    expect(above.length).toBeGreaterThan(0);
    for (const i of above) expect(f.positions[3 * i + 2]).toBeGreaterThan(10);
  });

  it('a dynamic group on a frame with the wrong atom count is an error naming both counts', () => {
    const g = top.select('around 3 resid 4');
    const bad = new OwnedFrame({ index: 7, natoms: 5, positions: new Float32Array(15) });
    expect(() => g.at(bad)).toThrow(/frame 7 has 5 atoms but the topology .*system\.pdb \(pdb, (\d+) atoms, \d+ residues\) has \1: wrong topology/);
    expect(() => g.indices).toThrow(/depends on coordinates/);
  });

  it('long flat and/or chains work (no recursion per term), static and dynamic', () => {
    const ids = (s: string) => Array.from(top.select(s, { allowEmpty: true }).indices);
    // 100 000 terms: resid 1..5 repeated, so the answer is resid 1-5
    const flat = Array.from({ length: 100_000 }, (_, k) => `resid ${(k % 5) + 1}`).join(' or ');
    expect(ids(flat)).toEqual(ids('resid 1-5'));
    // a long selection that matches nothing is named by its start and length, not quoted whole
    const nothing = Array.from({ length: 100_000 }, () => 'resname XYZ').join(' or ');
    expect(() => top.select(nothing)).toThrow(/^selection "resname XYZ or resname XYZ .*… \(1499996 characters\)" matches no atoms in .{0,200}$/);
    // a mixed chain still binds from the left: ((((a or b) and c) or d) ...)
    const mixed = Array.from({ length: 5000 }, () => 'name CA or name N').join(' and ') + ' and resid 3';
    expect(ids(mixed)).toEqual(ids('(name CA or name N) and resid 3'));
    // a dynamic chain (compiled per frame)
    const s = system('openmm');
    const t = readTopology(path.join(s.dir, 'system.prmtop'));
    const f = s.frames[0];
    const dyn = Array.from({ length: 3000 }, (_, k) => `(around 3 resid ${(k % 3) + 1})`).join(' or ');
    expect(Array.from(t.select(dyn).at(f))).toEqual(Array.from(t.select('(around 3 resid 1) or (around 3 resid 2) or (around 3 resid 3)').at(f)));
  });

  it('nesting up to 500 levels works; deeper is a clear SelectionError, not a stack overflow', () => {
    const ids = (s: string) => Array.from(top.select(s, { allowEmpty: true }).indices);
    const nested = (d: number) => '('.repeat(d) + 'resid 3' + ')'.repeat(d);
    expect(ids(nested(500))).toEqual(ids('resid 3'));
    expect(ids('not '.repeat(500) + 'resid 3')).toEqual(ids('resid 3'));
    for (const [sel, pos] of [
      [nested(501), 500],
      [nested(100_000), 500],
      ['not '.repeat(20_000) + 'resid 3', 2000],
      ['byres '.repeat(600) + 'resid 3', 3000],
    ] as [string, number][]) {
      const e = selectionError(sel);
      expect(e.message).toMatch(/^selection nested too deeply \(more than 500 levels/);
      expect(e.position).toBe(pos);
      expect(e.message).toContain(`at character ${pos + 1} of selection "…`);
      // a long selection is quoted around the culprit only, with the caret under it
      const [, quoted, caret] = e.message.split('\n');
      expect(quoted.length).toBeLessThan(200);
      expect(quoted[caret.indexOf('^')]).toBe(sel[pos]);
    }
  });

  it('in a pipeline file, a too-deep or very long selection is a short error naming the file, line and column', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'westream-selection-'));
    fs.writeFileSync(path.join(dir, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
    const write = (a: string) => {
      fs.writeFileSync(path.join(dir, 'p.yaml'), `topology: two.pdb\npcoord:\n  - distance: {a: "${a}", b: name CL}\n`);
      return path.join(dir, 'p.yaml');
    };
    expect(() => loadPipeline(write('('.repeat(600) + 'name NA' + ')'.repeat(600)))).toThrow(
      /\/p\.yaml:3:520: bad selection for pcoord\[0\]\.distance\.a: selection nested too deeply \(more than 500 levels.{0,60} at character 501 of "…\(+…"$/,
    );
    // 2000 flat terms: fine (this was a stack overflow)
    expect(loadPipeline(write(Array.from({ length: 2000 }, () => 'name NA').join(' or '))).pcoordLabels).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a selection that matches nothing is an error unless allowed', () => {
    expect(() => top.select('resname XYZ')).toThrow(/selection "resname XYZ" matches no atoms in .*system\.pdb/);
    expect(top.select('resname XYZ', { allowEmpty: true }).length).toBe(0);
  });

  const errors: [string, RegExp, number][] = [
    ['name CA and', /expected a selection after "and"/, 11],
    ['name CA and )', /expected a selection after "and"/, 12],
    ['resid 1-x', /"1-x" is not a number or a range/, 6],
    ['around x protein', /expected a cutoff distance \(Å\) after "around", found "x"/, 7],
    ['around -2 protein', /must not be negative/, 7],
    ['(name CA', /expected "\)" to close the "\(" at character 1/, 8],
    ['name CA)', /unbalanced "\)"/, 7],
    ['foo CA', /unknown selection keyword "foo"/, 0],
    ['name CA and resid', /expected numbers or ranges after "resid"/, 17],
    ['smarts C', /"smarts" is not supported/, 0],
    ['within 5 resname NA', /expected "of" after "within R"/, 9],
    ['same thing as protein', /unknown property "thing" for "same"/, 5],
    ['name C[A', /unclosed "\[" in pattern "C\[A"/, 6],
    ['', /empty selection/, 0],
    ['protein name CA', /unexpected "name" \(expected "and", "or" or the end\)/, 8],
  ];
  it.each(errors)('error for %j points at the offending character', (sel, message, pos) => {
    const e = selectionError(sel);
    expect(e.message).toMatch(message);
    expect(e.position).toBe(pos);
    expect(e.message).toContain(`at character ${pos + 1} of selection "${sel}"`);
    expect(e.message.split('\n')[2]).toBe('  ' + ' '.repeat(pos) + '^');
  });
});
