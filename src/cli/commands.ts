// The command line's surface: commands, options and help texts, without
// their implementations. main.ts registers these and loads each command's
// module only when it runs, so `westream --version`, `--help` or a plain
// `westream run` do not load the YAML parser, all of rxjs or the analysis
// stack (every WESTPA segment pays start-up time for each module loaded).
// Only light modules may be imported here (test/cli-startup.test.ts).
import { type Command, InvalidArgumentError, Option } from 'commander';

import { trajectoryFormats } from '../sources/trajectory-formats.js';
import type { AnalyzeOptions } from './analyze.js';
import type { BenchOptions } from './bench.js';
import type { DoctorCliOptions } from './doctor.js';
import type { PcoordOptions } from './pcoord.js';
import { builtinPipelines } from './pipelines.js';
import type { StreamOptions } from './stream.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

/** An atom count the channel carries: at most 2^26 (WESTREAM_MAX_ATOMS). */
export function atomCount(value: string): number {
  const n = positiveInt(value);
  if (n > 1 << 26) throw new InvalidArgumentError(`expected at most 67108864 atoms (the channel's limit), got ${n}`);
  return n;
}

/** Frames for a rate: from the first to the last, so at least 2. */
function framesToTime(value: string): number {
  const n = positiveInt(value);
  if (n < 2) throw new InvalidArgumentError(`expected at least 2 frames (rates count from the first frame to the last), got ${n}`);
  return n;
}

/** A ring depth: the channel's limit is 1024 slots (WESTREAM_MAX_SLOTS). */
export function slots(value: string): number {
  const n = positiveInt(value);
  if (n > 1024) throw new InvalidArgumentError(`expected at most 1024 slots, got ${n}`);
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds >= 0, got "${value}"`);
  return n;
}

/** Adds the IMD options to `westream run`. */
export function addImdOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--imd <engine>', 'stream over IMD from an engine westream launches without port races').choices(['gromacs', 'lammps', 'namd']),
    )
    .addOption(
      new Option(
        '--imd-isolation <mode>',
        'with --imd: netns (private network namespace, no port outside), port0 (GROMACS picks), probe (LAMMPS/NAMD: bind-probe-and-retry); auto = netns where possible',
      )
        .choices(['auto', 'netns', 'port0', 'probe'])
        .default('auto'),
    )
    .option('--imd-every <steps>', 'with --imd: ask the engine for a frame every N steps (IMD TRATE)', positiveInt)
    .option('--imd-attempts <n>', 'with --imd and probe isolation: start the engine at most N times', positiveInt, 5)
    .option('--imd-port-variable <name>', 'with --imd lammps: the index variable `fix imd` takes its port from', 'imd_port')
    .addOption(
      new Option('--imd-flow-control <how>', 'with --imd: hold a slow pipeline\'s engine back by TCP back-pressure or IMD PAUSE/RESUME (default: pause for NAMD, tcp otherwise)').choices([
        'tcp',
        'pause',
      ]),
    );
}

/** Adds the trajectory options to `westream run`. */
export function addTrajectoryOptions(cmd: Command): Command {
  return cmd
    .option('--trajectory <file>', 'stream the trajectory the engine writes to FILE (an unmodified engine: XTC, TRR, DCD, AMBER NetCDF, LAMMPS dump)')
    .option('--keep-trajectory <path>', 'with --trajectory: also keep a copy of the trajectory at PATH')
    .addOption(new Option('--transport <kind>', 'with --trajectory: a growing file on tmpfs, or a named pipe').choices(['tmpfs', 'fifo']).default('tmpfs'))
    .addOption(new Option('--format <format>', 'with --trajectory: the format (default: from the extension)').choices([...trajectoryFormats]))
    .option('--tmpfs-dir <dir>', 'with --trajectory: where the private directory goes (default /dev/shm)')
    .option('--lammps-units <style>', 'LAMMPS units style (real, metal, ...) of a dump without ITEM: UNITS (--trajectory) or of an IMD stream (--imd lammps; default: read from the input script)');
}

/** Registers `westream pcoord` on the program. */
export function addPcoordCommand(prog: Command, action: (options: PcoordOptions) => Promise<void>): Command {
  return prog
    .command('pcoord')
    .summary('compute the pcoord of one structure (WESTPA get_pcoord)')
    .description(
      'Runs the pipeline file on the first model of a PDB or GRO structure and writes one row of ' +
        'pcoord values: to --out, else to $WEST_PCOORD_RETURN (as WESTPA\'s get_pcoord executable), else to stdout.',
    )
    .requiredOption('--pipeline <file>', 'declarative pipeline (YAML), the same file the segments use')
    .requiredOption('--structure <file>', 'structure with coordinates (.pdb or .gro)')
    .option('--out <file>', 'write here ("-" for stdout) instead of $WEST_PCOORD_RETURN')
    .option('--west-cfg <file>', 'check pcoord_ndim against this west.cfg (default: $WEST_SIM_ROOT/west.cfg)')
    .addHelpText(
      'after',
      `
Examples:
  $ westream pcoord --pipeline pcoord.yaml --structure bstates/bound/bstate.pdb
  $ westream pcoord --pipeline pcoord.yaml --structure "$WEST_STRUCT_DATA_REF/bstate.pdb"   # in get_pcoord.sh`,
    )
    .action(action);
}

