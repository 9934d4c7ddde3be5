/**
 * A batch plan: for a batch whose image n runs sub-network `subnets[n]`, the per-layer channel masks (ordered dropout
 * and channel-level bypass) and kernel choices, built once per step as small [N,1,1,C] tensors.
 *
 * Widths come from core/arch's resolveNetwork for each distinct sub-network (cached by subnetKey); this module never
 * re-derives CBC arithmetic. Kernel sizes may differ per image: a layer runs one convolution per distinct kernel size
 * in the batch and selects each image's result with a [N,1,1,1] mask (so a batch with one kernel config per step costs
 * one convolution per layer).
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec, ResolvedLayer, ResolvedNetwork, SubnetConfig } from '../arch/index.ts';
import { resolveNetwork, subnetKey } from '../arch/index.ts';

export interface KernelChoice {
  size: number;
  /** [N,1,1,1] 1 for the images using this kernel size; absent when every image uses it. */
  select?: tf.Tensor4D;
}

export interface LayerPlan {
  /** The layer in the full network (tensor widths, full kernel). */
  full: ResolvedLayer;
  /** No image runs this layer's filters (every image has M = 0). */
  skip: boolean;
  kernels: KernelChoice[];
  /** [N,1,1,Z_full] 1 where channel i < M_n (filters part); absent when every image keeps every channel. */
  filterMask?: tf.Tensor4D;
  /**
   * Bypass: plain layers copy channels [M_n, min(C_n, T)) of the subsampled input; residual projections add channels
   * [0, R_n) of the block input. 'none': no image bypasses anything; 'all': every image takes all Z_full channels;
   * otherwise the [N,1,1,Z_full] mask.
   */
  bypass: 'none' | 'all' | tf.Tensor4D;
  /** SE only: [N,1,1,1] 1 for images whose SE runs (M_n > 0); absent when all run. */
  seOn?: tf.Tensor4D;
}

/**
 * Training-time batch-norm groups: BN statistics are computed over the images of each group separately (so a narrow
 * sub-network's activations are normalized with its own statistics, as after recalibration, not with the wide ones').
 */
export interface BnGroups {
  /** [N, G] one-hot: image n belongs to group g. */
  assign: tf.Tensor2D;
  /** [G, N]: assign transposed, each row divided by its group's size (group means as a matrix product). */
  average: tf.Tensor2D;
  /** The group of image 0 (whose statistics update the BN moving averages). */
  first: number;
}

export interface BatchPlan {
  n: number;
  layers: LayerPlan[];
  /** Absent: BN statistics over the whole batch. */
  bnGroups?: BnGroups;
  /** Resolved sub-network of each image. */
  resolved: ResolvedNetwork[];
  dispose(): void;
}

const resolveCache = new WeakMap<NetworkSpec, Map<string, ResolvedNetwork>>();
const CACHE_LIMIT = 4096;

/** resolveNetwork with a per-spec cache keyed by subnetKey. */
export function resolveCached(spec: NetworkSpec, subnet: SubnetConfig): ResolvedNetwork {
  let cache = resolveCache.get(spec);
  if (!cache) {
    cache = new Map();
    resolveCache.set(spec, cache);
  }
  const key = subnetKey(subnet);
  let hit = cache.get(key);
  if (!hit) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    hit = resolveNetwork(spec, subnet);
    cache.set(key, hit);
  }
  return hit;
}

/**
 * Plans a batch; `subnets` has one entry per image (undefined entries, or no array, mean the full network).
 * `bnGroups`: a group index per image for training-time BN statistics (see BnGroups; one group: whole batch).
 */
