// Writing what WESTPA reads back: the pcoord and auxiliary dataset files
// (reference: westpa-contract.md §3, §5). Files appear complete or not at
// all: rows go to a temporary file next to the target, renamed into place.
import fs from 'node:fs';
import path from 'node:path';

export class PcoordShapeError extends Error {
  override name = 'PcoordShapeError';
}

/** Formats numbers at full double precision (np.loadtxt reads them back exactly). */
function formatRow(row: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < row.length; i++) s += (i ? ' ' : '') + String(row[i]);
  return s;
}

/** Writes `text` to `file` atomically (temp file in the same directory, then rename). */
export function writeAtomically(file: string, text: string | Buffer): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.westream-${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Checks rows × columns against west.cfg (or `lenFrom`, e.g. --pcoord-len) before anything is written. */
export function checkPcoordShape(rows: ArrayLike<number>[], len: number, ndim: number, context: string, lenFrom = "west.cfg's pcoord_len"): void {
  if (rows.length !== len) {
    throw new PcoordShapeError(
      `${context}: ${rows.length} pcoord rows, but ${lenFrom} is ${len} ` +
        `(row 0 is the start point, then one row per frame: expected ${len - 1} frames after the start, got ${rows.length - 1})`,
    );
  }
  for (const [i, r] of rows.entries()) {
    if (r.length !== ndim) {
      throw new PcoordShapeError(`${context}: pcoord row ${i} has ${r.length} values, but west.cfg's pcoord_ndim is ${ndim}`);
    }
    for (let j = 0; j < r.length; j++) {
      if (!Number.isFinite(r[j])) throw new PcoordShapeError(`${context}: pcoord row ${i} column ${j} is ${r[j]}`);
    }
  }
}

/** Writes rows as whitespace-separated text, one line per row (np.loadtxt format). */
export function writeRows(file: string, rows: ArrayLike<number>[], header?: string): void {
  const lines = rows.map(formatRow);
  writeAtomically(file, (header ? `# ${header}\n` : '') + lines.join('\n') + '\n');
}

/** Empties a return file so nothing stale or partial can be read from it. */
export function clearReturnFile(file: string): void {
  try {
    fs.truncateSync(file, 0);
  } catch {
    // absent or not ours to truncate: nothing to clear
  }
}
