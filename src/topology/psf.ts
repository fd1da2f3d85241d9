// CHARMM/NAMD/X-PLOR PSF reader: the !NATOM section, in the fixed columns of
// the standard or EXTended format (by the header flags), or space separated
// (NAMD flag, or a line the columns do not fit), as MDAnalysis's PSFParser.
import { Topology, TopologyError } from './topology.js';

type Layout = 'STANDARD' | 'EXTENDED' | 'NAMD';

const columns: Record<Exclude<Layout, 'NAMD'>, [number, number][]> = {
  STANDARD: [[0, 8], [9, 13], [14, 18], [19, 23], [24, 28], [29, 33], [34, 48], [48, 62]],
  EXTENDED: [[0, 10], [11, 19], [20, 28], [29, 37], [38, 46], [47, 51], [52, 66], [66, 70]],
};

/** Parses PSF text. */
export function parsePSF(text: string, file = 'input.psf'): Topology {
  const lines = text.split(/\r?\n/);
  const header = lines[0] ?? '';
  if (!header.startsWith('PSF')) throw new TopologyError(file, 1, `not a PSF file: the first line must start with "PSF", got "${header.slice(0, 20)}"`);
  let layout: Layout = header.includes('NAMD') ? 'NAMD' : header.includes('EXT') ? 'EXTENDED' : 'STANDARD';
  let k = 1;
  // Find "N !NATOM" (skipping the title section).
  let natoms = -1;
  for (; k < lines.length; k++) {
    const m = /^\s*(\d+)\s+!NATOM/.exec(lines[k]);
    if (m) {
      natoms = Number(m[1]);
      k++;
      break;
    }
    const t = /^\s*(\d+)\s+!NTITLE/.exec(lines[k]);
    if (t) k += Number(t[1]);
  }
  if (natoms < 0) throw new TopologyError(file, undefined, 'no "!NATOM" section');
  if (natoms === 0) throw new TopologyError(file, k, 'the !NATOM section is empty');
  const names: string[] = [];
  const resnames: string[] = [];
  const resids: number[] = [];
  const segids: string[] = [];
  const types: string[] = [];
  const charges: number[] = [];
  const masses: number[] = [];
  const ids: number[] = [];
  const parse = (line: string, how: Layout): [number, string, number, string, string, string, number, number] | undefined => {
    const f = how === 'NAMD' ? line.trim().split(/\s+/).slice(0, 8) : columns[how].map(([a, b]) => line.slice(a, b));
    if (f.length < 8) return undefined;
    const id = Number(f[0]);
    const resid = parseInt(f[2].trim(), 10); // like atoi: "12A" is 12
    const charge = f[6].trim() === '' ? NaN : Number(f[6]);
    const mass = f[7].trim() === '' ? NaN : Number(f[7]);
    if (!Number.isInteger(id) || !Number.isFinite(resid) || !Number.isFinite(charge) || !Number.isFinite(mass)) return undefined;
    return [id, f[1].trim() || 'SYSTEM', resid, f[3].trim(), f[4].trim(), f[5].trim(), charge, mass];
  };
  for (let i = 0; i < natoms; i++, k++) {
    const ln = k + 1;
    const line = lines[k];
    if (line === undefined || line.trim() === '' || /![A-Z]/.test(line)) {
      throw new TopologyError(file, ln, `the !NATOM section ends after ${i} of ${natoms} atoms`);
    }
    let v = parse(line, layout);
    if (!v && layout !== 'NAMD') {
      // MDAnalysis does the same: a line the columns do not fit is read space separated from here on.
      v = parse(line, 'NAMD');
      if (v) layout = 'NAMD';
    }
    if (!v) {
      throw new TopologyError(file, ln, `bad atom line "${line.trim()}": expected id segid resid resname name type charge mass`);
    }
    ids.push(v[0]);
    segids.push(v[1]);
    resids.push(v[2]);
    resnames.push(v[3]);
    names.push(v[4]);
    types.push(v[5]);
    charges.push(v[6]);
    masses.push(v[7]);
  }
  return new Topology({ source: { file, format: 'psf' }, names, resnames, resids, segids, types, masses, charges, ids });
}
