// What the CLI loads at start-up. Every WESTPA segment starts a westream
// process, so `westream --version`, `--help` and a run with a built-in
// pipeline must not load the YAML parser, all of rxjs or the analysis stack;
// a pipeline file loads them when it is given. Checked by the modules a
// process loads (test/fixtures/trace-loads.mjs; a file of the bundled CLI
// stands for the modules dist/bundle/modules.json lists for it), not by
// timing: the start-up time itself is a benchmark (npm run bench:westpa).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { root, start, synthetic, tmpdir, westreamBin } from './support/helpers.js';

const tracer = path.join(root, 'test', 'fixtures', 'trace-loads.mjs');
const bundled: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(root, 'dist', 'bundle', 'modules.json'), 'utf8'));

/** Runs westream under the tracer; returns its exit and the loaded modules (relative to the project, or from node_modules/). */
async function traced(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out = path.join(tmpdir('westream-startup-'), 'loads.txt');
  const r = await start(process.execPath, ['--import', tracer, westreamBin, ...args], {
    WESTREAM_TRACE_LOADS: out,
    WESTREAM_LOG_LEVEL: 'info',
    ...env,
  }).exit;
  const loads = fs
    .readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.replace(/^(esm|cjs) /, '').replace(/^file:\/\//, ''))
    .map((file) => {
      const nm = file.indexOf('/node_modules/'); // also where node_modules is a link
      if (nm >= 0) return file.slice(nm + 1);
      return file.startsWith(root + '/') ? file.slice(root.length + 1) : file;
    })
    .flatMap((file) => (file.startsWith('dist/bundle/') && file.endsWith('.cjs') ? (bundled[file.slice('dist/bundle/'.length)] ?? [file]) : [file]));
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { ...r, loads };
}

// rxjs's operators other than map (a plain run needs Observable and map, which its OperatorSubscriber helps).
const rxjsOperators = /^node_modules\/rxjs\/dist\/[^/]+\/internal\/operators\/(?!(map|OperatorSubscriber)\.js$)/;
const heavy = [rxjsOperators, /^node_modules\/yaml\//, /^dist\/(pipeline|analysis|topology|westpa|launch)\//, /^dist\/sources\/(trajectory\.js|follow\.js|imd\/)/];

function expectNone(loads: string[], patterns: RegExp[]) {
  expect(loads.filter((f) => patterns.some((p) => p.test(f)))).toEqual([]);
}

describe('CLI start-up', () => {
  it('the tracer sees ES modules, CommonJS packages and the native addon', async () => {
    const r = await traced(['run', '--pipeline', 'count', '--', synthetic, '--atoms', '1', '--frames', '1']);
    expect(r.code).toBe(0);
    expect(r.loads).toContain('dist/cli/main.js');
    expect(r.loads).toContain('node_modules/commander/index.js');
    expect(r.loads).toContain('node_modules/pino/pino.js');
    expect(r.loads.filter((f) => f.endsWith('.node'))).toHaveLength(1); // build/Release/westream.node or $WESTREAM_ADDON
    // A plain run needs rxjs's Observable and map, nothing more of it.
    expect(r.loads).toContain('node_modules/rxjs/dist/esm/internal/Observable.js');
    expectNone(r.loads, heavy);
  });

  it('`westream --version` loads commander and the command definitions only', async () => {
    const r = await traced(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('0.1.0');
    expect(r.loads).toContain('node_modules/commander/index.js');
    expectNone(r.loads, [/^node_modules\/(?!commander\/)/, /\.node$/, /^dist\/(?!cli\/(main|commands|pipelines)\.js$|sources\/trajectory-formats\.js$)/]);
  });

  it('`westream <command> --help` loads no command implementation', async () => {
    for (const cmd of ['run', 'analyze', 'pcoord', 'stream', 'doctor', 'bench']) {
      const r = await traced([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples/);
      expectNone(r.loads, [/^node_modules\/(?!commander\/)/, /\.node$/, /^dist\/cli\/(run|analyze|pcoord|stream|doctor|bench|logger)/, /^dist\/(doctor|bench)\//]);
    }
  });

  it('`westream run -- true` with a WESTPA environment but no pipeline file loads no pipeline stack', async () => {
    const dir = tmpdir('westream-startup-');
    const r = await traced(['run', '--', 'true'], { WEST_PCOORD_RETURN: path.join(dir, 'pcoord.txt'), WEST_SIM_ROOT: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/WEST_PCOORD_RETURN is set but --pipeline \\"print\\" is not a pipeline file/);
    expect(r.stderr).toMatch(/true exited \(exit code 0\) without connecting to the channel/);
    expectNone(r.loads, heavy);
  });

  it('a pipeline file loads the YAML parser and the pipeline stack when it is given', async () => {
    const dir = tmpdir('westream-startup-');
    const yaml = path.join(dir, 'pcoord.yaml');
    fs.writeFileSync(yaml, 'no_such_key: 1\n');
    const r = await traced(['run', '--pipeline', yaml, '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.loads).toContain('dist/pipeline/load.js');
    expect(r.loads.some((f) => f.startsWith('node_modules/yaml/'))).toBe(true);
    // Inside a WESTPA segment, the segment's output as well.
    const seg = await traced(['run', '--pipeline', yaml, '--', 'true'], { WEST_PCOORD_RETURN: path.join(dir, 'pcoord.txt'), WEST_SIM_ROOT: dir });
    expect(seg.code).toBe(2);
    expect(seg.loads).toContain('dist/cli/segment-output.js');
  });
});
