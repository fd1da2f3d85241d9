// Declarative pipelines: a YAML file → validated → an operator from frames to
// pcoord rows (plus auxiliary datasets). Every error names the file, line and
// column of the offending key or value.
import fs from 'node:fs';
import path from 'node:path';
import { map, pipe, type OperatorFunction } from 'rxjs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type Scalar, type YAMLMap } from 'yaml';

import type { Frame } from '../core/frame.js';
import { angle } from '../analysis/angle.js';
import { centerOfGeometry, centerOfMass } from '../analysis/center.js';
import { coordination } from '../analysis/coordination.js';
import { dihedral } from '../analysis/dihedral.js';
import { distance } from '../analysis/distance.js';
import { everyNth } from '../analysis/every-nth.js';
import type { Measure } from '../analysis/measure.js';
import { minDistance } from '../analysis/min-distance.js';
import { nativeContacts } from '../analysis/native-contacts.js';
import { radiusOfGyration } from '../analysis/radius-of-gyration.js';
import { rmsd } from '../analysis/rmsd.js';
import { readTopology } from '../topology/index.js';
import { SelectionError } from '../topology/selection/tokenizer.js';
import type { Topology } from '../topology/topology.js';
import type { AtomGroup } from '../topology/selection/atom-group.js';
import { MEASURES, measureKind, TOP_LEVEL, type MeasureSpec } from './schema.js';

/** One row of output: the pcoord of a frame and its auxiliary values. */
export interface PcoordRow {
  /** The frame's index in the stream. */
  index: number;
  step?: number;
  time?: number;
  /** pcoord values in the order of the file's `pcoord` list. */
  pcoord: Float64Array;
  /** Auxiliary datasets by name. */
  aux: Record<string, Float64Array>;
}

/** A loaded pipeline. */
export interface Pipeline {
  file: string;
  topology: Topology;
  /** Column labels of the pcoord, e.g. ["distance(name NA, name CL)"]. */
  pcoordLabels: string[];
  /** Auxiliary dataset names and their widths. */
  aux: { name: string; width: number }[];
  /** Frames in, one row per analysed frame out. */
  operator: OperatorFunction<Frame, PcoordRow>;
}

/** An invalid pipeline file: `file:line:column: message`. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
    readonly reason: string,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}:${column}: ${reason}`);
  }
}

/** Reads and validates a pipeline file; relative paths in it are relative to the file. */
export function loadPipeline(file: string): Pipeline {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PipelineError(file, undefined, undefined, err.code === 'ENOENT' ? 'no such pipeline file' : err.message);
  }
  return parsePipeline(text, file, path.dirname(path.resolve(file)));
}

/** Validates pipeline YAML text. `file` names it in errors; `baseDir` resolves relative paths. */
export function parsePipeline(text: string, file = 'pipeline.yaml', baseDir = process.cwd()): Pipeline {
  return new Loader(text, file, baseDir).load();
}

interface Built {
  label: string;
  width: number;
  compute: (frame: Frame) => number | ArrayLike<number>;
}

