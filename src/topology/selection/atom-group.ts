// AtomGroup: a compiled selection over a topology.
import type { Frame } from '../../core/frame.js';
import type { Topology } from '../topology.js';
import { isDynamic, type Node } from './ast.js';
import { compile, indicesOf, type Evaluator } from './evaluate.js';
import { parseSelection } from './parser.js';
import { quoteSelection } from './tokenizer.js';

/** A selection that matches no atoms where atoms are needed. */
export class EmptySelectionError extends Error {
  override name = 'EmptySelectionError';
}

export interface SelectOptions {
  /** Allow a static selection that matches nothing (default: an error). */
  allowEmpty?: boolean;
}

/**
 * The atoms a selection picks in a topology. A static selection is compiled to
 * an index array once (`indices`); a dynamic one (`around`, `within`,
 * `sphzone`, `point`, `prop x/y/z`) is evaluated on each frame with `at(frame)`.
 * Indices are 0-based and ascending, like MDAnalysis's AtomGroup.indices.
 */
export class AtomGroup {
  readonly dynamic: boolean;
  private readonly evaluate: Evaluator;
  private readonly staticIndices?: Int32Array;
  private cachedMasses?: Float32Array;
  private lastFrame?: { positions: Float32Array; index: number; result: Int32Array };

  constructor(
    readonly topology: Topology,
    readonly selection: string,
    readonly ast: Node,
    options: SelectOptions = {},
  ) {
    this.dynamic = isDynamic(ast);
    this.evaluate = compile(ast, topology);
    if (!this.dynamic) {
      this.staticIndices = indicesOf(this.evaluate(undefined));
      if (this.staticIndices.length === 0 && !options.allowEmpty) {
        throw new EmptySelectionError(`selection "${quoteSelection(selection)}" matches no atoms in ${topology.describe()}`);
      }
    }
  }

  /** The selected atoms (static selections only). */
  get indices(): Int32Array {
    if (!this.staticIndices) {
      throw new Error(`selection "${quoteSelection(this.selection)}" depends on coordinates (around/within/sphzone/point): use at(frame)`);
    }
    return this.staticIndices;
  }

  /** Number of atoms (static selections only). */
  get length(): number {
    return this.indices.length;
  }

  /** The selected atoms in this frame (any selection). Checks the frame's atom count against the topology. */
  at(frame: Frame): Int32Array {
    checkAtomCount(this.topology, frame);
    if (this.staticIndices) return this.staticIndices;
    const last = this.lastFrame;
    if (last && last.positions === frame.positions && last.index === frame.index) return last.result;
    const result = indicesOf(this.evaluate({ positions: frame.positions, box: frame.box }));
    this.lastFrame = { positions: frame.positions, index: frame.index, result };
    return result;
  }

  /** Masses of the selected atoms, in selection order (static selections). */
  masses(): Float32Array {
    if (!this.cachedMasses) this.cachedMasses = Float32Array.from(this.indices, (i) => this.topology.masses[i]);
    return this.cachedMasses;
  }

  toString(): string {
    return `AtomGroup("${this.selection}", ${this.dynamic ? 'dynamic' : `${this.staticIndices!.length} atoms`})`;
  }
}

/** The frame must have as many atoms as the topology. */
export function checkAtomCount(topology: Topology, frame: Frame): void {
  if (frame.natoms !== topology.natoms) {
    throw new Error(`frame ${frame.index} has ${frame.natoms} atoms but the topology ${topology.describe()} has ${topology.natoms}: wrong topology for this stream?`);
  }
}

/** Parses and compiles `selection` for `topology` (MDAnalysis syntax). */
export function selectAtoms(topology: Topology, selection: string, options?: SelectOptions): AtomGroup {
  return new AtomGroup(topology, selection, parseSelection(selection), options);
}
