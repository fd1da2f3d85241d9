// FNV-1a over a frame's 32-bit words, as westream-synthetic --checksums
// writes it: a consumer checks what crossed the channel bit for bit.
import type { Frame } from './frame.js';

export function fnv1a(h: number, a: Float32Array): number {
  const w = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i], 16777619) >>> 0;
  return h;
}

/** Positions, velocities, forces, then the box. */
export function frameChecksum(f: Frame): number {
  let h = 2166136261;
  h = fnv1a(h, f.positions);
  if (f.velocities) h = fnv1a(h, f.velocities);
  if (f.forces) h = fnv1a(h, f.forces);
  if (f.box) h = fnv1a(h, f.box);
  return h;
}
