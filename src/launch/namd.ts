// NAMD (`IMDon yes`, `IMDport`, `IMDwait yes`; IMD v3 with `IMDversion 3`).
//
// NAMD refuses port 0. When its port is busy it scans 1025-4095 and logs
// the port it got ("Info: Interactive MD listening on port N."), then
// "Info: INTERACTIVE MD AWAITING CONNECTION" while it waits (IMDwait yes).
//   - in a private network namespace westream leaves the configuration as it
//     is (any port works there);
//   - otherwise westream passes `--IMDport P` with P from binding port 0, and
//     connects to the port NAMD says it listens on; a NAMD that could not bind
//     at all is restarted with a fresh P.
// Written from NAMD's sources (GlobalMasterIMD); tested against a fake NAMD
// only: no NAMD build is redistributable.
import type { EngineAdapter, PortRequest, WatchEvent } from './adapter.js';

// GlobalMasterIMD: "Interactive MD listening on port N."; ComputeIMD (older): "INTERACTIVE MD BIND N".
const READY = /Interactive MD listening on port (\d+)|INTERACTIVE MD BIND\s+(\d+)/;

export const namd: EngineAdapter = {
  engine: 'namd',
  hostIsolation: 'probe',
  netnsPort: { kind: 'keep' },
  notListeningHint: 'the configuration needs `IMDon yes` and `IMDwait yes`',

  command(command: string[], port: PortRequest): string[] {
    if (port.kind !== 'fixed') return [...command];
    if (command.includes('--IMDport')) {
      throw new Error('--imd namd: the command sets --IMDport itself; westream must choose the port outside a private namespace (remove it)');
    }
    // NAMD reads `--keyword value` pairs from its command line, before the configuration file (the last argument).
    const args = [...command];
    const at = args.length > 1 ? args.length - 1 : args.length;
    args.splice(at, 0, '--IMDport', String(port.port));
    return args;
  },

  watch(line: string): WatchEvent | undefined {
    const m = READY.exec(line);
    if (m) return { kind: 'ready', port: Number(m[1] ?? m[2]) };
    if (/INTERACTIVE MD AWAITING CONNECTION/.test(line)) return { kind: 'awaiting' };
    if (/failed to find free port|Unable to find free port/.test(line)) return { kind: 'bind-failed', line: line.trim() };
    if (/^(FATAL ERROR|ERROR)/.test(line)) return { kind: 'error-line', line: line.trim() };
    return undefined;
  },
};
