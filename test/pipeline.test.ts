// Declarative pipelines: a YAML file → pcoord rows (checked against MDAnalysis
// on the real OpenMM trajectory), validation errors with file:line:column, and
// `westream run --pipeline FILE.yaml` end to end with a real producer process.
import fs from 'node:fs';
import path from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { OwnedFrame } from '../src/core/frame.js';
import { formatRow, loadPipeline, parsePipeline, PipelineError, type PcoordRow } from '../src/pipeline/index.js';
import { start, tmpdir, venvPython, westreamBin, root } from './support/helpers.js';
import { system, type SystemReference } from './support/analysis-fixtures.js';

let omm: SystemReference;
let dir: string;

beforeAll(() => {
  omm = system('openmm');
  dir = tmpdir('westream-pipeline-');
  for (const f of ['system.prmtop', 'system.pdb']) fs.copyFileSync(path.join(omm.dir, f), path.join(dir, f));
}, 600_000);

const expected = (id: string) => {
  const c = omm.cases.find((k) => k.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};

function naclYaml(extra = ''): string {
  const d = expected('na-cl distance');
  return `# Na–Cl distance as the pcoord, backbone RMSD as an auxiliary dataset
topology: system.prmtop
reference: system.pdb
pcoord:
  - distance: {a: "${d.a}", b: "${d.b}"}
aux:
  rmsd_bb:
    rmsd: {select: backbone, fit: backbone}
  ca_q:
    - q: {a: "protein and name CA", b: "protein and name CA", radius: 6.0}
    - rg: {select: protein}
${extra}`;
}

async function rows(file: string, frames = omm.frames): Promise<PcoordRow[]> {
  const p = loadPipeline(file);
  return lastValueFrom(from(frames).pipe(p.operator, toArray()));
}

describe('declarative pipeline on a real OpenMM trajectory', () => {
  it('pcoord and aux datasets match MDAnalysis frame by frame', async () => {
    const file = path.join(dir, 'nacl.yaml');
    fs.writeFileSync(file, naclYaml());
    const p = loadPipeline(file);
    expect(p.pcoordLabels).toEqual([`distance(${expected('na-cl distance').a}, ${expected('na-cl distance').b})`]);
    expect(p.aux).toEqual([
      { name: 'rmsd_bb', width: 1 },
      { name: 'ca_q', width: 2 },
    ]);
    const out = await rows(file);
    expect(out.length).toBe(omm.frames.length);
    const dist = expected('na-cl distance').expected as number[];
    const rms = expected('backbone rmsd (fit backbone)').expected as number[];
    const q = expected('Q hard_cut').expected as number[];
    const rg = expected('protein rg').expected as number[];
    out.forEach((r, k) => {
      expect(r.index).toBe(k);
      expect(r.pcoord.length).toBe(1);
      expect(Math.abs(r.pcoord[0] - dist[k])).toBeLessThan(1e-4);
      expect(Math.abs(r.aux.rmsd_bb[0] - rms[k])).toBeLessThan(1e-4);
      expect(Math.abs(r.aux.ca_q[0] - q[k])).toBeLessThan(1e-9);
      expect(Math.abs(r.aux.ca_q[1] - rg[k])).toBeLessThan(1e-4);
    });
  });

  it('every: n keeps every n-th frame; centres give three columns', async () => {
    const file = path.join(dir, 'every.yaml');
    fs.writeFileSync(file, 'topology: system.prmtop\nevery: 3\npcoord:\n  - com: {select: protein}\n  - mindist: {a: protein, b: "resname NA CL"}\n');
    const out = await rows(file);
    expect(out.map((r) => r.index)).toEqual([0, 3, 6, 9]);
    const com = expected('protein com').expected as number[][];
    const md = expected('min distance peptide-ions').expected as number[];
    for (const r of out) {
      expect(r.pcoord.length).toBe(4);
      for (let c = 0; c < 3; c++) expect(Math.abs(r.pcoord[c] - com[r.index][c])).toBeLessThan(1e-4);
      expect(Math.abs(r.pcoord[3] - md[r.index])).toBeLessThan(1e-4);
    }
    expect(loadPipeline(file).pcoordLabels).toEqual(['com(protein).x', 'com(protein).y', 'com(protein).z', 'mindist(protein, resname NA CL)']);
  });

  it('a frame with another atom count is an error naming both counts', async () => {
    const file = path.join(dir, 'nacl.yaml');
    fs.writeFileSync(file, naclYaml());
    const bad = new OwnedFrame({ index: 0, natoms: 10, positions: new Float32Array(30) });
    await expect(rows(file, [bad])).rejects.toThrow(/frame 0 has 10 atoms but the topology .*system\.prmtop \(prmtop, \d+ atoms/);
  });

  it('formatRow writes space-separated numbers', () => {
    expect(formatRow(Float64Array.of(12.3456789012, 0.1, -3))).toBe('12.3456789 0.1 -3');
  });
});

describe('pipeline validation errors name file, line and column', () => {
  const check = (yaml: string, message: RegExp) => {
    let err: unknown;
    try {
      parsePipeline(yaml, 'p.yaml', dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PipelineError);
    expect((err as Error).message).toMatch(message);
  };

  it('unknown keys, with a suggestion', () => {
    check('topology: system.prmtop\npcoords:\n  - distance: {a: name CA, b: name CB}\n', /^p\.yaml:2:1: unknown key "pcoords" in the pipeline \(did you mean "pcoord"\?\)/);
    check('topology: system.prmtop\npcoord:\n  - rmsd: {selct: backbone}\n', /^p\.yaml:3:12: unknown key "selct" in pcoord\[0\]\.rmsd \(did you mean "select"\?\); expected one of: select, fit/);
    check('topology: system.prmtop\npcoord:\n  - distanse: {a: name CA, b: name CB}\n', /^p\.yaml:3:5: unknown measure "distanse" in pcoord\[0\] \(did you mean "distance"\?\)/);
  });

  it('bad selections point at the character', () => {
    check('topology: system.prmtop\npcoord:\n  - distance: {a: "name CA and", b: name CB}\n', /^p\.yaml:3:31: bad selection for pcoord\[0\]\.distance\.a: expected a selection after "and" at character 12 of "name CA and"/);
    check('topology: system.prmtop\npcoord:\n  - distance: {a: resid 1-x, b: name CB}\n', /^p\.yaml:3:25: bad selection for pcoord\[0\]\.distance\.a: "1-x" is not a number or a range/);
    check('topology: system.prmtop\npcoord:\n  - distance: {a: name XYZ, b: name CB}\n', /^p\.yaml:3:19: pcoord\[0\]\.distance\.a: selection "name XYZ" matches no atoms/);
  });

  it('missing topology, missing files, wrong types, invalid YAML', () => {
    check('pcoord:\n  - distance: {a: name CA, b: name CB}\n', /^p\.yaml:1:1: missing required key "topology"/);
    check('topology: nothere.pdb\npcoord:\n  - distance: {a: name CA, b: name CB}\n', /^p\.yaml:1:11: topology file "nothere\.pdb" not found/);
    check('topology: system.prmtop\n', /missing required key "pcoord"/);
    check('topology: system.prmtop\npcoord: []\n', /^p\.yaml:2:9: "pcoord" must list at least one measure/);
    check('topology: system.prmtop\npcoord:\n  - coordination: {a: name NA, b: name O}\n', /^p\.yaml:3:19: pcoord\[0\]\.coordination is missing "cutoff"/);
    check('topology: system.prmtop\npcoord:\n  - coordination: {a: resname NA, b: name O, cutoff: far}\n', /^p\.yaml:3:54: "pcoord\[0\]\.coordination\.cutoff" must be a number, got "far"/);
    check('topology: system.prmtop\npcoord:\n  - coordination: {a: resname NA, b: name O, cutoff: .nan}\n', /must be a number, got NaN$/);
    check('topology: system.prmtop\nevery: 0\npcoord:\n  - rg: {select: protein}\n', /^p\.yaml:2:8: "every" must be a positive integer, got 0/);
    check('topology: system.prmtop\nreference: system.pdb\npcoord:\n  - rmsd: {select: backbone, weights: charge}\n', /^p\.yaml:4:39: pcoord\[0\]\.rmsd\.weights must be one of mass, got "charge"/);
    check('topology: system.prmtop\npcoord:\n  - rmsd: {select: backbone}\n', /^p\.yaml:3:11: pcoord\[0\]\.rmsd needs a reference structure: ".*system\.prmtop" has no coordinates; set "reference:"/);
    check('topology: system.prmtop\npcoord:\n  - rg: {select: protein}\n    distance: {a: x, b: y}\n', /^p\.yaml:3:5: pcoord\[0\] must have exactly one measure key/);
    check('topology: system.prmtop\npcoord: [rg: {select: protein}\n', /^p\.yaml:\d+:\d+: invalid YAML/);
    check('topology: system.prmtop\naux:\n  2bad: {rg: {select: protein}}\npcoord:\n  - rg: {select: protein}\n', /^p\.yaml:3:3: auxiliary dataset name "2bad" must be an identifier/);
  });

  it('a missing pipeline file', () => {
    expect(() => loadPipeline(path.join(dir, 'none.yaml'))).toThrow(/none\.yaml: no such pipeline file/);
  });
});

describe('westream run --pipeline FILE.yaml', () => {
  it('prints one pcoord row per frame that a producer streams', async () => {
    const file = path.join(dir, 'run.yaml');
    fs.writeFileSync(file, naclYaml());
    const producer = path.join(root, 'test', 'fixtures', 'stream_frames.py');
    const r = await start(process.execPath, [
      westreamBin,
      'run',
      '--pipeline',
      file,
      '--',
      venvPython,
      producer,
      path.join(omm.dir, 'frames.f32'),
      path.join(omm.dir, 'boxes.f32'),
      String(omm.natoms),
    ]).exit;
    expect(r.stderr).not.toMatch(/"level":50/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(omm.frames.length);
    const dist = expected('na-cl distance').expected as number[];
    lines.forEach((l, k) => {
      expect(l).toMatch(/^\d+\.\d+$/);
      expect(Math.abs(Number(l) - dist[k])).toBeLessThan(1e-4);
    });
  });

  it('an invalid pipeline file exits 2 with the location, before starting the command', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'topology: system.prmtop\npcoord:\n  - distance: {a: "name CA and", b: name CB}\n');
    const marker = path.join(dir, 'started');
    const r = await start(process.execPath, [westreamBin, 'run', '--pipeline', file, '--', 'touch', marker], { WESTREAM_LOG_LEVEL: 'info' }).exit;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:3:31: bad selection/);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
