// The declarative pipeline schema: which keys exist, what they mean, and
// which operator each measure becomes. The loader (load.ts) validates a YAML
// document against these tables and reports errors with file:line:column.

/** A parameter of a measure: its type and whether it is required. */
export interface ParamSpec {
  type: 'selection' | 'number' | 'boolean' | 'string' | 'file';
  required?: boolean;
  /** Allowed values for strings. */
  choices?: readonly string[];
  /** For numbers: smallest allowed value. */
  min?: number;
  doc: string;
}

export interface MeasureSpec {
  /** Other names accepted for the kind. */
  aliases?: readonly string[];
  /** Numbers it adds to a row (3 for centres). */
  width: number;
  doc: string;
  params: Readonly<Record<string, ParamSpec>>;
}

const pbc: ParamSpec = { type: 'boolean', doc: 'minimum image when the frame has a box (default: the pipeline\'s pbc, true)' };
const center: ParamSpec = { type: 'string', choices: ['geometry', 'mass'], doc: 'centre of multi-atom groups (default geometry)' };
const sel = (doc: string, required = true): ParamSpec => ({ type: 'selection', required, doc });

export const MEASURES: Readonly<Record<string, MeasureSpec>> = {
  distance: {
    width: 1,
    doc: 'distance between two atoms or group centres, Å',
    params: { a: sel('first atom or group'), b: sel('second atom or group'), center, pbc },
  },
  angle: {
    width: 1,
    doc: 'angle a-b-c at b, degrees',
    params: { a: sel('first atom'), b: sel('vertex atom'), c: sel('third atom'), center, pbc },
  },
  dihedral: {
    width: 1,
    doc: 'dihedral a-b-c-d, degrees (-180, 180]',
    params: { a: sel('first atom'), b: sel('second atom'), c: sel('third atom'), d: sel('fourth atom'), center, pbc },
  },
  com: {
    aliases: ['center_of_mass'],
    width: 3,
    doc: 'centre of mass x y z, Å',
    params: { select: sel('the group') },
  },
  cog: {
    aliases: ['center_of_geometry'],
    width: 3,
    doc: 'centre of geometry x y z, Å',
    params: { select: sel('the group') },
  },
  rg: {
    aliases: ['radius_of_gyration'],
    width: 1,
    doc: 'radius of gyration, Å',
    params: { select: sel('the group'), weights: { type: 'string', choices: ['mass', 'geometry'], doc: 'mass (default) or geometry' } },
  },
  rmsd: {
    width: 1,
    doc: 'RMSD to the reference after optimal superposition (QCP), Å',
    params: {
      select: sel('the measured group'),
      fit: sel('superpose on this group first (default: select)', false),
      reference: { type: 'file', doc: 'reference structure (default: the pipeline reference)' },
      superposition: { type: 'boolean', doc: 'rotate and translate onto the reference (default true)' },
      center: { type: 'boolean', doc: 'without superposition: centre both first (default true)' },
      weights: { type: 'string', choices: ['mass'], doc: '"mass" for mass weighting' },
    },
  },
  q: {
    aliases: ['native_contacts'],
    width: 1,
    doc: 'fraction of native contacts Q between two groups',
    params: {
      a: sel('first group'),
      b: sel('second group'),
      reference: { type: 'file', doc: 'reference structure (default: the pipeline reference)' },
      radius: { type: 'number', min: 0, doc: 'native contact radius in the reference, Å (default 4.5)' },
      method: { type: 'string', choices: ['hard_cut', 'soft_cut', 'radius_cut'], doc: 'default hard_cut' },
      beta: { type: 'number', doc: 'soft_cut steepness, 1/Å (default 5)' },
      lambda: { type: 'number', doc: 'soft_cut tolerance (default 1.8)' },
      pbc,
    },
  },
  coordination: {
    width: 1,
    doc: 'number of (a, b) pairs within cutoff',
    params: { a: sel('first group'), b: sel('second group'), cutoff: { type: 'number', required: true, min: 0, doc: 'Å' }, pbc },
  },
  mindist: {
    aliases: ['min_distance'],
    width: 1,
    doc: 'minimum distance between two groups, Å',
    params: { a: sel('first group'), b: sel('second group'), pbc },
  },
};

/** Top-level keys of a pipeline file. */
export const TOP_LEVEL: Readonly<Record<string, { required?: boolean; doc: string }>> = {
  topology: { required: true, doc: 'topology file (.pdb, .gro, .prmtop, .psf), relative to the pipeline file' },
  reference: { doc: 'reference structure for rmsd and q (default: the topology\'s coordinates)' },
  pcoord: { required: true, doc: 'the progress coordinate: a list of measures, one or more columns each, in order' },
  aux: { doc: 'auxiliary datasets: name → measure (or list of measures)' },
  every: { doc: 'analyse every n-th frame only (default 1)' },
  pbc: { doc: 'default for every measure\'s pbc (default true)' },
};

/** The canonical kind for a name or alias, or undefined. */
export function measureKind(name: string): string | undefined {
  if (name in MEASURES) return name;
  return Object.keys(MEASURES).find((k) => MEASURES[k].aliases?.includes(name));
}
