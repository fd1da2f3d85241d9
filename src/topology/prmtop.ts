// AMBER prmtop reader: %FLAG sections in Fortran fixed-width %FORMAT, as
// MDAnalysis's TOPParser reads them (charges ÷ 18.2223, resids numbered from 1,
// segids from RESIDUE_CHAINID when present, elements from ATOMIC_NUMBER).
import { elementFromAtomicNumber } from './elements.js';
import { Topology, TopologyError } from './topology.js';

interface Section {
  flag: string;
  line: number;
  kind: 'a' | 'i' | 'e';
  width: number;
  /** Data lines with their 1-based line numbers. */
  data: { text: string; line: number }[];
}

/** AMBER charge units → e. */
const AMBER_CHARGE = 18.2223;

/** Parses prmtop text. */
export function parsePrmtop(text: string, file = 'input.prmtop'): Topology {
  const lines = text.split(/\r?\n/);
  if (!lines[0]?.startsWith('%VERSION') && !lines.some((l) => l.startsWith('%FLAG'))) {
    throw new TopologyError(file, 1, 'not an AMBER prmtop file: no %VERSION or %FLAG lines');
  }
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    const ln = k + 1;
    if (line.startsWith('%FLAG')) {
      const flag = line.slice(5).trim();
      current = { flag, line: ln, kind: 'a', width: 0, data: [] };
      sections.set(flag, current);
      continue;
    }
    if (line.startsWith('%FORMAT')) {
      if (!current) throw new TopologyError(file, ln, '%FORMAT before any %FLAG');
      const m = /^%FORMAT\s*\(\s*(\d+)\s*([aAiIeEfF])\s*(\d+)(?:\.\d+)?\s*\)/.exec(line);
      if (!m) throw new TopologyError(file, ln, `unsupported format "${line.trim()}" for ${current.flag}`);
      current.kind = m[2].toLowerCase() === 'a' ? 'a' : m[2].toLowerCase() === 'i' ? 'i' : 'e';
      current.width = Number(m[3]);
      continue;
    }
    if (line.startsWith('%')) continue; // %VERSION, %COMMENT
    if (current) current.data.push({ text: line, line: ln });
  }

  const need = (flag: string): Section => {
    const s = sections.get(flag);
    if (!s) throw new TopologyError(file, undefined, `missing required section %FLAG ${flag}`);
    if (!s.width) throw new TopologyError(file, s.line, `section ${flag} has no %FORMAT line`);
    return s;
  };
  const strings = (s: Section, count: number): string[] => {
    const out: string[] = [];
    for (const { text } of s.data) {
      for (let i = 0; i + 1 <= text.length && out.length < count; i += s.width) out.push(text.slice(i, i + s.width).trim());
      if (out.length >= count) break;
    }
    if (out.length < count) throw new TopologyError(file, s.line, `section ${s.flag} has ${out.length} entries, expected ${count}`);
    return out;
  };
  const numbers = (s: Section, count: number): number[] => {
    const out: number[] = [];
    for (const { text, line } of s.data) {
      for (let i = 0; i < text.length && out.length < count; i += s.width) {
        const field = text.slice(i, i + s.width);
        if (field.trim() === '') continue;
        const v = Number(field.replace(/[dD]/, 'e'));
        if (!Number.isFinite(v) || (s.kind === 'i' && !Number.isInteger(v))) {
          throw new TopologyError(file, line, `bad ${s.kind === 'i' ? 'integer' : 'number'} "${field.trim()}" in section ${s.flag}`);
        }
        out.push(v);
      }
      if (out.length >= count) break;
    }
    if (out.length < count) throw new TopologyError(file, s.line, `section ${s.flag} has ${out.length} entries, expected ${count}`);
    return out;
  };

  const pointers = numbers(need('POINTERS'), 12);
  const natoms = pointers[0];
  const nres = pointers[11];
  if (natoms <= 0) throw new TopologyError(file, need('POINTERS').line, `POINTERS gives ${natoms} atoms`);
  const names = strings(need('ATOM_NAME'), natoms);
  const charges = numbers(need('CHARGE'), natoms).map((q) => q / AMBER_CHARGE);
  const masses = numbers(need('MASS'), natoms);
  const types = sections.has('AMBER_ATOM_TYPE') ? strings(need('AMBER_ATOM_TYPE'), natoms) : undefined;
  const labels = strings(need('RESIDUE_LABEL'), nres);
  const pointer = numbers(need('RESIDUE_POINTER'), nres);
  const elements = sections.has('ATOMIC_NUMBER') ? numbers(need('ATOMIC_NUMBER'), natoms).map(elementFromAtomicNumber) : undefined;
  const chains = sections.has('RESIDUE_CHAINID') ? strings(need('RESIDUE_CHAINID'), nres) : undefined;

  const resnames = new Array<string>(natoms);
  const resids = new Int32Array(natoms);
  const segids = chains ? new Array<string>(natoms) : undefined;
  for (let r = 0; r < nres; r++) {
    const start = pointer[r] - 1;
    const end = r + 1 < nres ? pointer[r + 1] - 1 : natoms;
    if (start < 0 || end > natoms || start >= end) {
      throw new TopologyError(file, need('RESIDUE_POINTER').line, `RESIDUE_POINTER of residue ${r + 1} (${pointer[r]}) is out of order or out of range`);
    }
    for (let i = start; i < end; i++) {
      resnames[i] = labels[r];
      resids[i] = r + 1;
      if (segids) segids[i] = chains![r];
    }
  }
  if (pointer[0] !== 1) throw new TopologyError(file, need('RESIDUE_POINTER').line, `RESIDUE_POINTER must start at atom 1, not ${pointer[0]}`);
  return new Topology({
    source: { file, format: 'prmtop' },
    names,
    resnames,
    resids,
    segids,
    types,
    elements,
    masses,
    charges,
  });
}
