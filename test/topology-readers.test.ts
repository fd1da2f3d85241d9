// Topology readers against MDAnalysis on files written by the engines' own
// tools (OpenMM PDBFile, ParmEd prmtop/psf from the OpenMM system, gmx
// editconf/pdb2gmx/genion), plus malformed input.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { boxDimensions } from '../src/core/frame.js';
import { parseGRO, parsePDB, parsePrmtop, parsePSF, readTopology, TopologyError } from '../src/topology/index.js';
import { system, type SystemName } from './support/analysis-fixtures.js';

const files: [SystemName, string][] = [
  ['openmm', 'system.pdb'],
  ['openmm', 'models.pdb'],
  ['openmm', 'system.prmtop'],
  ['openmm', 'system.psf'],
  ['gromacs', 'system.gro'],
  ['gromacs', 'system.pdb'],
];

beforeAll(() => {
  system('openmm');
  system('gromacs');
}, 600_000);

describe.each(files)('%s %s matches MDAnalysis', (sys, file) => {
  const load = () => {
    const s = system(sys);
    return { top: readTopology(path.join(s.dir, file)), ref: s.topologies[file] };
  };

  it('atom names, residue names and numbers, types, segids', () => {
    const { top, ref } = load();
    expect(top.natoms).toBe(ref.natoms);
    expect(top.names).toEqual(ref.names);
    expect(top.resnames).toEqual(ref.resnames);
    expect(Array.from(top.resids)).toEqual(ref.resids);
    expect(top.types).toEqual(ref.types);
    expect(top.segids).toEqual(ref.segids);
    if (ref.chainIDs) expect(top.chainIDs).toEqual(ref.chainIDs);
  });

  it('masses (from the file, else from the elements or types) and charges', () => {
    const { top, ref } = load();
    expect(ref.masses).toBeDefined();
    for (let i = 0; i < top.natoms; i++) expect(top.masses[i]).toBeCloseTo(ref.masses![i], 6);
    if (ref.charges) {
      expect(top.charges).toBeDefined();
      for (let i = 0; i < top.natoms; i++) expect(top.charges![i]).toBeCloseTo(ref.charges[i], 6);
    } else {
      expect(top.charges).toBeUndefined();
    }
  });

  it('elements: as MDAnalysis where it has them, guessed from names otherwise', () => {
    const { top, ref } = load();
    if (ref.elements) expect(top.elements).toEqual(ref.elements);
    else expect(top.guessed.has('elements')).toBe(true);
    // every atom of these systems has a known element
    expect(top.elements.filter((e) => !e)).toEqual([]);
    const waterH = top.names.findIndex((n, i) => /^H/.test(n) && ['HOH', 'SOL', 'WAT'].includes(top.resnames[i]));
    expect(top.elements[waterH]).toBe('H');
  });

  it('coordinates and box of every model', () => {
    const { top, ref } = load();
    if (!ref.positions) {
      expect(top.frames.length).toBe(0);
      return;
    }
    expect(top.frames.length).toBe(ref.positions.length);
    top.frames.forEach((f, m) => {
      const want = ref.positions![m];
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(f.positions[i] - want[i]));
      expect(worst).toBeLessThan(1e-3);
    });
    if (ref.dimensions) {
      const dims = boxDimensions(top.frames[0].box!);
      dims.forEach((v, k) => expect(v).toBeCloseTo(ref.dimensions![k], 3));
    } else {
      // MDAnalysis ignores a CRYST1 record that precedes MODEL 1; westream applies it to every model.
      const cryst = /^CRYST1(.{9})(.{9})(.{9})(.{7})(.{7})(.{7})/m.exec(fs.readFileSync(path.join(system(sys).dir, file), 'latin1'));
      expect(cryst).not.toBeNull();
      for (const f of top.frames) boxDimensions(f.box!).forEach((v, k) => expect(v).toBeCloseTo(Number(cryst![k + 1]), 3));
    }
  });
});