export function planBatch(
  spec: NetworkSpec,
  n: number,
  subnets?: ReadonlyArray<SubnetConfig | undefined>,
  bnGroups?: readonly number[],
): BatchPlan {
  const full = resolveNetwork(spec);
  const resolved: ResolvedNetwork[] = [];
  for (let i = 0; i < n; i++) {
    const s = subnets?.[i];
    resolved.push(s ? resolveCached(spec, s) : full);
  }
  const owned: tf.Tensor[] = [];
  const mask = (data: Float32Array, channels: number): tf.Tensor4D => {
    const t = tf.tensor4d(data, [n, 1, 1, channels]);
    owned.push(t);
    return t;
  };
  const layers: LayerPlan[] = full.layers.map((fullLayer, j) => {
    const per = resolved.map((r) => r.layers[j] as ResolvedLayer);
    const plan: LayerPlan = { full: fullLayer, skip: false, kernels: [{ size: fullLayer.fullKernel }], bypass: 'none' };
    if (fullLayer.op !== 'conv' && fullLayer.op !== 'dwconv' && fullLayer.op !== 'se') return plan;
    plan.skip = per.every((l) => l.filters === 0 || l.identity); // identity: also a layer nobody reads (dead branch)
    const sizes = [...new Set(per.map((l) => l.kernel))].sort((a, b) => a - b);
    plan.kernels = sizes.map((size) => {
      if (sizes.length === 1) return { size };
      const sel = new Float32Array(n);
      per.forEach((l, i) => (sel[i] = l.kernel === size ? 1 : 0));
      return { size, select: mask(sel, 1) };
    });
    if (fullLayer.op === 'se') {
      const width = fullLayer.fullFilters;
      if (per.some((l) => l.filters < width)) {
        const data = new Float32Array(n * width);
        per.forEach((l, i) => data.fill(1, i * width, i * width + l.filters));
        plan.filterMask = mask(data, width);
      }
      if (per.some((l) => l.filters === 0)) plan.seOn = mask(Float32Array.from(per, (l) => (l.filters > 0 ? 1 : 0)), 1);
      return plan;
    }
    const z = fullLayer.output.channels;
    if (per.some((l) => l.filters < fullLayer.filters)) {
      const data = new Float32Array(n * z);
      per.forEach((l, i) => data.fill(1, i * z, i * z + l.filters));
      plan.filterMask = mask(data, z);
    }
    const bypassStart = (l: ResolvedLayer) => (l.residual ? 0 : l.filters);
    if (per.every((l) => bypassStart(l) === 0 && l.bypassChannels >= z)) {
      plan.bypass = 'all';
    } else if (per.some((l) => l.bypassChannels > 0)) {
      const data = new Float32Array(n * z);
      per.forEach((l, i) => {
        const start = bypassStart(l);
        data.fill(1, i * z + start, i * z + start + l.bypassChannels);
      });
      plan.bypass = mask(data, z);
    }
    return plan;
  });
  const groups = bnGroups ? groupMatrices(bnGroups, n, owned) : undefined;
  return {
    n,
    layers,
    resolved,
    ...(groups ? { bnGroups: groups } : {}),
    dispose: () => {
      for (const t of owned) t.dispose();
      owned.length = 0;
    },
  };
}

function groupMatrices(group: readonly number[], n: number, owned: tf.Tensor[]): BnGroups | undefined {
  if (group.length !== n) throw new RangeError(`bnGroups has ${group.length} entries for a batch of ${n}`);
  const ids = [...new Set(group)].sort((a, b) => a - b);
  if (ids.length < 2) return undefined;
  const g = ids.length;
  const index = new Map(ids.map((id, k) => [id, k]));
  const assign = new Float32Array(n * g);
  const sizes = new Array<number>(g).fill(0);
  group.forEach((id, i) => {
    const k = index.get(id) as number;
    assign[i * g + k] = 1;
    sizes[k] = (sizes[k] as number) + 1;
  });
  const average = new Float32Array(g * n);
  group.forEach((id, i) => {
    const k = index.get(id) as number;
    average[k * n + i] = 1 / (sizes[k] as number);
  });
  const a = tf.tensor2d(assign, [n, g]);
  const b = tf.tensor2d(average, [g, n]);
  owned.push(a, b);
  return { assign: a, average: b, first: index.get(group[0] as number) as number };
}
