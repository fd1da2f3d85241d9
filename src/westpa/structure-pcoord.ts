// The pcoord of a single structure (basis/initial states, a segment's start
// point), through the same pipeline as the streamed frames.
import { from } from 'rxjs';

import type { PcoordRow, Pipeline } from '../pipeline/index.js';
import { readTopology, TopologyError } from '../topology/index.js';

/** Runs the pipeline on the first model of a PDB or GRO file. */
export function structureRow(file: string, pipeline: Pipeline): PcoordRow {
  const structure = readTopology(file);
  const frame = structure.frames[0];
  if (!frame) throw new TopologyError(file, undefined, 'no coordinates (use a PDB or GRO file with coordinates)');
  if (structure.natoms !== pipeline.topology.natoms) {
    throw new TopologyError(
      file,
      undefined,
      `${structure.natoms} atoms, but the pipeline's topology ${pipeline.topology.source.file} has ${pipeline.topology.natoms}`,
    );
  }
  let row: PcoordRow | undefined;
  let error: unknown;
  from([frame])
    .pipe(pipeline.operator)
    .subscribe({ next: (r) => (row = r), error: (e) => (error = e) });
  if (error) throw error;
  if (!row) throw new Error(`${file}: the pipeline produced no row (does it skip frames with "every"?)`);
  return row;
}