/** Registers `westream stream` on the program. */
export function addStreamCommand(prog: Command, action: (options: StreamOptions) => Promise<void>): Command {
  return prog
    .command('stream')
    .summary("WESTPA's stream_trajectory executable: analyse a segment's frames for its propagator")
    .description(
      'Run by WESTPA (west.executable.stream_trajectory, PR #495) beside each segment. Listens on a ' +
        'channel named after $WEST_SIM_ROOT, $WEST_CURRENT_ITER and the segment ($WEST_CURRENT_SEG_ID, or ' +
        '$WEST_SEG_PORT - 10000), runs the pipeline on the frames the engine streams there, and sends the ' +
        'rows to the propagator (`westream run --via-stream`), which writes WEST_PCOORD_RETURN. Both sides ' +
        'report within seconds when they landed on different nodes.',
    )
    .requiredOption('--pipeline <file>', 'declarative pipeline (YAML)')
    .option('--connect-timeout <seconds>', 'give up when no engine connects within this time', (v) => Number(v), 600)
    .addHelpText(
      'after',
      `
Examples (west.cfg):
  west:
    executable:
      stream_trajectory:
        enabled: true
        executable: $WEST_SIM_ROOT/westpa_scripts/stream.sh   # exec westream stream --pipeline $WEST_SIM_ROOT/pcoord.yaml
  # and in runseg.sh:
  #   exec westream run --via-stream --pipeline $WEST_SIM_ROOT/pcoord.yaml -- python segment.py ...`,
    )
    .action(action);
}

