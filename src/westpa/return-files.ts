// Writing what WESTPA reads back: the pcoord and auxiliary dataset files
// (reference: westpa-contract.md §3, §5). Files appear complete or not at
// all: rows go to a temporary file next to the target, renamed into place.
// Every error names the file and why, never the temporary file.
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

/** Why a return file cannot be written, without the temporary file's name. */
function reason(e: NodeJS.ErrnoException, file: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `its directory ${path.dirname(file)} does not exist`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    default:
      return e.message;
  }
}

/**
 * Writes `text` to `file` so that it appears complete or not at all: a
 * temporary file next to it, renamed over it. A symlink is followed (the
 * file it names is replaced, not the link); a target that is not a regular
 * file (a FIFO, /dev/stdout) is written into, never replaced; a directory
 * that refuses the temporary file falls back to rewriting the file in place.
 */
export function writeAtomically(file: string, text: string | Buffer): void {
  let target = file;
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file);
    if (st.isSymbolicLink()) {
      target = fs.realpathSync(file);
      st = fs.statSync(target);
    }
  } catch {
    // absent (or a dangling link): created below
  }
  try {
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st && !st.isFile()) {
      fs.writeFileSync(target, text);
      return;
    }
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.westream-${process.pid}.tmp`);
    try {
      fs.writeFileSync(tmp, text, { mode: 0o600 });
      fs.renameSync(tmp, target);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (!(st && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS'))) throw e;
      fs.writeFileSync(target, text); // the file is writable, its directory is not
    }
  } catch (e) {
    throw new Error(`cannot write ${file}: ${reason(e as NodeJS.ErrnoException, file)}`);
  }
}

/** Throws (naming `what`) unless `file` can be written: checked before an engine starts. */
export function checkWritable(file: string, what: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    // absent: its directory must take it
  }
  try {
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st) fs.accessSync(file, fs.constants.W_OK);
    else fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    throw new Error(`cannot write ${what} (${file}): ${reason(e as NodeJS.ErrnoException, file)}`);
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
