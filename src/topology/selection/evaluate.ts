// Selection evaluation: a syntax tree → a per-atom mask. Static subtrees are
// evaluated once, when the selection is compiled; dynamic ones (around,
// within, sphzone, sphlayer, point, prop x/y/z) on every frame, with the
// minimum-image convention when the frame has a box (as MDAnalysis does).
import { kernelBox, kernels } from '../../analysis/native-kernels.js';
import { isPeriodic, minimumImage } from '../../analysis/pbc.js';
import type { Topology } from '../topology.js';
import { chain, isDynamic, type Node, type SameProperty } from './ast.js';
import { globToRegExp } from './parser.js';

/** Residue names MDAnalysis recognises (MDAnalysis/core/selection.py). */
export const PROTEIN_RESIDUES = new Set([
  'ALA', 'ARG', 'ASN', 'ASP', 'CYS', 'GLN', 'GLU', 'GLY', 'HSD', 'HSE', 'HSP', 'ILE', 'LEU', 'LYS', 'MET', 'PHE', 'PRO',
  'SER', 'THR', 'TRP', 'TYR', 'VAL', 'ALAD', 'HIS', 'MSE', 'ARGN', 'ASPH', 'CYS2', 'CYSH', 'QLN', 'PGLU', 'GLUH',
  'HIS1', 'HISD', 'HISE', 'HISH', 'LYSH', 'ASN1', 'CYS1', 'HISA', 'HISB', 'HIS2', 'HID', 'HIE', 'HIP', 'ORN', 'DAB',
  'LYN', 'HYP', 'CYM', 'CYX', 'ASH', 'GLH', 'ACE', 'NME', 'NALA', 'NGLY', 'NSER', 'NTHR', 'NLEU', 'NILE', 'NVAL',
  'NASN', 'NGLN', 'NARG', 'NHID', 'NHIE', 'NHIP', 'NTRP', 'NPHE', 'NTYR', 'NGLU', 'NASP', 'NLYS', 'NPRO', 'NCYS',
  'NCYX', 'NMET', 'CALA', 'CGLY', 'CSER', 'CTHR', 'CLEU', 'CILE', 'CVAL', 'CASF', 'CASN', 'CGLN', 'CARG', 'CHID',
  'CHIE', 'CHIP', 'CTRP', 'CPHE', 'CTYR', 'CGLU', 'CASP', 'CLYS', 'CPRO', 'CCYS', 'CCYX', 'CMET', 'CME', 'ASF',
]);
export const NUCLEIC_RESIDUES = new Set([
  'ADE', 'URA', 'CYT', 'GUA', 'THY', 'DA', 'DC', 'DG', 'DT', 'RA', 'RU', 'RG', 'RC', 'A', 'T', 'U', 'C', 'G', 'DA5',
  'DC5', 'DG5', 'DT5', 'DA3', 'DC3', 'DG3', 'DT3', 'RA5', 'RU5', 'RG5', 'RC5', 'RA3', 'RU3', 'RG3', 'RC3',
]);
export const WATER_RESIDUES = new Set(['H2O', 'HOH', 'OH2', 'HHO', 'OHH', 'T3P', 'T4P', 'T5P', 'SOL', 'WAT', 'TIP', 'TIP2', 'TIP3', 'TIP4']);
const NAMES_IN_RESIDUES: Record<string, [Set<string>, Set<string>]> = {
  backbone: [new Set(['N', 'CA', 'C', 'O']), PROTEIN_RESIDUES],
  nucleicbackbone: [new Set(['P', "C5'", "C3'", "O3'", "O5'"]), NUCLEIC_RESIDUES],
  nucleicbase: [new Set(['N9', 'N7', 'C8', 'C5', 'C4', 'N3', 'C2', 'N1', 'C6', 'O6', 'N2', 'N6', 'O2', 'N4', 'O4', 'C5M']), NUCLEIC_RESIDUES],
  nucleicsugar: [new Set(["C1'", "C2'", "C3'", "C4'", "O4'"]), NUCLEIC_RESIDUES],
};

/** Coordinates a dynamic selection is evaluated on. */
export interface Coordinates {
  positions: Float32Array;
  box?: Float32Array;
}

export type Evaluator = (c: Coordinates | undefined) => Uint8Array;

/** Thrown when a dynamic selection is evaluated without coordinates. */
export class NeedsCoordinatesError extends Error {}