/** Registers `westream analyze` on the program. */
export function addAnalyzeCommand(prog: Command, action: (trajectory: string, options: AnalyzeOptions) => Promise<void>): Command {
  return prog
    .command('analyze')
    .summary('run a pipeline over a finished trajectory file')
    .description(
      'Decodes TRAJ (XTC, TRR, DCD, AMBER NetCDF or LAMMPS dump; format from its first bytes or ' +
        'extension) and runs the pipeline over its frames, as `westream run` would while streaming. ' +
        'Exits 1 with a message naming file, frame and byte offset when the file is unreadable.',
    )
    .argument('<trajectory>', 'trajectory file (or named pipe)')
    .option('--topology <file>', 'refuse a trajectory whose atom count differs from this topology\'s (PDB, GRO, prmtop, PSF; a pipeline file names its own)')
    .option('--pipeline <name>', `built-in pipeline ${builtinPipelines.map((p) => `"${p}"`).join(' or ')}, or a pipeline file (.yaml: one pcoord row per frame; see docs/analysis.md)`, 'print')
    .addOption(new Option('--format <format>', 'trajectory format (default: detected)').choices([...trajectoryFormats]))
    .option('--lammps-units <style>', 'units of a LAMMPS dump without ITEM: UNITS (real, metal, ...)')
    .option('--follow', 'follow a growing file until interrupted')
    .option('--progress <seconds>', 'a progress line (frames, % of the file, rate) this often on a long file; 0: none', seconds, 5)
    .addHelpText(
      'after',
      `
Examples:
  $ westream analyze md.xtc --pipeline count
  $ westream analyze md.xtc --pipeline pcoord.yaml            # the rows \`westream run\` would have written
  $ westream analyze dump.lammpstrj --lammps-units real`,
    )
    .action(action);
}

/** Registers `westream bench` on the program. */
export function addBenchCommand(prog: Command, action: (options: BenchOptions) => Promise<void>): Command {
  return prog
    .command('bench')
    .summary('measure how fast this node streams frames into westream, and what a pipeline costs per frame')
    .description(
      'Streams synthetic frames from westream-synthetic (the C producer) through a fresh shared-memory channel into ' +
        'this process and prints frames/s and GB/s, beside memcpy of the same frames measured in the same run. With ' +
        '--pipeline, streams them again through that pipeline and prints its time per frame: the frame rate it keeps ' +
        'up with. A pipeline file sets the atom count from its topology (the frames are synthetic, so this times the ' +
        'computation, not your system\'s values).',
    )
    .option('--atoms <n>', `atoms per frame (default: the pipeline's topology, else 25000)`, atomCount)
    .option('--frames <n>', 'frames to stream (at least 2)', framesToTime, 2000)
    .option('--pipeline <name>', `also time this pipeline: ${builtinPipelines.join(', ')}, or a .yaml file`)
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ westream bench                                   # 2000 frames of 25000 atoms
  $ westream bench --atoms 100000 --frames 500
  $ westream bench --pipeline pcoord.yaml            # will this pcoord keep up with the engine?
  $ westream bench --pipeline pcoord.yaml --json | jq .pipeline.pipelineMs`,
    )
    .action(action);
}

/** Registers `westream doctor` on the program. */
export function addDoctorCommand(prog: Command, action: (options: DoctorCliOptions) => Promise<void>): Command {
  return prog
    .command('doctor')
    .summary('check that westream works on this node, and what it can stream from')
    .description(
      'Checks what westream needs here and prints one line per check: Node and the native addon; a live ' +
        'round trip through the shared-memory channel (path and abstract sockets), every frame compared bit for bit; ' +
        'tmpfs and named pipes for unmodified engines; network namespaces for IMD; the Python that engine scripts use, ' +
        'with westream\'s producer package sending frames over a real channel, OpenMM and its platforms, WESTPA; ' +
        'the engines on PATH; and west.cfg, read as `westream run` reads it. Exits 1 when a check that westream ' +
        'needs fails (FAIL), 0 otherwise.',
    )
    .option('--python <exe>', 'the Python your engine scripts run under (default: $WESTREAM_PYTHON, else python3 on PATH)')
    .option('--no-python', 'skip the Python checks')
    .option('--west-cfg <file>', 'check this west.cfg (default: $WEST_SIM_ROOT/west.cfg, else ./west.cfg)')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ westream doctor                                  # on a compute node, before the first w_run
  $ westream doctor --python "$(which python)"       # the Python of the active environment
  $ cd my-simulation && westream doctor --no-python  # also reads ./west.cfg
  $ westream doctor --json | jq '.checks[] | select(.status == "fail")'

WESTREAM_DOCTOR_TIMEOUT=SECONDS bounds the Python checks (default 60).`,
    )
    .action(action);
}
