// westream command line.
import { Command, InvalidArgumentError, Option } from 'commander';

import { createLogger } from './logger.js';
import { run } from './run.js';

const VERSION = '0.1.0';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds >= 0, got "${value}"`);
  return n;
}

export function program(): Command {
  const prog = new Command('westream')
    .version(VERSION)
    .description('Stream MD frames from a running engine into analysis pipelines on the same node.')
    .addOption(
      new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
    )
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ westream run -- python md.py                  # md.py streams with westream.Producer
  $ westream run --pipeline count -- ./engine     # only count frames
  $ westream help run`,
    );

  prog
    .command('run')
    .summary('run an engine command with a private channel and stream its frames')
    .description(
      'Runs COMMAND in its own process group with WESTREAM_ADDRESS set to a private channel\n' +
        '(a Unix socket in a 0700 directory, or an abstract socket), streams the frames its\n' +
        'producer writes into the pipeline, forwards SIGINT/SIGTERM/SIGHUP to the group, and\n' +
        'exits non-zero when the command fails (its status) or the stream is incomplete (3).',
    )
    .argument('<command...>', 'engine command and its arguments (put them after --)')
    .option('--pipeline <name>', 'built-in pipeline: "print" (a line per frame) or "count"', 'print')
    .option('--address <address>', 'channel address: a socket path, or @name for an abstract socket')
    .option('--abstract', 'use an abstract socket (no file) instead of a private directory')
    .option('--nslots <n>', 'ring depth (default: the producer\'s hint, else 8)', positiveInt)
    .option('--expect-atoms <n>', 'refuse a producer that announces another atom count', positiveInt)
    .option('--kill-grace <seconds>', 'after SIGTERM, wait this long before SIGKILL', seconds, 5)
    .addHelpText(
      'after',
      `
Examples:
  $ westream run -- python -c "import westream, numpy as np
  with westream.Producer(3) as p:
      p.send(np.zeros((3, 3)))"
  $ westream run --pipeline count --nslots 16 -- ./my_engine --steps 1000
  $ WESTREAM_LOG_LEVEL=debug westream run -- build/Release/westream-synthetic --atoms 100 --frames 5`,
    )
    .action(async (command: string[], opts) => {
      const log = createLogger(prog.opts().logLevel);
      prog.setOptionValue('exitCode', await run(command, opts, log));
    });

  return prog;
}

/** Runs the CLI; resolves to the process exit status. */
export async function main(argv: string[]): Promise<number> {
  const prog = program();
  prog.exitOverride();
  try {
    await prog.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    if (err.code === 'commander.help') return 0;
    if (typeof err.exitCode === 'number') return err.exitCode;
    throw e;
  }
  return (prog.getOptionValue('exitCode') as number | undefined) ?? 0;
}