/** Compiles a syntax tree for a topology: static subtrees are evaluated now. */
export function compile(node: Node, top: Topology): Evaluator {
  if (!isDynamic(node)) {
    const mask = staticMask(node, top);
    return () => mask;
  }
  const n = top.natoms;
  switch (node.kind) {
    case 'not': {
      const inner = compile(node.sel, top);
      return (c) => {
        const m = inner(c);
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = m[i] ? 0 : 1;
        return out;
      };
    }
    case 'and':
    case 'or': {
      // The whole chain at once (iteratively: a flat chain may have 100 000 terms).
      const { first, rest } = chain(node);
      const head = compile(first, top);
      const links = rest.map((r) => ({ and: r.op === 'and', sel: compile(r.sel, top) }));
      return (c) => {
        const out = Uint8Array.from(head(c));
        for (const link of links) {
          const y = link.sel(c);
          if (link.and) for (let i = 0; i < n; i++) out[i] &= y[i];
          else for (let i = 0; i < n; i++) out[i] |= y[i];
        }
        return out;
      };
    }
    case 'byres': {
      const inner = compile(node.sel, top);
      return (c) => byResidue(inner(c), top);
    }
    case 'same': {
      const inner = compile(node.sel, top);
      const prop = node.prop;
      return (c) => same(prop, inner(c), top, need(c));
    }
    case 'around':
    case 'within': {
      const inner = compile(node.sel, top);
      const around = node.kind === 'around';
      const cutoff = node.cutoff;
      return (c) => {
        const coords = need(c);
        const ref = inner(c);
        const refIdx = indicesOf(ref);
        const out = new Uint8Array(n);
        if (refIdx.length === 0) return out;
        // around: atoms not in the reference group; within: any atom (the group included)
        const cand = around ? indicesOf(ref, 0) : null;
        kernels().withinMask(coords.positions, refIdx, refIdx.length, cand, cand ? cand.length : n, kernelBox(coords.box), cutoff, out);
        return out;
      };
    }
    case 'sphzone':
    case 'sphlayer': {
      const inner = compile(node.sel, top);
      const lo = node.kind === 'sphlayer' ? node.inner : -1;
      const hi = node.kind === 'sphlayer' ? node.outer : node.cutoff;
      return (c) => {
        const coords = need(c);
        const ref = indicesOf(inner(c));
        if (ref.length === 0) return new Uint8Array(n);
        const p = coords.positions;
        let x = 0, y = 0, z = 0;
        for (const i of ref) {
          x += p[3 * i];
          y += p[3 * i + 1];
          z += p[3 * i + 2];
        }
        // MDAnalysis rounds the centre to float32
        const centre = Float32Array.of(x / ref.length, y / ref.length, z / ref.length);
        return shell(coords, centre, lo, hi, n);
      };
    }
    case 'point': {
      const centre = Float32Array.of(node.x, node.y, node.z);
      const cutoff = node.cutoff;
      return (c) => shell(need(c), centre, -1, cutoff, n);
    }
    case 'prop': {
      const axis = node.field === 'x' ? 0 : node.field === 'y' ? 1 : 2;
      const test = comparison(node.op, node.value, node.abs);
      return (c) => {
        const p = need(c).positions;
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = test(p[3 * i + axis]) ? 1 : 0;
        return out;
      };
    }
    default:
      throw new Error(`internal: ${node.kind} is not dynamic`);
  }
}

function need(c: Coordinates | undefined): Coordinates {
  if (!c) throw new NeedsCoordinatesError('this selection depends on coordinates: evaluate it on a frame');
  return c;
}

/** Atoms within [lo, hi] (lo exclusive, hi inclusive) of a point, minimum image. */
function shell(c: Coordinates, centre: Float32Array, lo: number, hi: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const p = c.positions;
  const periodic = isPeriodic(c.box);
  const v = [0, 0, 0];
  const lo2 = lo < 0 ? -1 : lo * lo;
  const hi2 = hi * hi;
  for (let i = 0; i < n; i++) {
    v[0] = p[3 * i] - centre[0];
    v[1] = p[3 * i + 1] - centre[1];
    v[2] = p[3 * i + 2] - centre[2];
    if (periodic) minimumImage(v, c.box);
    const d2 = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    out[i] = d2 <= hi2 && d2 > lo2 ? 1 : 0;
  }
  return out;
}

/** Indices where mask == value (1 by default), ascending. */
export function indicesOf(mask: Uint8Array, value = 1): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === value) count++;
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i] === value) out[k++] = i;
  return out;
}

function byResidue(m: Uint8Array, top: Topology): Uint8Array {
  const res = new Uint8Array(top.nresidues);
  for (let i = 0; i < m.length; i++) if (m[i]) res[top.resindices[i]] = 1;
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = res[top.resindices[i]];
  return out;
}

function same(prop: SameProperty, m: Uint8Array, top: Topology, c?: Coordinates): Uint8Array {
  const n = top.natoms;
  const out = new Uint8Array(n);
  const values = (): ArrayLike<string | number> => {
    switch (prop) {
      case 'residue':
        return top.resindices;
      case 'segment':
      case 'segid':
        return top.segids;
      case 'name':
        return top.names;
      case 'type':
        return top.types;
      case 'resname':
        return top.resnames;
      case 'resid':
        return top.resids;
      case 'resnum':
        return top.resnums;
      case 'mass':
        return top.masses;
      case 'charge':
        if (!top.charges) throw new Error(`"same charge as": ${top.source.file} has no charges`);
        return top.charges;
      default: {
        const axis = prop === 'x' ? 0 : prop === 'y' ? 1 : 2;
        const p = need(c).positions;
        return Array.from({ length: n }, (_, i) => p[3 * i + axis]);
      }
    }
  };
  const v = values();
  const wanted = new Set<string | number>();
  for (let i = 0; i < n; i++) if (m[i]) wanted.add(v[i]);
  for (let i = 0; i < n; i++) out[i] = wanted.has(v[i]) ? 1 : 0;
  return out;
}

