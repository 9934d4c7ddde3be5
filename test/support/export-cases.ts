/** What the export tests (TFLite in LiteRT, ONNX in ONNX Runtime) share: inputs and sub-networks. */
import { randomSubnet, searchSpace, type NetworkSpec, type SubnetConfig } from '../../core/arch/index.ts';
import { Rng } from '../../core/random.ts';

/** `length` values uniform in [−1, 1). */
export function randomValues(length: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length }, () => rng.next() * 2 - 1);
}

/** A sub-network with a removed block, a bottleneck and 3×3 kernels cut from larger ones. */
export function structuredSubnet(spec: NetworkSpec, rng: Rng): SubnetConfig {
  const space = searchSpace(spec);
  const config = randomSubnet(space, rng);
  const blocks = [...new Set(space.layers.filter((l) => l.role === 'project').map((l) => l.unit))];
  const removed = blocks[1 + rng.int(Math.max(1, blocks.length - 2))];
  space.layers.forEach((layer, i) => {
    if (layer.unit === removed) config.levels[i] = layer.minLevel;
    if (layer.fullKernel >= 5 && rng.next() < 0.5) config.kernels[i] = 3;
    if (layer.role === 'project' && layer.limit < layer.fullFilters && rng.next() < 0.5) config.levels[i] = 1;
  });
  return config;
}