describe('malformed files name the file and the line', () => {
  const atom = (serial: number, name: string, x: string) =>
    `ATOM  ${String(serial).padStart(5)} ${name.padEnd(4)} ALA A   1    ${x}   2.000   3.000  1.00  0.00           C`;

  it('PDB: a bad coordinate', () => {
    const text = ['CRYST1   30.000   30.000   30.000  90.00  90.00  90.00 P 1           1', atom(1, 'N', '   1.000'), atom(2, 'CA', '   1.x00'), 'END'].join('\n');
    expect(() => parsePDB(text, 'bad.pdb')).toThrow(/^bad\.pdb:3: bad x coordinate "1\.x00" in columns 31-38/);
  });

  it('PDB: coordinates read as Number() reads their columns, to float32 (fast path and fallback), CRLF lines', () => {
    const fields = ['  -0.000', '   0.000', '  +1.500', '    .125', '     12.', '-999.999', '9999.999', '1.23e+02', ' 1.5e-01', '   7    '];
    for (let k = 0; k < 2000; k++) fields.push(((Math.random() - 0.5) * 2000).toFixed(k % 4).padStart(8).slice(-8));
    const text = fields.map((f, i) => atom(i + 1, 'CA', f)).join('\r\n') + '\r\nEND\r\n';
    const top = parsePDB(text, 'coords.pdb');
    const x = Array.from(top.frames[0].positions.filter((_, i) => i % 3 === 0));
    expect(x).toEqual(fields.map((f) => Math.fround(Number(f))));
    expect(Object.is(x[0], -0)).toBe(true);
    expect(top.names[0]).toBe('CA');
    expect(top.elements.at(-1)).toBe('C');
  });

  it('PDB: a truncated ATOM record, no atoms at all, models of different sizes', () => {
    expect(() => parsePDB(`${atom(1, 'N', '   1.000')}\nATOM      2  CA  ALA A   1       1.0`, 'short.pdb')).toThrow(
      /^short\.pdb:2: ATOM record too short \(\d+ columns; coordinates end at column 54\)/,
    );
    expect(() => parsePDB('REMARK nothing here\nEND\n', 'empty.pdb')).toThrow(/^empty\.pdb: no ATOM or HETATM records/);
    const models = ['MODEL        1', atom(1, 'N', '   1.000'), atom(2, 'CA', '   2.000'), 'ENDMDL', 'MODEL        2', atom(1, 'N', '   1.000'), 'ENDMDL', 'END'];
    expect(() => parsePDB(models.join('\n'), 'models.pdb')).toThrow(/^models\.pdb:5: model 2 has 1 atoms, the first has 2/);
  });

  it('PDB: hybrid-36 serials and wrapped residue numbers', () => {
    const line = (serial: string, resid: string) => `ATOM  ${serial} OW   SOL W${resid}       1.000   2.000   3.000  1.00  0.00           O`;
    const top = parsePDB([line('99999', '9999'), line('A0000', '   0'), line('A0001', '   1')].join('\n'), 'big.pdb');
    expect(Array.from(top.ids)).toEqual([99999, 100000, 100001]);
    expect(Array.from(top.resids)).toEqual([9999, 10000, 10001]);
  });

  it('GRO: bad atom count, bad coordinate, missing box', () => {
    expect(() => parseGRO('title\n  x\n', 'a.gro')).toThrow(/^a\.gro:2: bad atom count "x"/);
    const ok = '    1SOL     OW    1   0.126   1.624   1.679';
    expect(() => parseGRO(`title\n2\n${ok}\n    1SOL    HW1    2   0.1a6   1.624   1.679\n   1.0 1.0 1.0\n`, 'b.gro')).toThrow(
      /^b\.gro:4: bad x coordinate "0\.1a6" in columns 21-28/,
    );
    expect(() => parseGRO(`title\n2\n${ok}\n`, 'c.gro')).toThrow(/^c\.gro:4: file ends after 1 of 2 atoms/);
    expect(() => parseGRO(`title\n1\n${ok}\n1.0 x 1.0\n`, 'd.gro')).toThrow(/^d\.gro:4: bad box line "1\.0 x 1\.0"/);
  });

  it('prmtop: a missing section and a bad number', () => {
    const s = system('openmm');
    const text = fs.readFileSync(path.join(s.dir, 'system.prmtop'), 'utf8');
    expect(() => parsePrmtop(text.replace('%FLAG MASS', '%FLAG MASSES'), 'x.prmtop')).toThrow(/^x\.prmtop: missing required section %FLAG MASS$/);
    const lines = text.split('\n');
    const k = lines.findIndex((l) => l.startsWith('%FLAG CHARGE')) + 2;
    lines[k] = 'garbage-not-a-number' + lines[k].slice(20);
    expect(() => parsePrmtop(lines.join('\n'), 'y.prmtop')).toThrow(new RegExp(`^y\\.prmtop:${k + 1}: bad number "garbage-not-a-nu" in section CHARGE`));
  });

  it('PSF: a bad atom line and a short section', () => {
    const head = 'PSF EXT\n\n         1 !NTITLE\n REMARKS test\n\n         2 !NATOM\n';
    const a1 = '         1 SYS      1        ALA      N        NH1     -0.300000       14.0070           0\n';
    expect(() => parsePSF(`${head}${a1}         2 SYS      1        ALA      CA\n`, 'bad.psf')).toThrow(/^bad\.psf:8: bad atom line/);
    expect(() => parsePSF(`${head}${a1}\n         0 !NBOND: bonds\n`, 'short.psf')).toThrow(/^short\.psf:8: the !NATOM section ends after 1 of 2 atoms/);
    expect(() => parsePSF('not a psf\n', 'n.psf')).toThrow(/^n\.psf:1: not a PSF file/);
  });

  it('readTopology: unknown extension, missing file', () => {
    expect(() => readTopology('/nonexistent/x.xyz')).toThrow(/unknown topology format "\.xyz"/);
    expect(() => readTopology('/nonexistent/x.pdb')).toThrow(TopologyError);
    expect(() => readTopology('/nonexistent/x.pdb')).toThrow(/^\/nonexistent\/x\.pdb: no such file$/);
  });
});
