/** Random inference weights of the right shapes for a (sub-)network: export before training, latency-table models. */
import type { ResolvedLayer } from '../arch/layers.ts';
import type { ResolvedNetwork } from '../arch/resolve.ts';
import { Rng } from '../random.ts';
import { checkNetworkFitsMemory } from '../resource-limits.ts';
import type { FoldedWeights, LayerWeights } from '../weights/folded.ts';

function randomArray(length: number, scale: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (rng.next() * 2 - 1) * scale;
  return out;
}

/** He-uniform-like weights and small biases, deterministic from the seed. */
export function randomFoldedWeights(network: ResolvedNetwork, seed = 1): FoldedWeights {
  checkNetworkFitsMemory(network, { purpose: 'export' });
  const rng = new Rng(seed);
  const weights: FoldedWeights = new Map();
  for (const layer of network.layers) {
    const w = randomLayerWeights(layer, rng);
    if (w) weights.set(layer.id, w);
  }
  return weights;
}

/** Random weights of one layer (undefined for layers without weights or with M = 0). */
export function randomLayerWeights(layer: ResolvedLayer, rng: Rng): LayerWeights | undefined {
  const m = layer.filters;
  const c = layer.input.channels;
  const k = layer.kernel;
  if (m === 0) return undefined;
  switch (layer.op) {
    case 'conv':
      return { kind: 'conv', kernel: randomArray(k * k * c * m, Math.sqrt(6 / (k * k * c)), rng), bias: randomArray(m, 0.1, rng) };
    case 'dwconv':
      return { kind: 'dwconv', kernel: randomArray(k * k * m, Math.sqrt(6 / (k * k)), rng), bias: randomArray(m, 0.1, rng) };
    case 'se':
      return {
        kind: 'se',
        reduce: randomArray(c * m, Math.sqrt(6 / c), rng),
        reduceBias: randomArray(m, 0.1, rng),
        expand: randomArray(m * c, Math.sqrt(6 / m), rng),
        expandBias: randomArray(c, 0.1, rng),
      };
    case 'fc':
      return { kind: 'fc', kernel: randomArray(c * m, Math.sqrt(6 / c), rng), bias: randomArray(m, 0.1, rng) };
    case 'gap':
    case 'upsample':
      return undefined;
  }
}
