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

/**
 * 'independent': every layer's balanced levels are permuted independently (each image a random non-uniform
 * sub-network). 'coherent': every image gets one random rank and every layer hands its balanced levels out in rank
 * order (widest first), so an image that is narrow in one layer is narrow in all of them, like slimmable networks;
 * per-layer counts are the same as in 'independent'. `jitter` > 0 perturbs the rank per layer (by up to
 * jitter·N positions), mixing in non-uniform sub-networks while keeping per-layer balance. 'mixed': a random half
 * of the images (drawn per step) get independent widths, the other half (with the full and smallest images) coherent
 * ones; per-layer counts are again the same.
 */
export type WidthSampling = 'independent' | 'coherent' | 'mixed';

/**
 * Coherent sampling and layers that can be removed (minLevel 0: bypassed depthwise layers, CBC layers): 'coherent'
 * hands level 0 to the narrowest images like any other level, so a layer is only ever removed in sub-networks that are
 * narrow everywhere; 'random' hands it to random images (like stochastic depth), so removing one layer from an
 * otherwise wide sub-network, which the search tries, is trained too; 'single' hands one level-0 slot of every
 * removable layer to its own random image (each image loses at most one layer that way; the other level-0 slots stay
 * with the narrowest images), so one-layer removals are trained without most images of a batch running a damaged
 * network — with many removable layers (CBC networks), 'random' leaves few images intact and training sat at chance.
 * 'multi' hands every removable layer's level-0 slot to a random image among the removal share (`removalShare`),
 * so those images lose several layers at once — the sub-networks a search reaches after a few iterations at a low
 * target — while the rest of the batch stays intact (on the deeper CBC network's ablation (b) it scored no better than
 * 'single'). Per-layer balance is the same in all four.
 */
export type DepthSampling = 'coherent' | 'random' | 'single' | 'multi';
export const DEPTH_SAMPLINGS: readonly DepthSampling[] = ['coherent', 'random', 'single', 'multi'];

