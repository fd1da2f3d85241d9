// LAMMPS (`fix ID group imd PORT ...`, package MISC; IMD v3 since 2025).
//
// LAMMPS refuses ports below 1024 (so no port 0) and binds when the `fix`
// command runs; a busy port ends the run ("bind to socket failed", "LAMMPS
// Terminated on error in IMD."). westream passes the port as an index
// variable, `-var imd_port P`, so inputs write `fix 2 all imd ${imd_port}
// version 3`:
//   - in a private network namespace P is always 8888 (a literal port in the
//     input works there too: nothing else lives in that namespace);
//   - otherwise P comes from binding port 0 and closing, and a bind failure
//     restarts LAMMPS with a fresh P (probe-and-retry).
// LAMMPS prints "Waiting for IMD connection on port P." (flushed) once it
// listens and aborts the run when GO does not follow within a second.
import fs from 'node:fs';
import path from 'node:path';

import { LAMMPS_UNITS } from '../sources/imd/units.js';
import { findFlag, type EngineAdapter, type Isolation, type PortRequest, type WatchEvent } from './adapter.js';

export const LAMMPS_PORT_VARIABLE = 'imd_port';
export const NETNS_PORT = 8888;

const READY = /(?:Waiting|Listening) for IMD connection on port (\d+)/;

export function lammpsAdapter(portVariable = LAMMPS_PORT_VARIABLE): EngineAdapter {
  return {
    engine: 'lammps',
    hostIsolation: 'probe',
    netnsPort: { kind: 'fixed', port: NETNS_PORT },
    notListeningHint: `the input needs \`fix ID group imd \${${portVariable}} version 3\` (package MISC)`,

    command(command: string[], port: PortRequest, isolation: Isolation): string[] {
      const given = userVariable(command, portVariable);
      if (given !== undefined) {
        if (isolation === 'netns') return [...command]; // any port works in a private namespace
        throw new Error(
          `--imd lammps: the command sets -var ${portVariable} ${given} itself; westream must choose the port ` +
            '(remove it, and write `${' + portVariable + '}` in `fix ... imd`)',
        );
      }
      if (port.kind !== 'fixed') return [...command];
      return [...command, '-var', portVariable, String(port.port)];
    },

    watch(line: string): WatchEvent | undefined {
      const m = READY.exec(line);
      if (m) return { kind: 'ready', port: Number(m[1]) };
      if (/bind to socket failed/.test(line)) return { kind: 'bind-failed', line: line.trim() };
      if (/^ERROR/.test(line)) return { kind: 'error-line', line: line.trim() };
      return undefined;
    },
  };
}

function userVariable(command: string[], name: string): string | undefined {
  for (let i = 0; i < command.length - 2; i++) {
    if ((command[i] === '-var' || command[i] === '-v') && command[i + 1] === name) return command[i + 2];
  }
  return undefined;
}

/**
 * The `units` style of a LAMMPS run, read from its input script (`-in FILE`
 * or `-i FILE`, following `include` lines). LAMMPS sends raw values in that
 * style. Returns undefined with a reason when it cannot be known statically.
 */
export function lammpsUnitsFromCommand(command: string[], cwd = process.cwd()): { units?: string; reason?: string } {
  const at = findFlag(command, ['-in', '-i']);
  if (at < 0 || command[at + 1] === undefined) {
    return { reason: 'the input comes from stdin (no -in FILE)' };
  }
  const seen = new Set<string>();
  let units: string | undefined;
  const visit = (file: string, depth: number): string | undefined => {
    const full = path.resolve(cwd, file);
    if (seen.has(full) || depth > 8) return undefined;
    seen.add(full);
    let text: string;
    try {
      text = fs.readFileSync(full, 'utf8');
    } catch (e) {
      return `cannot read ${file}: ${(e as Error).message}`;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const u = /^units\s+(\S+)/.exec(line);
      if (u) {
        if (!(u[1] in LAMMPS_UNITS)) return `\`units ${u[1]}\` in ${file} is not a literal units style`;
        units = u[1];
      }
      const inc = /^include\s+(\S+)/.exec(line);
      if (inc) {
        if (inc[1].includes('$')) return `\`include ${inc[1]}\` in ${file} uses a variable`;
        const r = visit(inc[1], depth + 1);
        if (r) return r;
      }
    }
    return undefined;
  };
  const problem = visit(command[at + 1], 0);
  if (problem) return { reason: problem };
  return { units: units ?? 'lj' }; // LAMMPS's default style
}