class Loader {
  private readonly lines = new LineCounter();
  private topology!: Topology;
  private readonly references = new Map<string, Frame>();
  private defaultReference?: { node: YamlNode | undefined; file?: string };
  private pbcDefault = true;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly baseDir: string,
  ) {}

  private fail(node: YamlNode | Pair | undefined, reason: string, offset = 0): never {
    const range = node && 'range' in node ? node.range : node && 'key' in node && isScalar(node.key) ? node.key.range : undefined;
    if (!range) throw new PipelineError(this.file, undefined, undefined, reason);
    const pos = this.lines.linePos(range[0] + offset);
    throw new PipelineError(this.file, pos.line, pos.col, reason);
  }

  load(): Pipeline {
    const doc = parseDocument(this.text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const pos = this.lines.linePos(e.pos[0]);
      throw new PipelineError(this.file, pos.line, pos.col, `invalid YAML: ${e.message.split('\n')[0]}`);
    }
    const root = doc.contents;
    if (!isMap(root)) this.fail(root ?? undefined, 'a pipeline file must be a mapping with at least "topology" and "pcoord"');
    const keys = this.checkKeys(root, Object.keys(TOP_LEVEL), 'the pipeline');
    for (const [k, spec] of Object.entries(TOP_LEVEL)) {
      if (spec.required && !keys.has(k)) this.fail(root, `missing required key "${k}" (${spec.doc})`);
    }

    const topoNode = keys.get('topology')!;
    this.topology = this.readTopologyFile(this.string(topoNode, 'topology'), topoNode);
    const refNode = keys.get('reference');
    this.defaultReference = { node: refNode, file: refNode ? this.string(refNode, 'reference') : undefined };
    const pbcNode = keys.get('pbc');
    if (pbcNode) this.pbcDefault = this.boolean(pbcNode, 'pbc');
    let every = 1;
    const everyNode = keys.get('every');
    if (everyNode) {
      every = this.number(everyNode, 'every');
      if (!Number.isInteger(every) || every < 1) this.fail(everyNode, `"every" must be a positive integer, got ${every}`);
    }

    const pcoordNode = keys.get('pcoord')!;
    const pcoord = this.measureList(pcoordNode, 'pcoord');
    if (pcoord.length === 0) this.fail(pcoordNode, '"pcoord" must list at least one measure');

    const aux: { name: string; width: number; parts: Built[] }[] = [];
    const auxNode = keys.get('aux');
    if (auxNode) {
      if (!isMap(auxNode)) this.fail(auxNode, '"aux" must map dataset names to measures (e.g. aux: {rmsd_bb: {rmsd: {select: backbone}}})');
      for (const pair of auxNode.items) {
        const name = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(pair.key as YamlNode, `auxiliary dataset name "${name}" must be an identifier (letters, digits, _)`);
        const parts = this.measureList(pair.value as YamlNode, `aux.${name}`);
        aux.push({ name, width: parts.reduce((s, p) => s + p.width, 0), parts });
      }
    }

    const width = pcoord.reduce((s, p) => s + p.width, 0);
    const rowOf = (parts: Built[], n: number, frame: Frame): Float64Array => {
      const out = new Float64Array(n);
      let k = 0;
      for (const p of parts) {
        const v = p.compute(frame);
        if (typeof v === 'number') out[k++] = v;
        else for (let j = 0; j < v.length; j++) out[k++] = v[j];
      }
      return out;
    };
    const toRow = map((frame: Frame): PcoordRow => {
      const row: PcoordRow = { index: frame.index, pcoord: rowOf(pcoord, width, frame), aux: {} };
      if (frame.step !== undefined) row.step = frame.step;
      if (frame.time !== undefined) row.time = frame.time;
      for (const a of aux) row.aux[a.name] = rowOf(a.parts, a.width, frame);
      return row;
    });
    return {
      file: this.file,
      topology: this.topology,
      pcoordLabels: pcoord.flatMap((p) => (p.width === 1 ? [p.label] : ['x', 'y', 'z'].map((c) => `${p.label}.${c}`))),
      aux: aux.map(({ name, width: w }) => ({ name, width: w })),
      operator: every > 1 ? pipe(everyNth(every), toRow) : toRow,
    };
  }

  /** The keys of a mapping, rejecting unknown and duplicate ones. */
  private checkKeys(node: YAMLMap, allowed: string[], where: string): Map<string, YamlNode | undefined> {
    const out = new Map<string, YamlNode | undefined>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) this.fail(pair.key as YamlNode, `keys in ${where} must be plain names`);
      if (!allowed.includes(key)) {
        const hint = closest(key, allowed);
        this.fail(pair.key as YamlNode, `unknown key "${key}" in ${where}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of: ${allowed.join(', ')}`);
      }
      out.set(key, (pair.value ?? undefined) as YamlNode | undefined);
    }
    return out;
  }

  private scalar(node: YamlNode | undefined, what: string): Scalar {
    if (!node || !isScalar(node) || node.value === null) this.fail(node, `"${what}" needs a value`);
    return node as Scalar;
  }

  private string(node: YamlNode | undefined, what: string): string {
    const s = this.scalar(node, what);
    if (typeof s.value !== 'string' && typeof s.value !== 'number') this.fail(s, `"${what}" must be a string`);
    return String(s.value);
  }

  private number(node: YamlNode | undefined, what: string): number {
    const s = this.scalar(node, what);
    if (typeof s.value !== 'number' || !Number.isFinite(s.value)) this.fail(s, `"${what}" must be a number, got ${typeof s.value === 'number' ? String(s.value) : JSON.stringify(s.value)}`);
    return s.value as number;
  }

  private boolean(node: YamlNode | undefined, what: string): boolean {
    const s = this.scalar(node, what);
    if (typeof s.value !== 'boolean') this.fail(s, `"${what}" must be true or false, got ${JSON.stringify(s.value)}`);
    return s.value as boolean;
  }

  private resolve(p: string): string {
    return path.isAbsolute(p) ? p : path.join(this.baseDir, p);
  }

  private readTopologyFile(p: string, node: YamlNode | undefined): Topology {
    const full = this.resolve(p);
    if (!fs.existsSync(full)) this.fail(node, `topology file "${p}" not found (looked for ${full})`);
    try {
      return readTopology(full);
    } catch (e) {
      this.fail(node, `cannot read topology "${p}": ${(e as Error).message}`);
    }
  }

  private reference(node: YamlNode | undefined, where: string, measureNode: YamlNode): Frame {
    const own = node ? this.string(node, `${where}.reference`) : undefined;
    const p = own ?? this.defaultReference?.file;
    const at = node ?? this.defaultReference?.node ?? measureNode;
    if (p === undefined) {
      if (this.topology.frames.length === 0) {
        this.fail(at, `${where} needs a reference structure: "${this.topology.source.file}" has no coordinates; set "reference:"`);
      }
      return this.topology.frames[0];
    }
    let frame = this.references.get(p);
    if (!frame) {
      const full = this.resolve(p);
      if (!fs.existsSync(full)) this.fail(at, `reference file "${p}" not found (looked for ${full})`);
      let top: Topology;
      try {
        top = readTopology(full);
      } catch (e) {
        this.fail(at, `cannot read reference "${p}": ${(e as Error).message}`);
      }
      if (top.frames.length === 0) this.fail(at, `reference "${p}" has no coordinates (use a .pdb or .gro)`);
      if (top.natoms !== this.topology.natoms) {
        this.fail(at, `reference "${p}" has ${top.natoms} atoms, the topology ${this.topology.natoms}`);
      }
      frame = top.frames[0];
      this.references.set(p, frame);
    }
    return frame;
  }

  private selection(node: YamlNode | undefined, what: string): AtomGroup {
    const text = this.string(node, what);
    const s = node as Scalar;
    try {
      return this.topology.select(text);
    } catch (e) {
      if (e instanceof SelectionError) {
        // Point into the string when it is on one line.
        const quoted = s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE' ? 1 : 0;
        this.fail(s, `bad selection for ${what}: ${e.reason} at character ${e.position + 1} of "${e.quoted}"`, quoted + e.position);
      }
      this.fail(s, `${what}: ${(e as Error).message}`);
    }
  }

  /** A measure, or a list of measures. */
  private measureList(node: YamlNode | undefined, where: string): Built[] {
    if (!node) this.fail(node, `"${where}" needs a measure or a list of measures`);
    if (isSeq(node)) return node.items.map((item, i) => this.measure(item as YamlNode, `${where}[${i}]`));
    return [this.measure(node, where)];
  }

  private measure(node: YamlNode | undefined, where: string): Built {
    const kinds = Object.keys(MEASURES).join(', ');
    if (!node || !isMap(node)) this.fail(node, `${where} must be a measure such as "distance: {a: ..., b: ...}" (one of: ${kinds})`);
    const pairs = node.items.filter((p) => !(isScalar(p.key) && p.key.value === 'name'));
    const nameNode = node.items.find((p) => isScalar(p.key) && p.key.value === 'name')?.value as YamlNode | undefined;
    if (pairs.length !== 1) this.fail(node, `${where} must have exactly one measure key (one of: ${kinds}), found ${pairs.length}`);
    const pair = pairs[0];
    const keyName = isScalar(pair.key) ? String(pair.key.value) : '';
    const kind = measureKind(keyName);
    if (!kind) {
      const hint = closest(keyName, Object.keys(MEASURES));
      this.fail(pair.key as YamlNode, `unknown measure "${keyName}" in ${where}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of: ${kinds}`);
    }
    const spec = MEASURES[kind];
    const body = pair.value as YamlNode | undefined;
    if (!body || !isMap(body)) this.fail(body ?? (pair.key as YamlNode), `${where}.${keyName} needs its parameters as a mapping, e.g. {${Object.keys(spec.params).slice(0, 2).map((k) => `${k}: ...`).join(', ')}}`);
    const at = `${where}.${keyName}`;
    const params = this.checkKeys(body, Object.keys(spec.params), at);
    for (const [k, p] of Object.entries(spec.params)) {
      if (p.required && !params.has(k)) this.fail(body, `${at} is missing "${k}" (${p.doc})`);
    }
    const built = this.build(kind, spec, params, at, body);
    const label = nameNode ? this.string(nameNode, `${where}.name`) : built.label;
    return { ...built, label };
  }

  private build(kind: string, spec: MeasureSpec, p: Map<string, YamlNode | undefined>, at: string, body: YamlNode): Built {
    const sel = (k: string) => this.selection(p.get(k), `${at}.${k}`);
    const num = (k: string) => {
      if (!p.has(k)) return undefined;
      const v = this.number(p.get(k), `${at}.${k}`);
      const min = spec.params[k].min;
      if (min !== undefined && v < min) this.fail(p.get(k), `${at}.${k} must be >= ${min}, got ${v}`);
      return v;
    };
    const bool = (k: string) => (p.has(k) ? this.boolean(p.get(k), `${at}.${k}`) : undefined);
    const choice = (k: string) => {
      if (!p.has(k)) return undefined;
      const v = this.string(p.get(k), `${at}.${k}`);
      const choices = spec.params[k].choices!;
      if (!choices.includes(v)) this.fail(p.get(k), `${at}.${k} must be one of ${choices.join(', ')}, got "${v}"`);
      return v;
    };
    const text = (k: string) => (p.has(k) ? this.string(p.get(k), `${at}.${k}`) : undefined);
    const pbc = bool('pbc') ?? this.pbcDefault;
    const centre = choice('center') as 'geometry' | 'mass' | undefined;
    let m: Measure<number | Float64Array>;
    let label: string;
    switch (kind) {
      case 'distance':
        m = distance(sel('a'), sel('b'), { pbc, center: centre });
        label = `distance(${text('a')}, ${text('b')})`;
        break;
      case 'angle':
        m = angle(sel('a'), sel('b'), sel('c'), { pbc, center: centre });
        label = `angle(${text('a')}, ${text('b')}, ${text('c')})`;
        break;
      case 'dihedral':
        m = dihedral(sel('a'), sel('b'), sel('c'), sel('d'), { pbc, center: centre });
        label = `dihedral(${text('a')}, ${text('b')}, ${text('c')}, ${text('d')})`;
        break;
      case 'com':
        m = centerOfMass(sel('select'));
        label = `com(${text('select')})`;
        break;
      case 'cog':
        m = centerOfGeometry(sel('select'));
        label = `cog(${text('select')})`;
        break;
      case 'rg':
        m = radiusOfGyration(sel('select'), { weights: choice('weights') as 'mass' | 'geometry' | undefined });
        label = `rg(${text('select')})`;
        break;
      case 'rmsd': {
        const fit = p.has('fit') ? sel('fit') : undefined;
        const superposition = bool('superposition');
        if (fit && superposition === false) this.fail(p.get('fit'), `${at}: "fit" needs superposition (remove "superposition: false")`);
        m = rmsd(sel('select'), this.reference(p.get('reference'), at, body), {
          fit,
          superposition,
          center: bool('center'),
          weights: choice('weights') as 'mass' | undefined,
        });
        label = `rmsd(${text('select')}${fit ? `, fit ${text('fit')}` : ''})`;
        break;
      }
      case 'q':
        try {
          m = nativeContacts(sel('a'), sel('b'), this.reference(p.get('reference'), at, body), {
            radius: num('radius'),
            method: choice('method') as 'hard_cut' | undefined,
            beta: num('beta'),
            lambda: num('lambda'),
            pbc,
          });
        } catch (e) {
          if (e instanceof PipelineError) throw e;
          this.fail(p.get('a'), `${at}: ${(e as Error).message}`);
        }
        label = `q(${text('a')}, ${text('b')})`;
        break;
      case 'coordination':
        m = coordination(sel('a'), sel('b'), { cutoff: num('cutoff')!, pbc });
        label = `coordination(${text('a')}, ${text('b')}, ${num('cutoff')})`;
        break;
      case 'mindist':
        m = minDistance(sel('a'), sel('b'), { pbc });
        label = `mindist(${text('a')}, ${text('b')})`;
        break;
      default:
        throw new Error(`internal: no builder for ${kind}`);
    }
    return { label, width: spec.width, compute: m.compute };
  }
}

/** The allowed name closest to `s` (edit distance ≤ 2), for "did you mean". */
function closest(s: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(s, a);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}

/** Formats a row's numbers for a pcoord file or stdout: space separated, up to 9 significant digits. */
export function formatRow(values: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    if (i) s += ' ';
    s += formatNumber(values[i]);
  }
  return s;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(9)));
}
