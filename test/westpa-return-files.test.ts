// Return files (WEST_PCOORD_RETURN, aux, `pcoord --out`): written complete or
// not at all, never replacing what is not a regular file, errors naming the
// file and why — checked before an engine starts where possible.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { checkWritable, writeAtomically } from '../src/westpa/return-files.js';
import { start, synthetic, tmpdir, westreamBin } from './support/helpers.js';

const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes('.westream-'));

describe('return files', () => {
  it('a symlink: the file it names is replaced, the link stays', () => {
    const dir = tmpdir('westream-ret-');
    fs.writeFileSync(path.join(dir, 'real.txt'), 'stale\n');
    fs.symlinkSync('real.txt', path.join(dir, 'link.txt'));
    writeAtomically(path.join(dir, 'link.txt'), '1 2\n');
    expect(fs.lstatSync(path.join(dir, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'real.txt'), 'utf8')).toBe('1 2\n');
    expect(leftovers(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a FIFO or a device is written into, not replaced by a regular file', async () => {
    const dir = tmpdir('westream-ret-');
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = start('cat', [fifo]);
    writeAtomically(fifo, '3 4\n');
    expect((await reader.exit).stdout).toBe('3 4\n');
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    writeAtomically('/dev/null', '5\n');
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('errors name the file and why, not a temporary file', () => {
    const dir = tmpdir('westream-ret-');
    expect(() => writeAtomically(path.join(dir, 'no', 'p.txt'), '1\n')).toThrow(`cannot write ${dir}/no/p.txt: its directory ${dir}/no does not exist`);
    expect(() => writeAtomically(dir, '1\n')).toThrow(`cannot write ${dir}: it is a directory`);
    expect(() => checkWritable(path.join(dir, 'no', 'p.txt'), 'WEST_PCOORD_RETURN')).toThrow(
      `cannot write WEST_PCOORD_RETURN (${dir}/no/p.txt): its directory ${dir}/no does not exist`,
    );
    expect(() => checkWritable(path.join(dir, 'ok.txt'), 'WEST_PCOORD_RETURN')).not.toThrow();
    expect(leftovers(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a writable file in a directory that refuses new files: rewritten in place (as an unprivileged user)', async () => {
    const dir = tmpdir('westream-ret-');
    fs.chmodSync(dir, 0o755);
    const target = path.join(dir, 'p.txt');
    fs.writeFileSync(target, 'stale\n', { mode: 0o666 });
    fs.chmodSync(target, 0o666);
    fs.writeFileSync(path.join(dir, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
    fs.writeFileSync(path.join(dir, 'd.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
    const r = await start('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, westreamBin, 'pcoord', '--pipeline', path.join(dir, 'd.yaml'), '--structure', path.join(dir, 'two.pdb'), '--out', target]).exit;
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('3\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a WESTPA segment whose WEST_PCOORD_RETURN cannot be written fails before its engine starts', async () => {
    const dir = tmpdir('westream-ret-');
    fs.writeFileSync(path.join(dir, 'two.pdb'), 'ATOM      1 NA    NA A   1       0.000   0.000   0.000  1.00  0.00          NA\nATOM      2 CL    CL A   2       3.000   0.000   0.000  1.00  0.00          CL\nEND\n');
    fs.writeFileSync(path.join(dir, 'd.yaml'), 'topology: two.pdb\npcoord:\n  - distance: {a: name NA, b: name CL}\n');
    const marker = path.join(dir, 'engine-ran');
    const env = {
      WEST_SIM_ROOT: dir, WEST_CURRENT_ITER: '1', WEST_CURRENT_SEG_ID: '0', WEST_CURRENT_SEG_DATA_REF: dir,
      WEST_CURRENT_SEG_INITPOINT_TYPE: 'SEG_INITPOINT_CONTINUES', WEST_PCOORD_RETURN: path.join(dir, 'missing', 'pcoord.txt'),
    };
    const r = await start(process.execPath, [westreamBin, 'run', '--pipeline', path.join(dir, 'd.yaml'), '--pcoord-len', '3', '--', 'sh', '-c', `touch ${marker}; exec ${synthetic} --atoms 2 --frames 2`], env).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot write WEST_PCOORD_RETURN (${dir}/missing/pcoord.txt): its directory ${dir}/missing does not exist`);
    expect(fs.existsSync(marker)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
