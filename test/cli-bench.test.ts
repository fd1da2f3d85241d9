// `westream bench`: the channel beside memcpy, and a pipeline's time per frame.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { start, tmpdir, westreamBin } from './support/helpers.js';

const bench = (args: string[], cwd?: string) => start(process.execPath, [westreamBin, 'bench', ...args], {}, cwd).exit;

/** A pipeline over a 3-atom topology: the distance from atom 0 to atom 2. */
function pipelineDir(): string {
  const dir = tmpdir('westream-bench-');
  const atom = (i: number, x: number) =>
    `ATOM  ${String(i + 1).padStart(5)}  C   MOL A   1    ${x.toFixed(3).padStart(8)}   0.000   0.000  1.00  0.00           C`;
  fs.writeFileSync(path.join(dir, 'three.pdb'), [0, 1, 2].map((i) => atom(i, 1.5 * i)).join('\n') + '\nEND\n');
  fs.writeFileSync(path.join(dir, 'pcoord.yaml'), 'topology: three.pdb\npcoord:\n  - distance: {a: index 0, b: index 2}\n');
  return dir;
}

describe('westream bench', () => {
  it('streams the frames and reports rates that agree with each other, beside memcpy', async () => {
    const r = await bench(['--atoms', '2000', '--frames', '300', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ natoms: 2000, frames: 300, channel: { natoms: 2000, frames: 300 } });
    expect(out.channel.seconds).toBeGreaterThan(0);
    expect(out.channel.framesPerSecond).toBeCloseTo(299 / out.channel.seconds, 6);
    expect(out.channel.gigabytesPerSecond).toBeCloseTo((out.channel.framesPerSecond * 2000 * 12) / 1e9, 9);
    expect(out.memcpyGigabytesPerSecond).toBeGreaterThan(0);
    expect(out.channelOverMemcpy).toBeCloseTo(out.channel.gigabytesPerSecond / out.memcpyGigabytesPerSecond, 9);
    expect(out.pipeline).toBeUndefined();
  });

  it('--pipeline FILE.yaml: the topology sets the atom count, and every frame is timed through the pipeline', async () => {
    const dir = pipelineDir();
    const r = await bench(['--pipeline', 'pcoord.yaml', '--frames', '200'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^streaming 200 frames of 3 atoms from westream-synthetic/m);
    expect(r.stdout).toMatch(/^channel +[\d,]+ frames\/s, [\d.]+ GB\/s into this process/m);
    expect(r.stdout).toMatch(/^memcpy +[\d.]+ GB\/s copying the same frames here → the channel delivers at [\d.]+× memcpy bandwidth/m);
    expect(r.stdout).toMatch(/^pipeline +[\d.]+ (µs|ms) per frame \(median; p95 [\d.]+ (µs|ms), max [\d.]+ (µs|ms)\) → keeps up with an engine writing up to [\d,]+ frames\/s/m);
    const j = JSON.parse((await bench(['--pipeline', 'pcoord.yaml', '--frames', '200', '--json'], dir)).stdout);
    expect(j.natoms).toBe(3);
    const ms = j.pipeline.pipelineMs;
    expect(j.pipeline.name).toBe('pcoord.yaml');
    expect(ms.median).toBeGreaterThan(0);
    expect(ms.median).toBeLessThanOrEqual(ms.p95);
    expect(ms.p95).toBeLessThanOrEqual(ms.max);
  });

  it('refuses what cannot be measured: an --atoms the pipeline disagrees with, an unknown pipeline, a bad count', async () => {
    const dir = pipelineDir();
    const mismatch = await bench(['--pipeline', 'pcoord.yaml', '--atoms', '5'], dir);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain("pcoord.yaml's topology has 3 atoms, --atoms says 5");
    expect(mismatch.stdout).toBe('');
    const unknown = await bench(['--pipeline', 'nope', '--frames', '10']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('westream bench: unknown pipeline "nope": built-in pipelines are "print" and "count"\n');
    const missing = await bench(['--pipeline', 'missing.yaml'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('westream bench: missing.yaml: no such pipeline file\n');
    const huge = await bench(['--atoms', '70000000']);
    expect(huge.code).not.toBe(0);
    expect(huge.stderr).toContain("expected at most 67108864 atoms (the channel's limit), got 70000000");
    expect(huge.stdout).toBe('');
    const bad = await bench(['--frames', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected a positive integer, got "0"');
    const one = await bench(['--frames', '1']);
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('expected at least 2 frames (rates count from the first frame to the last), got 1');
  });
});
