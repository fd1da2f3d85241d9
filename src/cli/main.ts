// westream command line. Only the command definitions load at start-up
// (commander and commands.ts); each command loads its implementation when it
// runs, and `run` loads a pipeline file's YAML/analysis stack only when it
// is given one (see test/cli-startup.test.ts).
import { Command, Option } from 'commander';

import { addAnalyzeCommand, addBenchCommand, addDoctorCommand, addImdOptions, addPcoordCommand, addStreamCommand, addTrajectoryOptions, positiveInt, seconds, slots } from './commands.js';

const VERSION = '0.1.0';

export function program(): Command {
  const prog = new Command('westream')
    .version(VERSION)
    .description('Stream MD frames from a running engine into analysis pipelines on the same node.')
    .addOption(
      new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
    )
    .showHelpAfterError()
    .configureHelp({ showGlobalOptions: true }) // --log-level shows in every command's help
    .addHelpText(
      'after',
      `
Examples:
  $ westream run -- python md.py                  # md.py streams with westream.Producer
  $ westream run --pipeline count -- ./engine     # only count frames
  $ westream help run`,
    );
  // The logger (pino) is loaded by the commands that run, not by --help or --version.
  const logger = async () => (await import('./logger.js')).createLogger(prog.opts().logLevel);

  const runCommand = prog
    .command('run')
    .summary('run an engine command with a private channel and stream its frames')
    .description(
      'Runs COMMAND in its own process group with WESTREAM_ADDRESS set to a private channel ' +
        '(a Unix socket in a 0700 directory, or an abstract socket), streams the frames its ' +
        'producer writes into the pipeline, forwards SIGINT/SIGTERM/SIGHUP to the group, and ' +
        'exits non-zero when the command fails (its status) or the stream is incomplete (3). ' +
        'Its last log line sums the run up: frames, seconds, and how busy the pipeline was.',
    )
    .argument('<command...>', 'engine command and its arguments (put them after --)')
    .option('--pipeline <name>', 'built-in pipeline "print" (a line per frame) or "count", or a pipeline file (.yaml: one pcoord row per frame; see docs/analysis.md)', 'print')
    .option('--address <address>', 'channel address: a socket path, or @name for an abstract socket')
    .option('--abstract', 'use an abstract socket (no file) instead of a private directory')
    .option('--nslots <n>', 'ring depth, 1 to 1024 (default: the producer\'s hint, else what fits in 4 MiB, 8 to 1024)', slots)
    .option('--expect-atoms <n>', 'refuse a producer that announces another atom count', positiveInt)
    .option('--kill-grace <seconds>', 'after SIGTERM, wait this long before SIGKILL', seconds, 5)
    .option('--west-cfg <file>', 'WESTPA segment: west.cfg with pcoord_len/pcoord_ndim (default: $WEST_SIM_ROOT/west.cfg)')
    .option('--pcoord-len <n>', 'WESTPA segment: expected pcoord rows, instead of west.cfg', positiveInt)
    .addOption(
      new Option('--via-stream', 'WESTPA segment: stream to this segment\'s `westream stream` process (stream_trajectory) and write the pcoords it sends back; the engine streams over the channel (not with --trajectory or --imd)').conflicts([
        'trajectory',
        'imd',
      ]),
    )
    .option('--stream-wait <seconds>', 'with --via-stream: wait this long for the stream side, then analyse locally', seconds, 10)
    .option('--start <structure>', 'WESTPA segment: pcoord row 0 from this structure (.pdb/.gro) when the engine does not stream its start point')
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
      const log = await logger();
      const status = opts.viaStream
        ? await (await import('./run-via-stream.js')).runViaStream(command, opts, log)
        : opts.imd
        ? await (await import('./run-imd.js')).runImd(command, opts, log)
        : opts.trajectory
          ? await (await import('./run-trajectory.js')).runTrajectory(command, opts, log)
          : await (await import('./run.js')).run(command, opts, log);
      prog.setOptionValue('exitCode', status);
    });
  addTrajectoryOptions(runCommand);
  addImdOptions(runCommand);

  addPcoordCommand(prog, async (opts) => {
    const { pcoord } = await import('./pcoord.js');
    prog.setOptionValue('exitCode', pcoord(opts, await logger()));
  });
  addStreamCommand(prog, async (opts) => {
    const { stream } = await import('./stream.js');
    prog.setOptionValue('exitCode', await stream(opts, await logger()));
  });

  addAnalyzeCommand(prog, async (trajectory, opts) => {
    const { analyze } = await import('./analyze.js');
    prog.setOptionValue('exitCode', await analyze(trajectory, opts, await logger()));
  });

  addBenchCommand(prog, async (opts) => {
    const { bench } = await import('./bench.js');
    prog.setOptionValue('exitCode', await bench(opts));
  });

  addDoctorCommand(prog, async (opts) => {
    const { doctor } = await import('./doctor.js');
    prog.setOptionValue('exitCode', await doctor({ ...opts, noPython: (opts.python as unknown) === false, python: opts.python || undefined }));
  });

  return prog;
}

/** Runs the CLI; resolves to the process exit status. */
export async function main(argv: string[]): Promise<number> {
  // `westream analyze … | head`: a reader that goes away is not a crash;
  // the lines it no longer wants are dropped. Any other failure to write
  // (a full disk) loses output: said once, and the exit status is 1.
  let stdoutError: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || stdoutError) return;
    stdoutError = err;
    process.stderr.write(`westream: cannot write to standard output (${err.code ?? err.message}): its lines are lost\n`);
  });
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
  const status = (prog.getOptionValue('exitCode') as number | undefined) ?? 0;
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve())); // flush, to see a late error
  return status === 0 && stdoutError ? 1 : status;
}
