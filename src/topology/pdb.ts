// PDB reader (ATOM/HETATM, CRYST1, MODEL/ENDMDL), following MDAnalysis's
// PDBParser for the topology: fixed columns, hybrid-36 serials, resids
// unwrapped past 9999, segids from columns 73-76 else the chain ids.
import { OwnedFrame } from '../core/frame.js';
import { cellToBox } from './cell.js';
import { Topology, TopologyError } from './topology.js';

interface Model {
  positions: number[];
  line: number;
}

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/**
 * The value of a plain decimal ("  -12.345") in columns [from, to) of
 * `line`, or undefined for anything else (blank, exponents, junk: the
 * caller falls back to Number and its error). Exact: the digits form an
 * integer N and N / 10^k rounds once, as Number() of the same text does.
 */
function fixedDecimal(line: string, from: number, to: number): number | undefined {
  let i = from;
  while (i < to && line.charCodeAt(i) === 32) i++; // ' '
  let negative = false;
  const sign = line.charCodeAt(i);
  if (sign === 45 || sign === 43) { // '-' '+'
    negative = sign === 45;
    i++;
  }
  let n = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < to; i++) {
    const c = line.charCodeAt(i);
    if (c >= 48 && c <= 57) { // '0'..'9'
      n = n * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) { // the first '.'
      decimals = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0) return undefined;
  const v = decimals > 0 ? n / POW10[decimals] : n;
  return negative ? -v : v;
}

/** Parses PDB text. `file` names it in error messages. Multi-model files give one frame per model. */
export function parsePDB(text: string, file = 'input.pdb'): Topology {
  const lines = text.split('\n'); // trimEnd below drops a \r
  const names: string[] = [];
  const resnames: string[] = [];
  const resids: number[] = [];
  const chainIDs: string[] = [];
  const segids: string[] = [];
  const elements: string[] = [];
  const ids: number[] = [];
  const models: Model[] = [];
  let box: Float32Array | undefined;
  let current: Model | undefined;
  let topologyDone = false;
  let residPrev = 0;
  let lastWrappedSerial = 100000;

  const fail = (ln: number, msg: string): never => {
    throw new TopologyError(file, ln, msg);
  };
  const coordinate = (line: string, ln: number, from: number, axis: string): number => {
    const v = fixedDecimal(line, from, from + 8);
    if (v !== undefined) return v;
    const s = line.slice(from, from + 8);
    const w = Number(s);
    if (s.trim() === '' || !Number.isFinite(w)) {
      fail(ln, `bad ${axis} coordinate "${s.trim()}" in columns ${from + 1}-${from + 8} of ${line.slice(0, 6).trim()} record`);
    }
    return w;
  };

  for (let k = 0; k < lines.length; k++) {
    const ln = k + 1;
    const line = lines[k].trimEnd();
    const record = line.slice(0, 6);
    if (record === 'CRYST1') {
      const v = [line.slice(6, 15), line.slice(15, 24), line.slice(24, 33), line.slice(33, 40), line.slice(40, 47), line.slice(47, 54)].map(Number);
      if (v.some((x) => !Number.isFinite(x))) fail(ln, `bad CRYST1 record "${line}": expected a b c alpha beta gamma in columns 7-54`);
      // a 1 Å^3 cell is the usual placeholder for "no box" (MDAnalysis ignores it too)
      if (!(v[0] === 1 && v[1] === 1 && v[2] === 1) && v[0] > 0 && v[1] > 0 && v[2] > 0) box = cellToBox(v);
      continue;
    }
    if (record === 'MODEL ') {
      current = { positions: [], line: ln };
      models.push(current);
      continue;
    }
    if (record.startsWith('ENDMDL')) {
      topologyDone = topologyDone || names.length > 0;
      current = undefined;
      continue;
    }
    if (record.startsWith('END')) {
      if (names.length > 0) break;
      continue;
    }
    if (!line.startsWith('ATOM') && !line.startsWith('HETATM')) continue;
    if (line.length < 54) fail(ln, `${record.trim()} record too short (${line.length} columns; coordinates end at column 54)`);
    if (!current) {
      current = { positions: [], line: ln };
      models.push(current);
    }
    current.positions.push(coordinate(line, ln, 30, 'x'), coordinate(line, ln, 38, 'y'), coordinate(line, ln, 46, 'z'));
    if (topologyDone) continue;
    const name = line.slice(12, 16).trim();
    names.push(name);
    resnames.push(line.slice(17, 21).trim());
    chainIDs.push(line.slice(21, 22).trim());
    segids.push(line.slice(72, 76).trim());
    elements.push(line.slice(76, 78).trim());
    const serialText = line.slice(6, 11);
    let serial = Number(serialText);
    if (!Number.isInteger(serial) || serialText.trim() === '') {
      const h = hy36decode(serialText.trim(), 5);
      if (h === undefined) serial = lastWrappedSerial++;
      else serial = h;
    }
    ids.push(serial);
    const residText = line.slice(22, 26);
    let resid: number;
    if (residText.trim() === '' || !/^\s*-?\d+\s*$/.test(residText)) {
      const h = hy36decode(residText.trim(), 4);
      if (h === undefined) fail(ln, `bad residue number "${residText.trim()}" in columns 23-26`);
      resid = h!;
    } else {
      resid = Number(residText);
      while (resid - residPrev < -5000) resid += 10000;
    }
    residPrev = resid;
    resids.push(resid);
  }
  if (names.length === 0) throw new TopologyError(file, undefined, 'no ATOM or HETATM records');
  const n = names.length;
  const withAtoms = models.filter((m) => m.positions.length > 0);
  const frames: OwnedFrame[] = [];
  for (const m of withAtoms) {
    if (m.positions.length !== 3 * n) {
      throw new TopologyError(file, m.line, `model ${frames.length + 1} has ${m.positions.length / 3} atoms, the first has ${n}`);
    }
    frames.push(new OwnedFrame({ index: frames.length, natoms: n, positions: Float32Array.from(m.positions), box: box?.slice() }));
  }
  const haveSegids = segids.some((s) => s);
  const segs = haveSegids ? segids : chainIDs.some((c) => c) ? chainIDs.slice() : undefined;
  return new Topology({
    source: { file, format: 'pdb' },
    names,
    resnames,
    resids,
    chainIDs,
    segids: segs,
    ids,
    types: elements.some((e) => e) ? elements : undefined,
    elements: elements.some((e) => e) ? elements : undefined,
    frames,
  });
}

/** Hybrid-36 (as written by VMD, OpenMM and others past 99999 atoms / 9999 residues). */
function hy36decode(s: string, width: number): number | undefined {
  if (s.length !== width) return undefined;
  const digitsUpper = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const digitsLower = '0123456789abcdefghijklmnopqrstuvwxyz';
  const decode = (digits: string): number | undefined => {
    let v = 0;
    for (const ch of s) {
      const d = digits.indexOf(ch);
      if (d < 0) return undefined;
      v = v * 36 + d;
    }
    return v;
  };
  const first = s[0];
  if (first >= 'A' && first <= 'Z') {
    const v = decode(digitsUpper);
    return v === undefined ? undefined : v - 10 * 36 ** (width - 1) + 10 ** width;
  }
  if (first >= 'a' && first <= 'z') {
    const v = decode(digitsLower);
    return v === undefined ? undefined : v + 16 * 36 ** (width - 1) + 10 ** width;
  }
  return undefined;
}
