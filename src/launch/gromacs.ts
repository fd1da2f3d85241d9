// GROMACS (`gmx mdrun`, IMD v2; v3 forks): the engine picks its own port.
//
// `-imdport 0` (≤ 0) makes mdrun bind an ephemeral port and print "IMD:
// Listening for IMD connection on port N." once it listens; IMD is switched
// on only by one of -imdwait / -imdterm / -imdpull. westream adds
//   -imdport 0   no port to choose, so no race, in any namespace,
//   -imdwait     the run waits for westream (no frame is missed),
//   -imdterm     westream can end the run with IMD KILL.
import type { EngineAdapter, PortRequest, WatchEvent } from './adapter.js';

const READY = /IMD: Listening for IMD connection on port (\d+)/;
const BIND_FAILED = /IMD: binding socket to port \d+ failed/;
const NO_IMD: [RegExp, string][] = [
  [/This run will not accept incoming IMD connections/, 'mdrun did not enable IMD'],
  [/is not supported for Interactive Molecular Dynamics/, 'the integrator does not support IMD'],
  [/Cannot use IMD for multiple simulations or replica exchange/, 'IMD cannot be used with -multidir / replica exchange'],
  // The MD loop began and IMD never set up: the .tpr has no IMD group.
  [/^starting mdrun '/, 'the .tpr has no IMD group: set `IMD-group = System` (or another index group) in the .mdp and run grompp again'],
];

function isMdrun(arg: string): boolean {
  const base = arg.split('/').pop() ?? arg;
  return base === 'mdrun' || /^mdrun(_\w+)?$/.test(base);
}

export const gromacs: EngineAdapter = {
  engine: 'gromacs',
  hostIsolation: 'port0',
  netnsPort: { kind: 'zero' },
  notListeningHint: 'the .tpr needs an IMD group (IMD-group in the .mdp)',

  command(command: string[], port: PortRequest): string[] {
    const at = command.findIndex(isMdrun);
    if (at < 0) {
      throw new Error(
        `--imd gromacs: cannot find \`mdrun\` in the command (${command.join(' ')}); ` +
          'give the mdrun command itself, e.g. `gmx mdrun -s topol.tpr` (westream adds -imdport 0 -imdwait -imdterm)',
      );
    }
    const args = [...command];
    for (let i = at + 1; i < args.length; i++) {
      if (args[i] === '-imdport') {
        args.splice(i, 2); // replaced below: a chosen port would bring the race back
        i--;
      }
    }
    const value = port.kind === 'fixed' ? String(port.port) : '0';
    args.push('-imdport', value);
    if (!args.includes('-imdwait')) args.push('-imdwait');
    if (!args.includes('-imdterm')) args.push('-imdterm');
    return args;
  },

  watch(line: string): WatchEvent | undefined {
    const m = READY.exec(line);
    if (m) return { kind: 'ready', port: Number(m[1]) };
    if (BIND_FAILED.test(line)) return { kind: 'bind-failed', line: line.trim() };
    for (const [re, message] of NO_IMD) if (re.test(line)) return { kind: 'no-imd', message: `GROMACS runs without IMD: ${message}` };
    if (/^(Fatal error|Error in user input)/.test(line)) return { kind: 'error-line', line: line.trim() };
    return undefined;
  },
};

/** The -imdport values the user gave that westream replaced (for a warning). */
export function userImdPorts(command: string[]): string[] {
  const out: string[] = [];
  command.forEach((a, i) => {
    if (a === '-imdport' && command[i + 1] !== undefined && Number(command[i + 1]) > 0) out.push(command[i + 1]);
  });
  return out;
}
