// What the launcher needs to know about one engine: how to ask it for a
// port, how it says that it listens, and how it says that it cannot.

/** Port to request from the engine for one attempt. */
export type PortRequest =
  /** Let the engine pick (GROMACS -imdport 0) and read the port from its output. */
  | { kind: 'zero' }
  /** A number westream chose (probe-and-retry, or the fixed port in a private namespace). */
  | { kind: 'fixed'; port: number }
  /** Leave the engine's configuration alone (its own port, in a private namespace). */
  | { kind: 'keep' };

export type WatchEvent =
  /** The engine listens on this port: connect now. */
  | { kind: 'ready'; port: number }
  /** The engine waits for a client but did not say on which port. */
  | { kind: 'awaiting' }
  /** The engine could not bind its port (another process has it). */
  | { kind: 'bind-failed'; line: string }
  /** The engine runs without IMD: streaming cannot work; stop it. */
  | { kind: 'no-imd'; message: string }
  /** An error line worth quoting if the engine then fails. */
  | { kind: 'error-line'; line: string };

export type Isolation = 'netns' | 'port0' | 'probe';

export interface EngineAdapter {
  readonly engine: 'gromacs' | 'lammps' | 'namd';
  /** How this engine avoids port races in the host network namespace. */
  readonly hostIsolation: 'port0' | 'probe';
  /** What to request inside a private network namespace. */
  readonly netnsPort: PortRequest;
  /** The command line of one attempt; throws a clear error for commands it cannot adapt. */
  command(command: string[], port: PortRequest, isolation: Isolation): string[];
  /** Classifies one line of the engine's output. */
  watch(line: string): WatchEvent | undefined;
  /** Added to "exited before it listened" errors. */
  readonly notListeningHint: string;
}

/** Index of `-name`/`--name` (any of `names`) in args, or -1. */
export function findFlag(args: string[], names: string[]): number {
  return args.findIndex((a) => names.includes(a));
}
