// The Python producer and the OpenMM reporter, each in its own process,
// streaming into fromChannel; compared bit for bit with what they recorded.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { fromChannel } from '../src/index.js';
import { collect, fnv1a, root, start, tmpdir, venvPython } from './support/helpers.js';

function requireVenv(): string {
  if (!fs.existsSync(venvPython)) throw new Error(`${venvPython} is missing: run scripts/setup.sh (npm test does) first`);
  return venvPython;
}

const fixture = (name: string) => path.join(root, 'test', 'fixtures', name);

describe('Python producer', () => {
  it('streams frames that Node receives bit-exactly (positions, velocities, forces, box)', async () => {
    const out = path.join(tmpdir('westream-py-'), 'sent.bin');
    const natoms = 777;
    const nframes = 40;
    const ch = fromChannel({ nslots: 4 });
    const producer = start(requireVenv(), [fixture('python_producer.py'), out, String(natoms), String(nframes), '--velocities', '--forces'], {
      WESTREAM_ADDRESS: ch.address,
    });
    const got = await collect(ch);
    const exit = await producer.exit;
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    const sent = new Float32Array(new Uint8Array(fs.readFileSync(out)).buffer);
    const perFrame = natoms * 9 + 6;
    expect(sent.length).toBe(perFrame * nframes);
    const want = Array.from({ length: nframes }, (_, k) => fnv1a(2166136261, sent.subarray(k * perFrame, (k + 1) * perFrame)));
    expect(got.map((g) => g.checksum)).toEqual(want);
    expect(got.map((g) => g.step)).toEqual(Array.from({ length: nframes }, (_, k) => k * 100));
    expect(got[3].time).toBeCloseTo(0.6, 12);
  });

  it('a Python producer that raises leaves an incomplete stream, reported as such', async () => {
    const ch = fromChannel();
    start(requireVenv(), ['-c', 'import westream, numpy as np\nwith westream.Producer(2) as p:\n    p.send(np.zeros((2, 3)))\n    raise SystemExit(5)'], {
      WESTREAM_ADDRESS: ch.address,
    });
    await expect(collect(ch)).rejects.toThrow(/exited after frame 0 \(1 frames\) without ending the stream/);
  });
});

describe('OpenMM StreamReporter', () => {
  it('every frame equals OpenMM\'s own positions for that step, in Å, float32-exact', async () => {
    const out = path.join(tmpdir('westream-omm-'), 'openmm.bin');
    const ch = fromChannel();
    const frames: { step?: number; positions: Float32Array; box?: Float32Array }[] = [];
    const producer = start(requireVenv(), [fixture('openmm_record.py'), out, '100', '10'], { WESTREAM_ADDRESS: ch.address });
    await new Promise<void>((resolve, reject) =>
      ch.subscribe({ next: (f) => frames.push(f.retain()), error: reject, complete: resolve }),
    );
    const exit = await producer.exit;
    expect(exit.code, exit.stderr).toBe(0);
    expect(frames.length).toBe(10);
    const rec = fs.readFileSync(out);
    const natoms = frames[0].positions.length / 3;
    const record = 8 + natoms * 12;
    expect(rec.length).toBe(record * 10);
    for (const [k, f] of frames.entries()) {
      const step = Number(rec.readBigInt64LE(k * record));
      const want = new Float32Array(new Uint8Array(rec.subarray(k * record + 8, (k + 1) * record)).buffer);
      expect(f.step).toBe(step);
      expect(Buffer.from(f.positions.buffer, f.positions.byteOffset, f.positions.byteLength).equals(Buffer.from(want.buffer))).toBe(true);
      expect(f.box![0]).toBeCloseTo(20.0, 4); // 2 nm box in Å
    }
    expect(frames.map((f) => f.step)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });
});
