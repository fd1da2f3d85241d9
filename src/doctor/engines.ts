// The MD engines a user could wrap (found on PATH; none is required) and the
// WESTPA simulation in this directory, read the way `westream run` reads it.
import { findWestConfig, readWestConfig } from '../westpa/west-config.js';
import { capture, printable, which, type CheckResult } from './check.js';

const ENGINES: { name: string; executables: string[]; how: string }[] = [
  { name: 'gromacs', executables: ['gmx', 'gmx_mpi', 'gmx_d'], how: '`run --trajectory traj.xtc` or `run --imd gromacs`' },
  { name: 'lammps', executables: ['lmp', 'lmp_serial', 'lmp_mpi'], how: '`run --trajectory dump.lammpstrj -- lmp -in in.lj -var traj dump.lammpstrj` (the dump named on the command line) or `run --imd lammps`' },
  { name: 'namd', executables: ['namd3', 'namd2'], how: '`run --trajectory out.dcd` or `run --imd namd`' },
  { name: 'amber', executables: ['pmemd.cuda', 'pmemd', 'sander'], how: '`run --trajectory mdcrd.nc`' },
];

export async function engineChecks(): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const { name, executables, how } of ENGINES) {
    const found = executables.map((e) => which(e)).filter((p): p is string => !!p);
    if (found.length === 0) {
      out.push({ name, status: 'info', detail: `not on PATH (${executables.join(', ')})` });
      continue;
    }
    let version = '';
    if (name === 'gromacs') {
      const m = /GROMACS version:\s*(\S+)/.exec((await capture(found[0], ['--version'], 20_000)).stdout);
      if (m) version = ` (GROMACS ${printable(m[1], 40)})`;
    }
    out.push({ name, status: 'info', detail: `${found.join(', ')}${version}: stream it with ${how}`, data: { executables: found } });
  }
  return out;
}

/** west.cfg from --west-cfg, $WEST_SIM_ROOT or this directory: the pcoord shape every segment must match. */
export function westConfigCheck(explicit?: string): CheckResult {
  let file: string | undefined;
  try {
    file = findWestConfig(explicit);
  } catch (e) {
    return { name: 'west.cfg', status: 'fail', detail: (e as Error).message };
  }
  if (!file) return { name: 'west.cfg', status: 'info', detail: 'none here (run `westream doctor` in a simulation folder, or give --west-cfg, to check one)' };
  try {
    const c = readWestConfig(file);
    const datasets = c.datasets.map((d) => d.name);
    return {
      name: 'west.cfg',
      status: 'ok',
      detail: `${file}: pcoord_len ${c.pcoordLen}, pcoord_ndim ${c.pcoordNdim}${datasets.length ? `, datasets ${datasets.join(', ')}` : ''}`,
      data: { file, pcoordLen: c.pcoordLen, pcoordNdim: c.pcoordNdim, datasets },
    };
  } catch (e) {
    return { name: 'west.cfg', status: 'fail', detail: (e as Error).message, hint: 'every segment would fail: fix west.cfg' };
  }
}