function comparison(op: string, value: number, abs: boolean): (x: number) => boolean {
  const f = abs ? Math.abs : (x: number) => x;
  switch (op) {
    case '<':
      return (x) => f(x) < value;
    case '>':
      return (x) => f(x) > value;
    case '<=':
      return (x) => f(x) <= value;
    case '>=':
      return (x) => f(x) >= value;
    case '==':
      return (x) => Math.abs(f(x) - value) <= 1e-8 + 1e-5 * Math.abs(value);
    default:
      return (x) => !(Math.abs(f(x) - value) <= 1e-8 + 1e-5 * Math.abs(value));
  }
}

function staticMask(node: Node, top: Topology): Uint8Array {
  const n = top.natoms;
  const out = new Uint8Array(n);
  switch (node.kind) {
    case 'all':
      out.fill(1);
      return out;
    case 'none':
      return out;
    case 'not': {
      const m = staticMask(node.sel, top);
      for (let i = 0; i < n; i++) out[i] = m[i] ? 0 : 1;
      return out;
    }
    case 'and':
    case 'or': {
      const { first, rest } = chain(node);
      out.set(staticMask(first, top));
      for (const link of rest) {
        const m = staticMask(link.sel, top);
        if (link.op === 'and') for (let i = 0; i < n; i++) out[i] &= m[i];
        else for (let i = 0; i < n; i++) out[i] |= m[i];
      }
      return out;
    }
    case 'string': {
      const values = top[node.field];
      const res = node.patterns.map((p) => globToRegExp(p));
      const cache = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let hit = cache.get(v);
        if (hit === undefined) {
          hit = res.some((r) => r.test(v)) ? 1 : 0;
          cache.set(v, hit);
        }
        out[i] = hit;
      }
      return out;
    }
    case 'int': {
      const get: (i: number) => number =
        node.field === 'index'
          ? (i) => i
          : node.field === 'bynum'
            ? (i) => i + 1
            : ((arr: Int32Array) => (i: number) => arr[i])(top[node.field]);
      for (let i = 0; i < n; i++) {
        const v = get(i);
        for (const [lo, hi] of node.ranges) {
          if (v >= lo && v <= hi) {
            out[i] = 1;
            break;
          }
        }
      }
      return out;
    }
    case 'float': {
      const arr = node.field === 'masses' ? top.masses : top.charges;
      if (!arr) throw new Error(`selection by charge: ${top.source.file} has no charges (only prmtop and psf files do)`);
      for (let i = 0; i < n; i++) {
        const v = arr[i];
        for (const [lo, hi] of node.ranges) {
          const hit = hi === undefined ? Math.abs(v - lo) <= 1e-8 + 1e-5 * Math.abs(lo) : v >= lo && v <= hi;
          if (hit) {
            out[i] = 1;
            break;
          }
        }
      }
      return out;
    }
    case 'residues': {
      const set = node.set === 'protein' ? PROTEIN_RESIDUES : node.set === 'nucleic' ? NUCLEIC_RESIDUES : WATER_RESIDUES;
      for (let i = 0; i < n; i++) out[i] = set.has(top.resnames[i]) ? 1 : 0;
      return out;
    }
    case 'names-in-residues': {
      const [names, residues] = NAMES_IN_RESIDUES[node.set];
      for (let i = 0; i < n; i++) out[i] = names.has(top.names[i]) && residues.has(top.resnames[i]) ? 1 : 0;
      return out;
    }
    case 'hydrogen':
    case 'heavy': {
      const h = node.kind === 'hydrogen' ? 1 : 0;
      for (let i = 0; i < n; i++) out[i] = (top.elements[i] === 'H' ? 1 : 0) === h ? 1 : 0;
      return out;
    }
    case 'atom':
      for (let i = 0; i < n; i++) {
        out[i] = top.segids[i] === node.segid && top.resids[i] === node.resid && top.names[i] === node.name ? 1 : 0;
      }
      return out;
    case 'prop': {
      const arr = node.field === 'masses' ? top.masses : top.charges;
      if (!arr) throw new Error(`"prop charge": ${top.source.file} has no charges`);
      const test = comparison(node.op, node.value, node.abs);
      for (let i = 0; i < n; i++) out[i] = test(arr[i]) ? 1 : 0;
      return out;
    }
    case 'byres':
      return byResidue(staticMask(node.sel, top), top);
    case 'same':
      return same(node.prop, staticMask(node.sel, top), top);
    default:
      throw new Error(`internal: ${node.kind} is dynamic`);
  }
}
