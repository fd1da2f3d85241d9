// What operators accept as a group of atoms, and how they get its indices.
import type { Frame } from '../core/frame.js';
import { AtomGroup, checkAtomCount } from '../topology/selection/atom-group.js';

/** An AtomGroup (from `topology.select(...)`), or 0-based atom indices. */
export type GroupSpec = AtomGroup | ArrayLike<number>;

/** A resolved group: indices for a frame, masses where known. */
export class Group {
  private readonly fixed?: Int32Array;
  private readonly maxIndex: number = -1;
  readonly label: string;

  constructor(
    readonly spec: GroupSpec,
    what = 'group',
  ) {
    if (spec instanceof AtomGroup) {
      this.label = spec.selection;
      if (!spec.dynamic && spec.indices.length === 0) throw new Error(`${what}: selection "${spec.selection}" matches no atoms`);
    } else {
      const raw = Array.from(spec as ArrayLike<number>);
      if (raw.length === 0) throw new Error(`${what}: no atoms given`);
      for (const i of raw) {
        if (!Number.isInteger(i) || i < 0 || i > 0x7fffffff) throw new Error(`${what}: atom index ${i} is not a non-negative integer`);
      }
      const idx = Int32Array.from(raw);
      this.fixed = idx;
      this.maxIndex = raw.reduce((a, b) => Math.max(a, b), 0);
      this.label = idx.length <= 4 ? `atoms ${Array.from(idx).join(',')}` : `${idx.length} atoms`;
    }
  }

  get dynamic(): boolean {
    return this.spec instanceof AtomGroup && this.spec.dynamic;
  }

  /** Indices in this frame; checks them (or the topology) against the frame's atom count. */
  at(frame: Frame): Int32Array {
    if (this.spec instanceof AtomGroup) return this.spec.at(frame);
    if (this.maxIndex >= frame.natoms) {
      throw new Error(`atom index ${this.maxIndex} is outside frame ${frame.index} (${frame.natoms} atoms)`);
    }
    return this.fixed!;
  }

  /** The static indices (no frame needed); throws for dynamic selections. */
  at0(): Int32Array {
    if (this.spec instanceof AtomGroup) return this.spec.indices;
    return this.fixed!;
  }

  /** Masses in selection order (needs an AtomGroup with a static selection). */
  masses(what: string): Float32Array {
    if (!(this.spec instanceof AtomGroup)) throw new Error(`${what} needs masses: pass an AtomGroup (topology.select(...)), not bare indices`);
    if (this.spec.dynamic) throw new Error(`${what} needs a static selection, not "${this.spec.selection}"`);
    return this.spec.masses();
  }

  /** Masses of these atoms of the group's topology (dynamic selections too). */
  massesOf(indices: Int32Array, what: string): Float32Array {
    if (!(this.spec instanceof AtomGroup)) throw new Error(`${what} needs masses: pass an AtomGroup (topology.select(...)), not bare indices`);
    const m = this.spec.topology.masses;
    return Float32Array.from(indices, (i) => m[i]);
  }

  /** Checks the frame against the group's topology, when it has one. */
  check(frame: Frame): void {
    if (this.spec instanceof AtomGroup) checkAtomCount(this.spec.topology, frame);
  }
}
