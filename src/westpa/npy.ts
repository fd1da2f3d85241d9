// Minimal .npy writer (format 1.0, little-endian float64, C order) for
// datasets WESTPA loads with npy_loader (np.load).
import { writeAtomically } from './return-files.js';

/** Encodes rows (all the same width) as a 2-D float64 .npy file image. */
export function encodeNpy(rows: ArrayLike<number>[]): Buffer {
  const width = rows.length ? rows[0].length : 0;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${rows.length}, ${width}), }`;
  // Magic (6) + version (2) + header length (2) + header must be a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const data = Buffer.alloc(rows.length * width * 8);
  rows.forEach((r, i) => {
    if (r.length !== width) throw new Error(`row ${i} has ${r.length} values, row 0 has ${width}`);
    for (let j = 0; j < width; j++) data.writeDoubleLE(r[j], (i * width + j) * 8);
  });
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

export function writeNpy(file: string, rows: ArrayLike<number>[]): void {
  writeAtomically(file, encodeNpy(rows));
}
