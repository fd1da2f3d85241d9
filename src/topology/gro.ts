// GROMACS .gro reader: fixed columns (resid 1-5, resname 6-10, name 11-15,
// serial 16-20), coordinates in nm with the precision the file uses, box line
// of 3 or 9 numbers. Converted to Å. Resids unwrapped past 99999 like MDAnalysis.
import { OwnedFrame } from '../core/frame.js';
import { Topology, TopologyError } from './topology.js';

/** Parses GRO text (one or more frames; the topology is the first). */
export function parseGRO(text: string, file = 'input.gro'): Topology {
  const lines = text.split(/\r?\n/);
  const names: string[] = [];
  const resnames: string[] = [];
  const resids: number[] = [];
  const ids: number[] = [];
  const frames: OwnedFrame[] = [];
  let k = 0;
  while (k < lines.length) {
    if (frames.length > 0 && lines.slice(k).every((l) => l.trim() === '')) break;
    const titleLine = k + 1;
    const countText = lines[k + 1];
    if (countText === undefined) throw new TopologyError(file, titleLine + 1, 'missing atom count line');
    const n = Number(countText.trim());
    if (!Number.isInteger(n) || n <= 0 || countText.trim() === '') {
      throw new TopologyError(file, titleLine + 1, `bad atom count "${countText.trim()}": expected a positive integer`);
    }
    if (frames.length > 0 && n !== names.length) {
      throw new TopologyError(file, titleLine + 1, `frame ${frames.length + 1} has ${n} atoms, the first has ${names.length}`);
    }
    const first = lines[k + 2] ?? '';
    // Precision: the distance between the first two decimal points of the coordinates.
    const p1 = first.indexOf('.', 20);
    const p2 = p1 < 0 ? -1 : first.indexOf('.', p1 + 1);
    const width = p1 >= 0 && p2 > p1 ? p2 - p1 : 8;
    const positions = new Float32Array(3 * n);
    let residPrev = -1;
    let wrap = 0;
    for (let i = 0; i < n; i++) {
      const ln = k + 3 + i;
      const line = lines[ln - 1];
      if (line === undefined || line.trim() === '') throw new TopologyError(file, ln, `file ends after ${i} of ${n} atoms`);
      if (line.length < 20 + 3 * width) {
        throw new TopologyError(file, ln, `atom line too short (${line.length} columns; expected at least ${20 + 3 * width})`);
      }
      for (let d = 0; d < 3; d++) {
        const s = line.slice(20 + d * width, 20 + (d + 1) * width);
        const v = Number(s);
        if (s.trim() === '' || !Number.isFinite(v)) {
          throw new TopologyError(file, ln, `bad ${'xyz'[d]} coordinate "${s.trim()}" in columns ${21 + d * width}-${20 + (d + 1) * width}`);
        }
        positions[3 * i + d] = v * 10;
      }
      if (frames.length > 0) continue;
      const residText = line.slice(0, 5);
      let resid = Number(residText);
      if (!Number.isInteger(resid) || residText.trim() === '') {
        throw new TopologyError(file, ln, `bad residue number "${residText.trim()}" in columns 1-5`);
      }
      // 5-digit residue numbers wrap to 0 after 99999
      if (resid === 0 && residPrev > 0 && i > 0) wrap += 100000;
      residPrev = resid;
      resid += wrap;
      const name = line.slice(10, 15).trim();
      if (!name) throw new TopologyError(file, ln, 'missing atom name in columns 11-15');
      resids.push(resid);
      resnames.push(line.slice(5, 10).trim());
      names.push(name);
      const serial = Number(line.slice(15, 20));
      ids.push(Number.isInteger(serial) ? serial : i + 1);
    }
    const boxLn = k + 3 + n;
    const boxLine = lines[boxLn - 1];
    if (boxLine === undefined) throw new TopologyError(file, boxLn, 'missing box line after the atoms');
    const v = boxLine.trim().split(/\s+/).map(Number);
    if ((v.length !== 3 && v.length !== 9) || v.some((x) => !Number.isFinite(x))) {
      throw new TopologyError(file, boxLn, `bad box line "${boxLine.trim()}": expected 3 or 9 numbers (nm)`);
    }
    // v1(x) v2(y) v3(z) v1(y) v1(z) v2(x) v2(z) v3(x) v3(y); GROMACS boxes are lower-triangular.
    const box = v.length === 3 ? [v[0], 0, v[1], 0, 0, v[2]] : [v[0], v[5], v[1], v[7], v[8], v[2]];
    const hasBox = box[0] > 0 && box[2] > 0 && box[5] > 0;
    frames.push(
      new OwnedFrame({
        index: frames.length,
        natoms: n,
        positions,
        box: hasBox ? Float32Array.from(box, (x) => x * 10) : undefined,
      }),
    );
    k = boxLn;
  }
  return new Topology({ source: { file, format: 'gro' }, names, resnames, resids, ids, frames });
}
