// The IMD codec and unit tables, without sockets.
import { describe, expect, it } from 'vitest';

import {
  ImdType,
  encodeHeader,
  lowerTriangularBox,
  parseHandshake,
  parseSessionInfo,
  readHeader,
  swap32InPlace,
  typeName,
  v3FrameBytes,
  v3FrameLayout,
} from '../src/sources/imd/protocol.js';
import { LAMMPS_UNITS, unitScales, v2StepFromEnergies } from '../src/sources/imd/units.js';
import { boxDimensions } from '../src/core/frame.js';

describe('IMD handshake and headers', () => {
  it('derives version and body byte order from the unswapped length slot (reference capture: 00000004 02000000)', () => {
    const le = readHeader(Buffer.from('0000000402000000', 'hex'));
    expect(parseHandshake(le.type, le.length)).toEqual({ version: 2, littleEndian: true });
    const le3 = readHeader(Buffer.from('0000000403000000', 'hex'));
    expect(parseHandshake(le3.type, le3.length)).toEqual({ version: 3, littleEndian: true });
    const be = readHeader(Buffer.from('0000000400000003', 'hex'));
    expect(parseHandshake(be.type, be.length)).toEqual({ version: 3, littleEndian: false });
  });

  it('refuses other versions and other first messages, naming what it got', () => {
    expect(() => parseHandshake(4, 1)).toThrow(/length slot holds 0x00000001/);
    expect(() => parseHandshake(4, 0x01000000)).toThrow(/neither 2 nor 3 in either byte order/);
    expect(() => parseHandshake(2, 528)).toThrow(/got FCOORDS \(2\) with length 528/);
  });

  it('encodes control headers big-endian (the GROMACS capture: FCOORDS 528 atoms = 00000002 00000210)', () => {
    expect(encodeHeader(ImdType.FCOORDS, 528).toString('hex')).toBe('0000000200000210');
    expect(encodeHeader(ImdType.GO).toString('hex')).toBe('0000000300000000');
    expect(encodeHeader(ImdType.WAIT, 1).toString('hex')).toBe('0000001000000001');
    expect(typeName(11)).toBe('RESUME (11)');
    expect(typeName(99)).toBe('unknown type 99');
  });

  it('session info: seven flags in the v3 order; the frame layout and size follow', () => {
    const s = parseSessionInfo(Uint8Array.from([1, 0, 1, 1, 0, 1, 1]));
    expect(s).toEqual({ time: true, energies: false, box: true, coords: true, wrapped: false, velocities: true, forces: true });
    expect(v3FrameLayout(s)).toEqual([ImdType.TIME, ImdType.BOX, ImdType.FCOORDS, ImdType.VELOCITIES, ImdType.FORCES]);
    // the LAMMPS v3 default: 100 + 36 N bytes per frame (reference §4.2)
    expect(v3FrameBytes(s, 1000)).toBe(100 + 36 * 1000);
    expect(v3FrameBytes({ ...s, energies: true }, 1000)).toBe(148 + 36 * 1000);
    expect(() => parseSessionInfo(new Uint8Array(6))).toThrow(/must be 7 bytes/);
  });

  it('swaps 32-bit words', () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    swap32InPlace(b);
    expect(Array.from(b)).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });
});

describe('boxes', () => {
  it('LAMMPS rows A (lx,0,0), B (xy,ly,0), C (xz,yz,lz) become [ax, bx, by, cx, cy, cz], scaled', () => {
    const out = new Float32Array(6);
    lowerTriangularBox([10, 0, 0, 1, 11, 0, 2, 3, 12], 10, out);
    expect(Array.from(out)).toEqual([100, 10, 110, 20, 30, 120]);
  });

  it('a rotated cell keeps its lengths and angles', () => {
    // a cubic-ish triclinic cell, rotated 30 degrees about z
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const rot = (v: number[]) => [c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]];
    const a = [20, 0, 0];
    const b = [3, 21, 0];
    const cc = [4, 5, 22];
    const ref = new Float32Array(6);
    lowerTriangularBox([...a, ...b, ...cc], 1, ref);
    const out = new Float32Array(6);
    lowerTriangularBox([...rot(a), ...rot(b), ...rot(cc)], 1, out);
    const d0 = boxDimensions(ref);
    const d1 = boxDimensions(out);
    for (let k = 0; k < 6; k++) expect(d1[k]).toBeCloseTo(d0[k], 4);
  });
});

describe('units', () => {
  it('every LAMMPS style is self-consistent: velocity = length / time (electron: its own time unit)', () => {
    for (const [style, u] of Object.entries(LAMMPS_UNITS)) {
      if (style === 'electron') continue;
      expect(u.velocity, style).toBeCloseTo(u.length / u.time, 12);
    }
  });

  it('factors for the common styles', () => {
    expect(LAMMPS_UNITS.real).toEqual({ length: 1, time: 1e-3, velocity: 1e3, force: 4.184, energy: 4.184 });
    expect(LAMMPS_UNITS.metal.force).toBeCloseTo(96.4853, 4); // eV/Å -> kJ/(mol Å)
    expect(LAMMPS_UNITS.si.force).toBeCloseTo(6.02214076e10, -2); // N -> kJ/(mol Å)
    expect(LAMMPS_UNITS.nano.length).toBe(10);
    expect(LAMMPS_UNITS.electron.length).toBeCloseTo(0.529177, 6);
  });

  it('per engine: GROMACS and spec engines as sent, NAMD kcal -> kJ, LAMMPS per style, overrides', () => {
    expect(unitScales('gromacs').scales).toEqual({ length: 1, time: 1, velocity: 1, force: 1, energy: 1 });
    expect(unitScales('namd').scales.force).toBe(4.184);
    expect(unitScales('namd').note).toMatch(/not verified/);
    expect(unitScales('lammps', 'lj').note).toMatch(/reduced units/);
    expect(unitScales('lammps', 'real', { force: 1 }).scales.force).toBe(1);
    expect(() => unitScales('lammps')).toThrow(/`units` style/);
  });

  it('GROMACS v2 reports the ENERGIES step one ahead of its positions', () => {
    expect(v2StepFromEnergies('gromacs', 11)).toBe(10);
    expect(v2StepFromEnergies('namd', 11)).toBe(11);
  });
});
