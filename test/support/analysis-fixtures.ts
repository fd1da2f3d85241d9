// Real MD systems for the analysis tests: test/fixtures/analysis_systems.py
// simulates a solvated peptide with OpenMM and with GROMACS and computes the
// reference values with MDAnalysis. Built once per checkout (keyed by the
// script's hash) under build-fixtures/, then shared by the test files.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { OwnedFrame } from '../../src/core/frame.js';
import { root, venvPython } from './helpers.js';

export type SystemName = 'openmm' | 'gromacs';

export interface Case {
  id: string;
  kind: string;
  expected: (number | number[])[];
  [key: string]: unknown;
}

export interface TopologyReference {
  natoms: number;
  names: string[];
  resnames: string[];
  resids: number[];
  types?: string[];
  segids?: string[];
  chainIDs?: string[];
  elements?: string[];
  masses?: number[];
  charges?: number[];
  selections: Record<string, number[] | { error: string }>;
  positions?: number[][];
  dimensions?: number[] | null;
}

export interface SystemReference {
  dir: string;
  natoms: number;
  nframes: number;
  files: { topology: string; trajectory: string; reference: string };
  cases: Case[];
  dynamic: { selection: string; expected: number[][] }[];
  topologies: Record<string, TopologyReference>;
  frames: OwnedFrame[];
}

const script = path.join(root, 'test', 'fixtures', 'analysis_systems.py');

/** Builds the fixtures if needed; returns their folder. */
export function fixturesDir(): string {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(root, 'build-fixtures', `analysis-${hash}`);
  if (!fs.existsSync(path.join(dir, 'done'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    execFileSync(venvPython, [script, tmp], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000, env: { ...process.env, OMP_NUM_THREADS: '2' } });
    fs.writeFileSync(path.join(tmp, 'done'), '');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  }
  return dir;
}

const loaded = new Map<SystemName, SystemReference>();

/** The reference values and the frames (as MDAnalysis read them) of one system. */
export function system(name: SystemName): SystemReference {
  let s = loaded.get(name);
  if (!s) {
    const dir = path.join(fixturesDir(), name);
    const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'));
    const pos = new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, 'frames.f32'))).buffer);
    const box = new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, 'boxes.f32'))).buffer);
    const n = ref.natoms;
    const frames: OwnedFrame[] = [];
    for (let f = 0; f < ref.nframes; f++) {
      frames.push(
        new OwnedFrame({
          index: f,
          natoms: n,
          positions: pos.slice(f * 3 * n, (f + 1) * 3 * n),
          box: box.slice(f * 6, f * 6 + 6),
        }),
      );
    }
    s = { ...ref, dir, frames } as SystemReference;
    loaded.set(name, s);
  }
  return s;
}
