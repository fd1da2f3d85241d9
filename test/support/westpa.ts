// Checking a finished WESTPA run of a NaCl example (test/fixtures/westpa_check.py).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { root, venvPython } from './helpers.js';

export interface WestpaCheck {
  segments: number;
  /** Largest |stored pcoord − MDAnalysis on the kept trajectory|, Å. */
  max_dev: number;
  /** Largest |row 0 − parent's last row or basis state pcoord|, Å. */
  start_dev: number;
  statuses: number[];
  iterations: number;
  rows_checked: number;
}

export function checkWestpaRun(sim: string, structure: string, trajectory: string): WestpaCheck {
  const out = execFileSync(venvPython, [path.join(root, 'test', 'fixtures', 'westpa_check.py'), sim, structure, trajectory], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out) as WestpaCheck;
}
