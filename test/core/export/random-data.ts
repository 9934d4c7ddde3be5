import type { Rng } from '../../../core/random.ts';

/** Uniform values in [-scale, scale) from a seeded generator. */
export function randomArray(rng: Rng, length: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (rng.next() * 2 - 1) * scale;
  return out;
}
