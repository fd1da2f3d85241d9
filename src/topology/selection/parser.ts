// Selection parser: MDAnalysis's grammar and precedence (precedence climbing:
// `and` and `or` bind equally and associate to the left, `not` binds tightest,
// and `around`/`byres`/`same ... as`/`sphzone` take everything to their right
// up to a closing parenthesis), plus VMD's `within R of`.
import type { FloatField, IntField, Node, SameProperty, StringField } from './ast.js';
import { SelectionError, tokenize, type Token } from './tokenizer.js';

const STRING_FIELDS: Record<string, StringField> = {
  name: 'names',
  type: 'types',
  element: 'elements',
  resname: 'resnames',
  segid: 'segids',
  chainID: 'chainIDs',
  chainid: 'chainIDs',
};

const INT_FIELDS: Record<string, IntField> = {
  resid: 'resids',
  resnum: 'resnums',
  index: 'index',
  bynum: 'bynum',
  id: 'ids',
  resindex: 'resindices',
};

const FLOAT_FIELDS: Record<string, FloatField> = { mass: 'masses', charge: 'charges' };

const SAME_PROPERTIES = new Set<SameProperty>(['residue', 'segment', 'name', 'type', 'resname', 'resid', 'segid', 'mass', 'charge', 'resnum', 'x', 'y', 'z']);

/** MDAnalysis keywords westream does not implement (they still end a value list). */
const UNSUPPORTED = [
  'altLoc', 'altloc', 'aromatic', 'aromaticity', 'bfactor', 'bonded', 'chirality', 'cylayer', 'cyzone', 'epsilon',
  'epsilon14', 'formalcharge', 'gbscreen', 'group', 'icode', 'isolayer', 'model', 'molnum', 'moltype', 'nbindex',
  'occupancy', 'radius', 'record_type', 'rmin', 'rmin14', 'segindex', 'smarts', 'solventradius', 'tempfactor',
];

const KEYWORDS = new Set<string>([
  ...Object.keys(STRING_FIELDS),
  ...Object.keys(INT_FIELDS),
  ...Object.keys(FLOAT_FIELDS),
  ...UNSUPPORTED,
  'all', 'none', 'not', 'and', 'or', 'protein', 'backbone', 'nucleic', 'nucleicbackbone', 'nucleicbase', 'nucleicsugar',
  'water', 'hydrogen', 'heavy', 'around', 'within', 'sphzone', 'sphlayer', 'point', 'byres', 'same', 'global', 'atom',
  'prop', '(', ')',
]);

const INT = /^-?\d+$/;
const INT_RANGE = /^(-?\d+)\s*(?::|-|to)\s*(-?\d+)$/;
const FLOAT = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const FLOAT_RANGE = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?::|-|to)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/;

/**
 * Deepest nesting of parentheses, `not` and the operators that take a
 * selection (around, byres, same ... as, ...) the parser accepts: each level
 * costs a few stack frames here and in the evaluator, and no real selection
 * comes near it. Flat `and`/`or` chains are not nesting: any length works.
 */
export const MAX_SELECTION_DEPTH = 500;

class Parser {
  private i = 0;
  /** Levels of nesting open (the whole selection is level 0). */
  private depth = -1;
  constructor(
    private readonly sel: string,
    private readonly tokens: Token[],
  ) {}

  private get end(): number {
    return this.sel.length;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private next(what: string): Token {
    const t = this.tokens[this.i];
    if (!t) throw new SelectionError(`expected ${what}, found the end of the selection`, this.sel, this.end);
    this.i++;
    return t;
  }

  private fail(t: Token | undefined, reason: string): never {
    throw new SelectionError(reason, this.sel, t ? t.pos : this.end);
  }

  parse(): Node {
    if (this.tokens.length === 0) throw new SelectionError('empty selection', this.sel, 0);
    const node = this.expression(0);
    const rest = this.peek();
    if (rest) {
      this.fail(rest, rest.text === ')' ? 'unbalanced ")"' : `unexpected "${rest.text}" (expected "and", "or" or the end)`);
    }
    return node;
  }

  private expression(p: number): Node {
    // p = 4: the right operand of and/or, the same level as its left.
    const nests = p !== 4;
    if (nests && ++this.depth > MAX_SELECTION_DEPTH) {
      this.fail(this.tokens[Math.max(0, this.i - 1)], `selection nested too deeply (more than ${MAX_SELECTION_DEPTH} levels of parentheses, "not" or operators)`);
    }
    try {
      return this.chain(p);
    } finally {
      if (nests) this.depth--;
    }
  }

  /** `a and b or c ...`: left to right, in a loop (a chain of any length costs no stack). */
  private chain(p: number): Node {
    let left = this.subexpression();
    for (;;) {
      const t = this.peek();
      if (!t || (t.text !== 'and' && t.text !== 'or') || 3 < p) break;
      this.i++;
      if (!this.peek() || this.peek()!.text === ')') this.fail(this.peek(), `expected a selection after "${t.text}"`);
      const right = this.expression(4);
      left = { kind: t.text, a: left, b: right, pos: t.pos };
    }
    return left;
  }

  /** Values up to the next keyword (a leading backslash escapes a keyword: \protein). */
  private values(): Token[] {
    const out: Token[] = [];
    for (let t = this.peek(); t && !KEYWORDS.has(t.text); t = this.peek()) {
      this.i++;
      out.push(t.text.startsWith('\\') ? { text: t.text.slice(1), pos: t.pos } : t);
    }
    return out;
  }

  /** Joins "1 - 10", "1 : 10", "1 to 10" into one range value. */
  private joined(values: Token[]): Token[] {
    const out: Token[] = [];
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      if ((v.text === 'to' || v.text === ':' || v.text === '-') && out.length > 0 && k + 1 < values.length) {
        const prev = out.pop()!;
        out.push({ text: `${prev.text}:${values[k + 1].text}`, pos: prev.pos });
        k++;
      } else {
        out.push(v);
      }
    }
    return out;
  }

