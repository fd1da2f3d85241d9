// The selection syntax tree.

/** Per-atom string attributes that `name`, `type`, ... match with shell-style patterns. */
export type StringField = 'names' | 'types' | 'elements' | 'resnames' | 'segids' | 'chainIDs';
/** Per-atom integer attributes that take values and ranges. */
export type IntField = 'resids' | 'resnums' | 'index' | 'bynum' | 'ids' | 'resindices';
export type FloatField = 'masses' | 'charges';

export type Node =
  | { kind: 'all'; pos: number }
  | { kind: 'none'; pos: number }
  | { kind: 'not'; sel: Node; pos: number }
  | { kind: 'and' | 'or'; a: Node; b: Node; pos: number }
  | { kind: 'string'; field: StringField; patterns: string[]; pos: number }
  | { kind: 'int'; field: IntField; ranges: [number, number][]; pos: number }
  | { kind: 'float'; field: FloatField; ranges: [number, number | undefined][]; pos: number }
  | { kind: 'residues'; set: 'protein' | 'nucleic' | 'water'; pos: number }
  | { kind: 'names-in-residues'; set: 'backbone' | 'nucleicbackbone' | 'nucleicbase' | 'nucleicsugar'; pos: number }
  | { kind: 'hydrogen' | 'heavy'; pos: number }
  | { kind: 'atom'; segid: string; resid: number; name: string; pos: number }
  | { kind: 'prop'; field: 'x' | 'y' | 'z' | 'masses' | 'charges'; op: string; value: number; abs: boolean; pos: number }
  // dynamic: evaluated on every frame
  | { kind: 'around'; cutoff: number; sel: Node; pos: number }
  | { kind: 'within'; cutoff: number; sel: Node; pos: number }
  | { kind: 'sphzone'; cutoff: number; sel: Node; pos: number }
  | { kind: 'sphlayer'; inner: number; outer: number; sel: Node; pos: number }
  | { kind: 'point'; x: number; y: number; z: number; cutoff: number; pos: number }
  | { kind: 'byres'; sel: Node; pos: number }
  | { kind: 'same'; prop: SameProperty; sel: Node; pos: number };

export type SameProperty =
  | 'residue'
  | 'segment'
  | 'name'
  | 'type'
  | 'resname'
  | 'resid'
  | 'segid'
  | 'mass'
  | 'charge'
  | 'resnum'
  | 'x'
  | 'y'
  | 'z';

/** True when the node needs coordinates (its result can change from frame to frame). */
export function isDynamic(n: Node): boolean {
  switch (n.kind) {
    case 'around':
    case 'within':
    case 'sphzone':
    case 'sphlayer':
    case 'point':
      return true;
    case 'prop':
      return n.field === 'x' || n.field === 'y' || n.field === 'z';
    case 'same':
      return n.prop === 'x' || n.prop === 'y' || n.prop === 'z' || isDynamic(n.sel);
    case 'not':
    case 'byres':
      return isDynamic(n.sel);
    case 'and':
    case 'or': {
      // Iteratively along the chain: a flat `a or b or ...` is as deep as it is long.
      const { first, rest } = chain(n);
      return isDynamic(first) || rest.some((r) => isDynamic(r.sel));
    }
    default:
      return false;
  }
}

export type ChainLink = { op: 'and' | 'or'; sel: Node };

/**
 * A left-associative `and`/`or` chain, unrolled: `a or b and c` is the tree
 * ((a or b) and c), returned as a, [or b, and c]. The parser builds such
 * chains one level deep per term, so walking them by recursion would overflow
 * the stack on long selections; every traversal goes through this instead.
 */
export function chain(n: Node): { first: Node; rest: ChainLink[] } {
  const rest: ChainLink[] = [];
  let node = n;
  while (node.kind === 'and' || node.kind === 'or') {
    rest.push({ op: node.kind, sel: node.b });
    node = node.a;
  }
  rest.reverse();
  return { first: node, rest };
}
