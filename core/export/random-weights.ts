/** Random inference weights of the right shapes for a (sub-)network: export before training, latency-table models. */
import type { ResolvedNetwork } from '../arch/resolve.ts';
import { Rng } from '../random.ts';
import type { FoldedWeights } from '../weights/folded.ts';

function randomArray(length: number, scale: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (rng.next() * 2 - 1) * scale;
  return out;
}

/** He-uniform-like weights and small biases, deterministic from the seed. */
export function randomFoldedWeights(network: ResolvedNetwork, seed = 1): FoldedWeights {
  const rng = new Rng(seed);
  const weights: FoldedWeights = new Map();
  for (const layer of network.layers) {
    const m = layer.filters;
    const c = layer.input.channels;
    const k = layer.kernel;
    if (m === 0) continue;
    switch (layer.op) {
      case 'conv':
        weights.set(layer.id, {
          kind: 'conv',
          kernel: randomArray(k * k * c * m, Math.sqrt(6 / (k * k * c)), rng),
          bias: randomArray(m, 0.1, rng),
        });
        break;
      case 'dwconv':
        weights.set(layer.id, { kind: 'dwconv', kernel: randomArray(k * k * m, Math.sqrt(6 / (k * k)), rng), bias: randomArray(m, 0.1, rng) });
        break;
      case 'se':
        weights.set(layer.id, {
          kind: 'se',
          reduce: randomArray(c * m, Math.sqrt(6 / c), rng),
          reduceBias: randomArray(m, 0.1, rng),
          expand: randomArray(m * c, Math.sqrt(6 / m), rng),
          expandBias: randomArray(c, 0.1, rng),
        });
        break;
      case 'fc':
        weights.set(layer.id, { kind: 'fc', kernel: randomArray(c * m, Math.sqrt(6 / c), rng), bias: randomArray(m, 0.1, rng) });
        break;
      case 'gap':
      case 'upsample':
        break;
    }
  }
  return weights;
}