  private number(what: string): number {
    const t = this.next(what);
    const v = Number(t.text);
    if (!FLOAT.test(t.text) || !Number.isFinite(v)) this.fail(t, `expected ${what}, found "${t.text}"`);
    return v;
  }

  private distance(what: string): number {
    const t = this.peek();
    const v = this.number(what);
    if (v < 0) this.fail(t, `${what} must not be negative`);
    return v;
  }

  private operand(keyword: Token): Node {
    const t = this.peek();
    if (!t || t.text === ')' || t.text === 'and' || t.text === 'or') this.fail(t, `expected a selection after "${keyword.text}"`);
    return this.expression(1);
  }

  private subexpression(): Node {
    const t = this.next('a selection');
    const w = t.text;
    if (w === '(') {
      if (this.peek()?.text === ')') this.fail(this.peek(), 'empty parentheses');
      const inner = this.expression(0);
      const close = this.peek();
      if (!close || close.text !== ')') this.fail(close, `expected ")" to close the "(" at character ${t.pos + 1}`);
      this.i++;
      return inner;
    }
    if (w === ')') this.fail(t, 'unbalanced ")"');
    if (w === 'and' || w === 'or') this.fail(t, `"${w}" needs a selection on its left`);
    if (w === 'all') return { kind: 'all', pos: t.pos };
    if (w === 'none') return { kind: 'none', pos: t.pos };
    if (w === 'not') {
      if (!this.peek() || this.peek()!.text === ')' || this.peek()!.text === 'and' || this.peek()!.text === 'or') {
        this.fail(this.peek(), 'expected a selection after "not"');
      }
      return { kind: 'not', sel: this.expression(5), pos: t.pos };
    }
    if (w === 'global') return this.operand(t);
    if (w in STRING_FIELDS) {
      const vals = this.values();
      if (vals.length === 0) this.fail(this.peek(), `expected one or more values after "${w}"`);
      for (const v of vals) globToRegExp(v.text, this.sel, v.pos);
      return { kind: 'string', field: STRING_FIELDS[w], patterns: vals.map((v) => v.text), pos: t.pos };
    }
    if (w in INT_FIELDS) {
      const vals = this.joined(this.values());
      if (vals.length === 0) this.fail(this.peek(), `expected numbers or ranges after "${w}"`);
      const ranges: [number, number][] = vals.map((v) => {
        if (INT.test(v.text)) return [Number(v.text), Number(v.text)];
        const m = INT_RANGE.exec(v.text);
        if (!m) this.fail(v, `"${v.text}" is not a number or a range (1-10, 1:10 or 1 to 10) for "${w}"`);
        return [Number(m[1]), Number(m[2])];
      });
      return { kind: 'int', field: INT_FIELDS[w], ranges, pos: t.pos };
    }
    if (w in FLOAT_FIELDS) {
      const vals = this.joined(this.values());
      if (vals.length === 0) this.fail(this.peek(), `expected numbers or ranges after "${w}"`);
      const ranges: [number, number | undefined][] = vals.map((v) => {
        if (FLOAT.test(v.text)) return [Number(v.text), undefined];
        const m = FLOAT_RANGE.exec(v.text);
        if (!m) this.fail(v, `"${v.text}" is not a number or a range for "${w}"`);
        return [Number(m[1]), Number(m[2])];
      });
      return { kind: 'float', field: FLOAT_FIELDS[w], ranges, pos: t.pos };
    }
    switch (w) {
      case 'protein':
      case 'nucleic':
      case 'water':
        return { kind: 'residues', set: w, pos: t.pos };
      case 'backbone':
      case 'nucleicbackbone':
      case 'nucleicbase':
      case 'nucleicsugar':
        return { kind: 'names-in-residues', set: w, pos: t.pos };
      case 'hydrogen':
      case 'heavy':
        return { kind: w, pos: t.pos };
      case 'around': {
        const cutoff = this.distance('a cutoff distance (Å) after "around"');
        return { kind: 'around', cutoff, sel: this.operand(t), pos: t.pos };
      }
      case 'sphzone': {
        const cutoff = this.distance('a radius (Å) after "sphzone"');
        return { kind: 'sphzone', cutoff, sel: this.operand(t), pos: t.pos };
      }
      case 'sphlayer': {
        const inner = this.distance('an inner radius (Å) after "sphlayer"');
        const outer = this.distance('an outer radius (Å)');
        return { kind: 'sphlayer', inner, outer, sel: this.operand(t), pos: t.pos };
      }
      case 'within': {
        const cutoff = this.distance('a cutoff distance (Å) after "within"');
        const of = this.peek();
        if (!of || of.text !== 'of') this.fail(of, 'expected "of" after "within R" (within 5 of resname NA)');
        this.i++;
        return { kind: 'within', cutoff, sel: this.operand(of), pos: t.pos };
      }
      case 'point': {
        const x = this.number('x after "point"');
        const y = this.number('y');
        const z = this.number('z');
        const cutoff = this.distance('a radius (Å)');
        return { kind: 'point', x, y, z, cutoff, pos: t.pos };
      }
      case 'byres':
        return { kind: 'byres', sel: this.operand(t), pos: t.pos };
      case 'same': {
        const p = this.next('a property after "same" (residue, segment, name, resname, resid, ...)');
        if (!SAME_PROPERTIES.has(p.text as SameProperty)) {
          this.fail(p, `unknown property "${p.text}" for "same" (one of ${[...SAME_PROPERTIES].join(', ')})`);
        }
        const as = this.peek();
        if (!as || as.text !== 'as') this.fail(as, `expected "as" after "same ${p.text}"`);
        this.i++;
        return { kind: 'same', prop: p.text as SameProperty, sel: this.operand(as), pos: t.pos };
      }
      case 'atom': {
        const seg = this.next('a segid after "atom"');
        const res = this.next('a resid');
        if (!INT.test(res.text)) this.fail(res, `expected a residue number, found "${res.text}"`);
        const name = this.next('an atom name');
        return { kind: 'atom', segid: seg.text, resid: Number(res.text), name: name.text, pos: t.pos };
      }
      case 'prop': {
        let f = this.next('a property after "prop" (x, y, z, mass, charge)');
        let abs = false;
        if (f.text === 'abs') {
          abs = true;
          f = this.next('a property after "prop abs"');
        }
        const fields: Record<string, 'x' | 'y' | 'z' | 'masses' | 'charges'> = { x: 'x', y: 'y', z: 'z', mass: 'masses', charge: 'charges' };
        let field = fields[f.text];
        let op: string | undefined;
        let valueText: string | undefined;
        const compact = /^(x|y|z|mass|charge)(<=|>=|==|!=|<|>)(.+)?$/.exec(f.text);
        if (compact) {
          field = fields[compact[1]];
          op = compact[2];
          valueText = compact[3];
        }
        if (!field) this.fail(f, `unknown property "${f.text}" for "prop" (x, y, z, mass or charge)`);
        if (!op) {
          const o = this.next('a comparison (<, >, <=, >=, ==, !=)');
          const m = /^(<=|>=|==|!=|<|>)(.+)?$/.exec(o.text);
          if (!m) this.fail(o, `expected a comparison (<, >, <=, >=, ==, !=), found "${o.text}"`);
          op = m[1];
          valueText = m[2];
        }
        const value = valueText !== undefined ? Number(valueText) : this.number('a number');
        if (!Number.isFinite(value)) this.fail(f, `bad number in "prop" comparison`);
        return { kind: 'prop', field, op, value, abs, pos: t.pos };
      }
    }
    if (UNSUPPORTED.includes(w)) this.fail(t, `the MDAnalysis keyword "${w}" is not supported by westream`);
    this.fail(t, `unknown selection keyword "${w}"`);
  }
}

/** Parses a selection string into its syntax tree; throws SelectionError pointing at the offending character. */
export function parseSelection(selection: string): Node {
  return new Parser(selection, tokenize(selection)).parse();
}

/** Shell-style pattern (fnmatchcase: *, ?, [seq], [!seq]) → RegExp. */
export function globToRegExp(pattern: string, selection = pattern, pos = 0): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new SelectionError(`unclosed "[" in pattern "${pattern}"`, selection, pos + i);
      let body = pattern.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = close;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}
