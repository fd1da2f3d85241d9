// What westream needs from west.cfg: the pcoord shape and the datasets
// (reference: westpa-contract.md §3, §5, §7).
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';

export interface DatasetConfig {
  name: string;
  loader: string;
  enabled: boolean;
}

export interface WestConfig {
  file: string;
  pcoordLen: number;
  pcoordNdim: number;
  /** e.g. "numpy.float32", from !!python/name:numpy.float32 */
  pcoordDtype?: string;
  datasets: DatasetConfig[];
}

export class WestConfigError extends Error {
  override name = 'WestConfigError';
}

/** west.cfg in WEST_SIM_ROOT (or the given file); undefined if there is none. */
export function findWestConfig(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new WestConfigError(`west.cfg not found: ${explicit}`);
    return explicit;
  }
  const candidates = [env.WEST_SIM_ROOT && path.join(env.WEST_SIM_ROOT, 'west.cfg'), 'west.cfg'].filter(Boolean) as string[];
  return candidates.find((f) => fs.existsSync(f));
}

function at(root: unknown, keys: string[]): unknown {
  let v = root;
  for (const k of keys) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function positive(file: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new WestConfigError(`${file}: west.system.system_options.${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Reads pcoord_len, pcoord_ndim, pcoord_dtype and datasets from west.cfg. */
export function readWestConfig(file: string): WestConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new WestConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  // WESTPA's YAML carries Python tags (!!python/name:numpy.float32): keep them as strings.
  const doc = parseDocument(text, { logLevel: 'silent' });
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new WestConfigError(`${file}: invalid YAML at line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new WestConfigError(`${file}: ${(e as Error).message}`); // e.g. an alias bomb
  }
  const options = at(root, ['west', 'system', 'system_options']);
  if (!options) throw new WestConfigError(`${file}: no west.system.system_options section (is this a WESTPA west.cfg?)`);
  const pcoordLen = positive(file, 'pcoord_len', at(options, ['pcoord_len']));
  const pcoordNdim = positive(file, 'pcoord_ndim', at(options, ['pcoord_ndim']) ?? 1);
  const dtypeNode = doc.getIn(['west', 'system', 'system_options', 'pcoord_dtype'], true) as { tag?: string; value?: unknown } | undefined;
  const pcoordDtype = dtypeNode?.tag?.startsWith('tag:yaml.org,2002:python/name:')
    ? dtypeNode.tag.slice('tag:yaml.org,2002:python/name:'.length)
    : typeof dtypeNode?.value === 'string' ? dtypeNode.value : undefined;

  const datasets: DatasetConfig[] = [];
  const seen = new Set<string>();
  for (const where of [['west', 'executable', 'datasets'], ['west', 'data', 'datasets']]) {
    const list = at(root, where);
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new WestConfigError(`${file}: ${where.join('.')} must be a list`);
    for (const d of list) {
      const name = at(d, ['name']);
      if (typeof name !== 'string' || !name) throw new WestConfigError(`${file}: every entry of ${where.join('.')} needs a name`);
      if (seen.has(name)) continue;
      seen.add(name);
      const enabled = at(d, ['enabled']);
      datasets.push({ name, loader: String(at(d, ['loader']) ?? 'default'), enabled: enabled === undefined ? true : Boolean(enabled) });
    }
  }
  return { file, pcoordLen, pcoordNdim, pcoordDtype, datasets };
}
