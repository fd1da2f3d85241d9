// `westream bench`: what this node can stream, and whether a pipeline keeps
// up, each beside a peer measured in the same run (see src/bench).
import { memcpyRate, timeStream, type BenchPipeline, type StreamTiming } from '../bench/stream.js';
import { pipelineFor } from './pipelines.js';

export interface BenchOptions {
  atoms?: number;
  frames: number;
  pipeline?: string;
  json?: boolean;
}

const DEFAULT_ATOMS = 25_000;

export async function bench(options: BenchOptions): Promise<number> {
  const fail = (message: string, code: number) => (process.stderr.write(`westream bench: ${message}\n`), code);
  let natoms: number;
  let pipeline: BenchPipeline | undefined;
  try {
    ({ natoms, pipeline } = await prepare(options));
  } catch (e) {
    return fail((e as Error).message, 2); // a bad pipeline or a count that disagrees with it
  }
  try {
    return await measure(options, natoms, pipeline);
  } catch (e) {
    return fail((e as Error).message, 1);
  }
}

/** The pipeline, and the atom count: a pipeline file's topology sets it. */
async function prepare(options: BenchOptions): Promise<{ natoms: number; pipeline?: BenchPipeline }> {
  let natoms = options.atoms;
  if (options.pipeline && /\.ya?ml$/i.test(options.pipeline)) {
    const { loadPipeline } = await import('../pipeline/load.js');
    const topology = loadPipeline(options.pipeline).topology;
    if (natoms !== undefined && natoms !== topology.natoms) {
      throw new Error(`${options.pipeline}'s topology has ${topology.natoms} atoms, --atoms says ${natoms}: leave --atoms out, or make them agree`);
    }
    natoms = topology.natoms;
  }
  return { natoms: natoms ?? DEFAULT_ATOMS, pipeline: options.pipeline ? await pipelineFor(options.pipeline) : undefined };
}

async function measure(options: BenchOptions, natoms: number, pipeline?: BenchPipeline): Promise<number> {
  const say = (line: string) => options.json || process.stdout.write(line + '\n');
  say(`streaming ${options.frames} frames of ${natoms} atoms from westream-synthetic…`);
  const channel = await timeStream(natoms, options.frames);
  const memcpy = memcpyRate(natoms, options.frames);
  say(`channel   ${rate(channel)} into this process, first to last frame (zero-copy: each frame read in place)`);
  say(
    `memcpy    ${memcpy.toFixed(2)} GB/s copying the same frames here → the channel delivers at ` +
      `${(channel.gigabytesPerSecond / memcpy).toFixed(2)}× memcpy bandwidth (its ceiling: the producer copies each frame into the ring)`,
  );
  let withPipeline: StreamTiming | undefined;
  if (pipeline) {
    say(`again through the pipeline ${options.pipeline}…`);
    withPipeline = await timeStream(natoms, options.frames, pipeline);
    const ms = withPipeline.pipelineMs!;
    say(
      `pipeline  ${duration(ms.median)} per frame (median; p95 ${duration(ms.p95)}, max ${duration(ms.max)}) → keeps up with an engine ` +
        `writing up to ${Math.floor(1000 / ms.median).toLocaleString('en-US')} frames/s; streamed ${rate(withPipeline)}`,
    );
  }
  if (options.json) {
    const result = {
      natoms,
      frames: options.frames,
      channel,
      memcpyGigabytesPerSecond: memcpy,
      channelOverMemcpy: channel.gigabytesPerSecond / memcpy,
      pipeline: withPipeline && { name: options.pipeline, ...withPipeline },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  }
  return 0;
}

function duration(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

function rate(t: StreamTiming): string {
  return `${Math.round(t.framesPerSecond).toLocaleString('en-US')} frames/s, ${t.gigabytesPerSecond.toFixed(2)} GB/s`;
}
