/** The classifier's dropout: which layer has it, and the per-step mask (a function of seed and step, for exact resume). */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec } from '../../arch/index.ts';
import { resolveNetwork } from '../../arch/index.ts';
import { Rng, mixSeed } from '../../random.ts';

export interface DropoutLayer {
  rate: number;
  channels: number;
}

/** The fc layer's dropout (undefined when the network has none). */
export function classifierDropout(spec: NetworkSpec): DropoutLayer | undefined {
  const fc = resolveNetwork(spec).layers.find((l) => l.op === 'fc' && l.dropout > 0);
  return fc ? { rate: fc.dropout, channels: fc.input.channels } : undefined;
}

/** Inverted dropout mask [n, channels] for `step`; `salt` keeps the trainings' random streams apart. */
export function dropoutMask(seed: number, step: number, n: number, dropout: DropoutLayer, salt: number): tf.Tensor2D {
  return tf.tensor2d(dropoutMaskValues(seed, step, n, dropout, salt), [n, dropout.channels]);
}

/** The values of dropoutMask, row-major [n, channels]. */
export function dropoutMaskValues(seed: number, step: number, n: number, dropout: DropoutLayer, salt: number): Float32Array {
  const rng = new Rng(mixSeed(seed, step, salt));
  const data = new Float32Array(n * dropout.channels);
  const keep = 1 / (1 - dropout.rate);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < dropout.rate ? 0 : keep;
  return data;
}
