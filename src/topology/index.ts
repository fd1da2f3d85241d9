// Topology readers, chosen by file extension.
import fs from 'node:fs';
import path from 'node:path';

import { parseGRO } from './gro.js';
import { parsePDB } from './pdb.js';
import { parsePrmtop } from './prmtop.js';
import { parsePSF } from './psf.js';
import { Topology, TopologyError, type TopologyFormat } from './topology.js';

export { Topology, TopologyError, type TopologyFormat, type TopologyFields, type TopologySource } from './topology.js';
export { parsePDB } from './pdb.js';
export { parseGRO } from './gro.js';
export { parsePrmtop } from './prmtop.js';
export { parsePSF } from './psf.js';
export { cellToBox } from './cell.js';
export { guessElement, massOf, normalizeElement, elementFromAtomicNumber } from './elements.js';

const byExtension: Record<string, TopologyFormat> = {
  '.pdb': 'pdb',
  '.ent': 'pdb',
  '.gro': 'gro',
  '.prmtop': 'prmtop',
  '.parm7': 'prmtop',
  '.top': 'prmtop',
  '.psf': 'psf',
};

/** The format of a topology file by its extension, or undefined. */
export function topologyFormat(file: string): TopologyFormat | undefined {
  return byExtension[path.extname(file).toLowerCase()];
}

/**
 * Reads a topology file: PDB (.pdb, .ent; multi-model), GRO (.gro), AMBER
 * prmtop (.prmtop, .parm7, .top) or CHARMM/NAMD PSF (.psf). `format`
 * overrides the extension. Errors name the file and line.
 */
export function readTopology(file: string, format?: TopologyFormat): Topology {
  const fmt = format ?? topologyFormat(file);
  if (!fmt) {
    throw new TopologyError(file, undefined, `unknown topology format "${path.extname(file)}": use .pdb, .gro, .prmtop/.parm7 or .psf`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new TopologyError(file, undefined, err.code === 'ENOENT' ? 'no such file' : err.message);
  }
  switch (fmt) {
    case 'pdb':
      return parsePDB(text, file);
    case 'gro':
      return parseGRO(text, file);
    case 'prmtop':
      if (text.startsWith('%VERSION') || text.includes('%FLAG POINTERS')) return parsePrmtop(text, file);
      throw new TopologyError(file, 1, 'not an AMBER prmtop file (a GROMACS .top is not supported: use the .gro or a .pdb)');
    case 'psf':
      return parsePSF(text, file);
  }
}
export * from './selection/index.js';
