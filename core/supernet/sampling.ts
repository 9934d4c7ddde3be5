/**
 * Balanced width sampling for ordered dropout (paper Sec. 2.3: "for each layer, we sample each layer width almost the
 * same number of times in a forward-backward pass"). For a batch of N images and every searchable layer, each width
 * level from the layer's minLevel to the top appears floor(N/L) or ceil(N/L) times (L = number of levels), independently
 * permuted per layer. Image 0 runs the full network; optionally image 1 the smallest. Deterministic from (seed, step).
 *
 * Kernel sizes: 'per-step' (default) — per layer one random kernel size shared by every image but image 0 (full
 * kernels), so a step costs at most two convolutions per kernel-searchable layer; 'per-image' — kernel sizes balanced
 * across images like widths (up to one convolution per kernel size per layer).
 */
import type { SearchSpace, SubnetConfig } from '../arch/index.ts';
import { Rng, mixSeed } from '../random.ts';

export type KernelSampling = 'per-step' | 'per-image' | 'full';

export interface SamplingOptions {
  /** Image 1 runs the smallest sub-network (every layer at its lowest level, smallest kernel). Default true. */
  includeSmallest?: boolean;
  kernels?: KernelSampling;
}

const SALT = 0x5a3b;

/** Balanced multiset of `n` values from `choices`, containing `mustHave` (in order) first, the rest shuffled. */
function balanced(choices: readonly number[], n: number, mustHave: readonly number[], rng: Rng): number[] {
  const l = choices.length;
  const base = Math.floor(n / l);
  const extra = n - base * l;
  const counts = new Map<number, number>(choices.map((c) => [c, base]));
  // Which choices get one more: the forced ones first (when they would otherwise be missing), then random others.
  const order = rng.shuffle(choices.slice());
  const favoured: number[] = [];
  for (const c of mustHave) if (base === 0 && !favoured.includes(c) && favoured.length < extra) favoured.push(c);
  for (const c of order) if (favoured.length < extra && !favoured.includes(c)) favoured.push(c);
  for (const c of favoured) counts.set(c, (counts.get(c) as number) + 1);
  const rest: number[] = [];
  const remaining = new Map(counts);
  for (const c of mustHave) remaining.set(c, (remaining.get(c) ?? 0) - 1);
  for (const [c, k] of remaining) for (let i = 0; i < k; i++) rest.push(c);
  return [...mustHave, ...rng.shuffle(rest)];
}

/** One SubnetConfig per image of the batch for training step `step`. */
export function sampleBatchSubnets(
  space: SearchSpace,
  n: number,
  seed: number,
  step: number,
  opts: SamplingOptions = {},
): SubnetConfig[] {
  const smallest = (opts.includeSmallest ?? true) && n >= 2;
  const kernelMode = opts.kernels ?? 'per-step';
  const rng = new Rng(mixSeed(seed, step, SALT));
  const configs: SubnetConfig[] = Array.from({ length: n }, () => ({ levels: [], kernels: [] }));
  for (const layer of space.layers) {
    const levels: number[] = [];
    for (let v = layer.minLevel; v < space.widthLevels; v++) levels.push(v);
    const top = space.widthLevels - 1;
    const forced = smallest ? [top, layer.minLevel] : [top];
    const perImage = balanced(levels, n, n >= forced.length ? forced : forced.slice(0, n), rng);
    const full = layer.fullKernel;
    let kernels: number[];
    if (kernelMode === 'full' || layer.kernels.length === 1) {
      kernels = new Array<number>(n).fill(full);
    } else if (kernelMode === 'per-image') {
      const kForced = smallest ? [full, layer.kernels[0] as number] : [full];
      kernels = balanced(layer.kernels, n, kForced.slice(0, n), rng);
    } else {
      const shared = rng.pick(layer.kernels);
      kernels = Array.from({ length: n }, (_, i) => (i === 0 ? full : shared));
    }
    configs.forEach((config, i) => {
      config.levels.push(perImage[i] as number);
      config.kernels.push(kernels[i] as number);
    });
  }
  return configs;
}
