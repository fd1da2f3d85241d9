// The Topology: per-atom attributes read from a topology file, in file order.
import { OwnedFrame } from '../core/frame.js';
import { guessElement, massOf, normalizeElement } from './elements.js';
import { selectAtoms, type AtomGroup, type SelectOptions } from './selection/atom-group.js';

export type TopologyFormat = 'pdb' | 'gro' | 'prmtop' | 'psf';

/** Where a topology came from, for error messages. */
export interface TopologySource {
  /** Path (or a name given by the caller). */
  file: string;
  format: TopologyFormat;
}

/**
 * Atom attributes of a molecular system, one entry per atom, indexed from 0 in
 * file order (the order of the atoms in every frame).
 *
 * Attributes that a format does not carry are filled in the way MDAnalysis
 * does it, so that selections and masses agree with it: `types` and
 * `elements` guessed from atom names, `masses` from elements (else types),
 * `segids` "SYSTEM". Which ones were guessed is recorded in `guessed`.
 */
export class Topology {
  readonly natoms: number;
  /** Atom names ("CA", "OW"). */
  readonly names: readonly string[];
  /** Atom types (force-field types for prmtop/psf; the element column or a guess for pdb/gro). */
  readonly types: readonly string[];
  /** Element symbols in canonical case ("C", "Na"), '' when unknown. */
  readonly elements: readonly string[];
  readonly resnames: readonly string[];
  /** Residue numbers as in the file (wrapped numbers unwrapped). */
  readonly resids: Int32Array;
  /** Residue numbers for `resnum` selections (equal to resids for every supported format). */
  readonly resnums: Int32Array;
  /** 0-based residue index: consecutive atoms with the same resid, resname and segid share one. */
  readonly resindices: Int32Array;
  readonly segids: readonly string[];
  /** PDB chain identifiers ('' when absent). */
  readonly chainIDs: readonly string[];
  /** Atom serial numbers from the file (1-based where the file has none). */
  readonly ids: Int32Array;
  /** u. */
  readonly masses: Float64Array;
  /** e, when the format has them (prmtop, psf). */
  readonly charges?: Float64Array;
  /** Attributes that were guessed rather than read. */
  readonly guessed: ReadonlySet<'types' | 'elements' | 'masses' | 'segids'>;
  readonly source: TopologySource;
  /** Coordinates in the file (PDB, GRO): one frame per model, Å. */
  readonly frames: readonly OwnedFrame[];
  /** Number of residues. */
  readonly nresidues: number;

  constructor(fields: TopologyFields) {
    const n = fields.names.length;
    this.natoms = n;
    this.source = fields.source;
    const check = (what: string, len: number) => {
      if (len !== n) throw new Error(`${fields.source.file}: ${what} has ${len} entries for ${n} atoms`);
    };
    this.names = fields.names;
    this.resnames = fields.resnames;
    check('resnames', fields.resnames.length);
    this.resids = Int32Array.from(fields.resids);
    check('resids', this.resids.length);
    this.resnums = fields.resnums ? Int32Array.from(fields.resnums) : this.resids.slice();
    const guessed = new Set<'types' | 'elements' | 'masses' | 'segids'>();
    if (fields.segids) {
      check('segids', fields.segids.length);
      this.segids = fields.segids;
    } else {
      this.segids = new Array<string>(n).fill('SYSTEM');
      guessed.add('segids');
    }
    this.chainIDs = fields.chainIDs ?? new Array<string>(n).fill('');
    this.ids = fields.ids ? Int32Array.from(fields.ids) : Int32Array.from({ length: n }, (_, i) => i + 1);
    let elements = fields.elements?.map(normalizeElement);
    let types = fields.types;
    if (!types) {
      // MDAnalysis: the type is the element guessed from the name.
      types = fields.names.map(guessElement);
      guessed.add('types');
    }
    check('types', types.length);
    this.types = types;
    let masses: Float64Array;
    if (fields.masses) {
      masses = Float64Array.from(fields.masses);
    } else {
      // MDAnalysis: masses from the elements when the file has them, else from the types.
      const from = elements && elements.some((e) => e) ? elements : types;
      masses = Float64Array.from(from, massOf);
      guessed.add('masses');
    }
    check('masses', masses.length);
    this.masses = masses;
    if (!elements || elements.every((e) => !e)) {
      elements = fields.names.map((nm) => normalizeElement(guessElement(nm)));
      guessed.add('elements');
    }
    this.elements = elements;
    if (fields.charges) {
      check('charges', fields.charges.length);
      this.charges = Float64Array.from(fields.charges);
    }
    this.guessed = guessed;
    this.frames = fields.frames ?? [];
    // Residues: a new one wherever resid, resname or segid changes.
    const resindices = new Int32Array(n);
    let r = -1;
    for (let i = 0; i < n; i++) {
      if (
        i === 0 ||
        this.resids[i] !== this.resids[i - 1] ||
        this.resnames[i] !== this.resnames[i - 1] ||
        this.segids[i] !== this.segids[i - 1]
      )
        r++;
      resindices[i] = r;
    }
    this.resindices = resindices;
    this.nresidues = r + 1;
  }

  /** Compiles an MDAnalysis-style selection: `top.select('backbone and resid 3-10')`. */
  select(selection: string, options?: SelectOptions): AtomGroup {
    return selectAtoms(this, selection, options);
  }

  /** A short description: "system.pdb (pdb, 1917 atoms, 640 residues)". */
  describe(): string {
    return `${this.source.file} (${this.source.format}, ${this.natoms} atoms, ${this.nresidues} residues)`;
  }
}

export interface TopologyFields {
  source: TopologySource;
  names: string[];
  resnames: string[];
  resids: ArrayLike<number>;
  resnums?: ArrayLike<number>;
  segids?: string[];
  chainIDs?: string[];
  ids?: ArrayLike<number>;
  types?: string[];
  elements?: string[];
  masses?: ArrayLike<number>;
  charges?: ArrayLike<number>;
  frames?: OwnedFrame[];
}

/** A malformed topology file: names the file and the line. */
export class TopologyError extends Error {
  override name = 'TopologyError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
  }
}