export interface SamplingOptions {
  /** Image 1 runs the smallest sub-network (every layer at its lowest level, smallest kernel). Default true. */
  includeSmallest?: boolean;
  kernels?: KernelSampling;
  widths?: WidthSampling;
  /** Coherent sampling only: per-layer rank perturbation as a fraction of the batch (default 0). */
  jitter?: number;
  /** Coherent sampling only: who gets a removable layer's level 0 (default 'coherent'). */
  depth?: DepthSampling;
  /**
   * Depth 'single' and 'multi': at most this share of the unpinned images loses layers at random (default 1). With
   * 'single', when that is fewer images than there are removable layers, which layers get one is drawn per step;
   * with 'multi', every removable layer picks one of those images (an image can lose several).
   */
  removalShare?: number;
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
  const widths = opts.widths ?? 'independent';
  const coherent = widths === 'coherent' || widths === 'mixed';
  const jitter = opts.jitter ?? 0;
  const rng = new Rng(mixSeed(seed, step, SALT));
  const configs: SubnetConfig[] = Array.from({ length: n }, () => ({ levels: [], kernels: [] }));
  // Coherent: rank 0 (widest) is image 0, the last rank image 1 when it runs the smallest network.
  const rank = coherent ? imageRanks(n, smallest, rng) : [];
  const ranked = widths === 'mixed' ? coherentHalf(n, smallest, rng) : undefined;
  // 'single': the images that lose one removable layer each, taken in order by the layers in `singleLayers`;
  // 'multi': every removable layer picks one of the removal images at random.
  let singles: number[] = [];
  let singleLayers: Set<number> | undefined;
  const multi = coherent && opts.depth === 'multi';
  if (coherent && (opts.depth === 'single' || multi)) {
    const images = rng.shuffle(unpinnedImages(n, smallest));
    singles = images.slice(0, Math.ceil((opts.removalShare ?? 1) * images.length));
    const removable = space.layers.filter((layer) => layer.minLevel === 0).map((layer) => layer.index);
    singleLayers = new Set(!multi && singles.length < removable.length ? rng.shuffle(removable).slice(0, singles.length) : removable);
  }
  for (const layer of space.layers) {
    const levels: number[] = [];
    for (let v = layer.minLevel; v < space.widthLevels; v++) levels.push(v);
    const top = space.widthLevels - 1;
    const forced = smallest ? [top, layer.minLevel] : [top];
    let perImage = balanced(levels, n, n >= forced.length ? forced : forced.slice(0, n), rng);
    if (coherent && layer.minLevel === 0 && opts.depth === 'random') {
      perImage = removedAt(perImage, rank, jitter, smallest, randomImages(n, smallest, perImage, rng), rng);
    } else if (coherent && layer.minLevel === 0 && singleLayers?.has(layer.index) && singles.length > 0) {
      const image = multi ? rng.pick(singles) : (singles.shift() as number);
      perImage = removedAt(perImage, rank, jitter, smallest, [image], rng);
    } else if (ranked) {
      perImage = byRankAmong(perImage, ranked, rank, jitter, smallest, rng);
    } else if (coherent) {
      perImage = byRank(perImage, rank, jitter, smallest, rng);
    }
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

/** rank[i] of image i: 0 for image 0, n − 1 for image 1 when `smallest`, the others a random permutation between. */
function imageRanks(n: number, smallest: boolean, rng: Rng): number[] {
  const fixed = smallest && n >= 2 ? 2 : 1;
  const middle = rng.shuffle(Array.from({ length: n - fixed }, (_, i) => i + 1));
  const rank = [0];
  if (fixed === 2) rank.push(n - 1);
  rank.push(...middle);
  return rank.slice(0, n);
}

/**
 * Hands the (balanced) multiset `levels` out widest first in order of rank (plus a per-layer jitter); images 0 and
 * 1 keep the forced top / bottom levels.
 */
function byRank(levels: readonly number[], rank: readonly number[], jitter: number, smallest: boolean, rng: Rng): number[] {
  const n = levels.length;
  const sorted = levels.slice().sort((a, b) => b - a);
  const pinned = smallest && n >= 2 ? 2 : 1;
  const keys = rank.map((r, i) => (i < pinned ? (i === 0 ? -Infinity : Infinity) : r + jitter * n * (rng.next() * 2 - 1)));
  const order = keys.map((k, i) => ({ k, i })).sort((a, b) => a.k - b.k || a.i - b.i);
  const out = new Array<number>(n);
  order.forEach(({ i }, pos) => (out[i] = sorted[pos] as number));
  return out;
}

/** The images that get coherent widths in 'mixed' sampling: the pinned ones and a random half of the others (sorted). */
function coherentHalf(n: number, smallest: boolean, rng: Rng): number[] {
  const pinned = smallest && n >= 2 ? 2 : 1;
  const others = rng.shuffle(Array.from({ length: n - pinned }, (_, i) => i + pinned));
  return [...Array.from({ length: pinned }, (_, i) => i), ...others.slice(0, Math.ceil(others.length / 2)).sort((a, b) => a - b)];
}

/** byRank over the images `among` only (their entries of the balanced multiset); the others keep their random ones. */
function byRankAmong(levels: readonly number[], among: readonly number[], rank: readonly number[], jitter: number, smallest: boolean, rng: Rng): number[] {
  const out = levels.slice();
  const assigned = byRank(among.map((i) => levels[i] as number), among.map((i) => rank[i] as number), jitter, smallest, rng);
  among.forEach((i, k) => (out[i] = assigned[k] as number));
  return out;
}

/** The images other than image 0 (full network) and, when `smallest`, image 1 (smallest network). */
function unpinnedImages(n: number, smallest: boolean): number[] {
  const pinned = smallest && n >= 2 ? 2 : 1;
  return Array.from({ length: Math.max(0, n - pinned) }, (_, k) => k + pinned);
}

/** Random unpinned images, as many as `levels` has level-0 entries beyond the one image 1 keeps. */
function randomImages(n: number, smallest: boolean, levels: readonly number[], rng: Rng): number[] {
  const removed = levels.filter((v) => v === 0).length - (smallest && n >= 2 ? 1 : 0);
  return rng.shuffle(unpinnedImages(n, smallest)).slice(0, Math.max(0, removed));
}

/**
 * Like byRank, but level-0 (removed) entries go to `images` first (image 1, when it runs the smallest network, keeps
 * one of them); the other levels, and level-0 entries left over, are handed out by rank among the remaining images.
 */
function removedAt(levels: readonly number[], rank: readonly number[], jitter: number, smallest: boolean, images: readonly number[], rng: Rng): number[] {
  const n = levels.length;
  const pinned = smallest && n >= 2 ? 2 : 1;
  let removed = levels.filter((v) => v === 0).length;
  const out = new Array<number>(n).fill(-1);
  if (pinned === 2 && removed > 0) {
    out[1] = 0;
    removed--;
  }
  const rest = levels.filter((v) => v !== 0);
  for (const i of images) {
    if (removed === 0) break;
    out[i] = 0;
    removed--;
  }
  for (let k = 0; k < removed; k++) rest.push(0);
  const free = out.map((v, i) => (v === -1 ? i : -1)).filter((i) => i >= 0);
  const assigned = byRank(rest, free.map((i) => rank[i] as number), jitter, false, rng);
  free.forEach((i, k) => (out[i] = assigned[k] as number));
  return out;
}

/**
 * Batch-norm groups for a batch: images sorted by their mean relative width (ties by index) and cut into `groups`
 * equal parts (group 0 the widest). With coherent sampling, the images of a group run (nearly) the same
 * sub-network, so per-group BN statistics match the statistics a slim sub-network is recalibrated with.
 */
export function widthGroups(space: SearchSpace, configs: readonly SubnetConfig[], groups: number): number[] {
  const n = configs.length;
  const g = Math.max(1, Math.min(groups, n));
  const top = space.widthLevels - 1;
  const width = configs.map((c) => c.levels.reduce((s, v) => s + v / top, 0) / Math.max(1, c.levels.length));
  const order = width.map((w, i) => ({ w, i })).sort((a, b) => b.w - a.w || a.i - b.i);
  const out = new Array<number>(n).fill(0);
  order.forEach(({ i }, pos) => (out[i] = Math.floor((pos * g) / n)));
  return out;
}
