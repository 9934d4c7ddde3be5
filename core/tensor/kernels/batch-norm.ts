/**
 * Training-time batch norm forward and backward as two-pass JavaScript kernels for the CPU-side backends (wasm,
 * cpu), with float64 accumulation. Channels are the last axis; statistics are per group of images (`imageGroups`:
 * one dense group index per image, empty = one group), over all pixels of the group's images.
 *
 *   forward  (y, gamma, beta) → out, mean [G, C], variance [G, C]   (biased variance, two-pass)
 *            out = (y − μ_g) · γ r_g + β,  r_g = (σ²_g + ε)^−½
 *   backward (dy, y, mean, variance, gamma) → dy_in, dgamma [C], dbeta [C]
 *            S_g = Σ dy,  T_g = Σ dy·(y − μ_g)   (over the group's pixels, n_g of them)
 *            dβ = Σ_g S_g,  dγ = Σ_g r_g T_g,  dy_in = γ r_g (dy − S_g/n_g − (y − μ_g) r_g² T_g/n_g)
 *
 * Synchronized across the shards of a data-parallel step (withBatchNormSync): each shard reduces its images to
 * per-group moments (sum, squares around its own mean), one all-reduce per pass (BatchNormSync.allReduce) combines
 * them into the whole batch's μ, σ² (combineMoments), and S_g, T_g of the backward pass are summed likewise, so
 * dy_in is the whole batch's; dγ and dβ stay this shard's part (the shards' parameter gradients add up). One
 * synchronization per pass instead of one per reduction: the shards meet at every barrier, so each costs their
 * difference in speed up to that point (bench/data-parallel.ts).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { allocFloat32, viewFloat32, wasmHeap, type WasmHeap } from './host-memory.ts';

export const BATCH_NORM_TRAIN = 'NetadaptBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'NetadaptBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  epsilon: number;
  /** Group of each image (dense 0…G−1); empty: the whole batch is one group. */
  imageGroups: number[];
}

/** Sums BN statistics over the shards of one data-parallel step (core/supernet/training/shared-reduce.ts). */
export interface BatchNormSync {
  /** Groups of the whole batch. */
  readonly groups: number;
  /** The whole batch's group (0…groups−1) of each of this shard's dense groups. */
  readonly globalOf: Int32Array;
  /** Images of each group in the whole batch. */
  readonly imagesPerGroup: Float64Array;
  /** Replaces `values` by the sum of every shard's `values` (each shard calls it in the same order). */
  allReduce(values: Float64Array): void;
}

let activeSync: BatchNormSync | undefined;

/** Runs `f` with every training BN kernel's statistics synchronized through `sync`. */
export function withBatchNormSync<T>(sync: BatchNormSync | undefined, f: () => T): T {
  const before = activeSync;
  activeSync = sync;
  try {
    return f();
  } finally {
    activeSync = before;
  }
}

/** True while a synchronized step runs (the composed, kernel-less BN cannot take part). */
export function batchNormSyncActive(): boolean {
  return activeSync !== undefined;
}

/** This shard's per-group sums [groups, width] → the whole batch's sums of the same groups (as is without a sync). */
function overAllShards(local: Float64Array, width: number, groups: number): Float64Array {
  const sync = activeSync;
  if (!sync) return local;
  const all = new Float64Array(sync.groups * width);
  for (let g = 0; g < groups; g++) all.set(local.subarray(g * width, (g + 1) * width), (sync.globalOf[g] as number) * width);
  sync.allReduce(all);
  const out = new Float64Array(groups * width);
  for (let g = 0; g < groups; g++) {
    const at = (sync.globalOf[g] as number) * width;
    out.set(all.subarray(at, at + width), g * width);
  }
  return out;
}

/**
 * The whole batch's per-group mean and biased variance from this shard's sums and squared deviations around its own
 * group means (`sums`, `m2`, [groups, C]): one all-reduce of [Σy | M2 | (Σy)²/n] per group, then
 * M2 = Σ_shards M2 + Σ_shards (Σy)²/n − (Σy)²/N (the parallel-variance combination, in float64). Without a sync the
 * correction term is exactly 0 and this is the two-pass variance.
 */
function combineMoments(sums: Float64Array, m2: Float64Array, { channels: c, groups, counts, localCounts }: Layout): { mean: Float64Array; variance: Float64Array } {
  const moments = new Float64Array(groups * 3 * c);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c; k++) {
      const sum = sums[g * c + k] as number;
      moments[g * 3 * c + k] = sum;
      moments[g * 3 * c + c + k] = m2[g * c + k] as number;
      moments[g * 3 * c + 2 * c + k] = (sum * sum) / (localCounts[g] as number);
    }
  }
  const all = overAllShards(moments, 3 * c, groups);
  const mean = new Float64Array(groups * c);
  const variance = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) {
    const n = counts[g] as number;
    for (let k = 0; k < c; k++) {
      const sum = all[g * 3 * c + k] as number;
      mean[g * c + k] = sum / n;
      variance[g * c + k] = Math.max(0, (all[g * 3 * c + c + k] as number) + ((all[g * 3 * c + 2 * c + k] as number) - (sum * sum) / n)) / n;
    }
  }
  return { mean, variance };
}

interface Layout {
  images: number;
  pixelsPerImage: number;
  channels: number;
  groups: number;
  groupOf: Int32Array;
  /** Pixels per group (of the whole batch's images when synchronized). */
  counts: Float64Array;
  /** Pixels per group among this shard's images (= counts without a sync). */
  localCounts: Float64Array;
}

function layout(y: TensorInfo, attrs: BatchNormTrainAttrs, kernel: string): Layout {
  if (y.shape.length < 2) throw new Error(`${kernel}: input must have a batch and a channel axis, got shape [${y.shape.join(', ')}].`);
  const images = y.shape[0] as number;
  const channels = y.shape[y.shape.length - 1] as number;
  const pixelsPerImage = y.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const groupOf = attrs.imageGroups.length === 0 ? new Int32Array(images) : Int32Array.from(attrs.imageGroups);
  if (groupOf.length !== images) throw new Error(`${kernel}: ${groupOf.length} image groups for ${images} images.`);
  const groups = groupOf.reduce((m, g) => Math.max(m, g), 0) + 1;
  const localCounts = new Float64Array(groups);
  for (const g of groupOf) localCounts[g] = (localCounts[g] as number) + pixelsPerImage;
  let counts = localCounts;
  const sync = activeSync;
  if (sync) {
    if (sync.globalOf.length !== groups) throw new Error(`${kernel}: ${groups} local groups, the synchronized step maps ${sync.globalOf.length}.`);
    counts = Float64Array.from(sync.globalOf, (global) => (sync.imagesPerGroup[global] as number) * pixelsPerImage);
  }
  return { images, pixelsPerImage, channels, groups, groupOf, counts, localCounts };
}

function get(inputs: Record<string, TensorInfo | undefined>, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input '${name}'.`);
  return t;
}

const forward: KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as BatchNormTrainAttrs & NamedAttrMap;
  const y = get(inputs, 'y', BATCH_NORM_TRAIN);
  const shape = layout(y, a, BATCH_NORM_TRAIN);
  const { images, pixelsPerImage: hw, channels: c, groups, groupOf, localCounts } = shape;
  const results = [allocFloat32(backend, y.shape), allocFloat32(backend, [groups, c]), allocFloat32(backend, [groups, c])];
  const heap = wasmHeap(backend);
  if (heap && c % 4 === 0) {
    simdForward(heap, { y, gamma: get(inputs, 'gamma', BATCH_NORM_TRAIN), beta: get(inputs, 'beta', BATCH_NORM_TRAIN) }, results as [TensorInfo, TensorInfo, TensorInfo], shape, a.epsilon);
    return results;
  }
  const ys = viewFloat32(backend, y);
  const gamma = viewFloat32(backend, get(inputs, 'gamma', BATCH_NORM_TRAIN));
  const beta = viewFloat32(backend, get(inputs, 'beta', BATCH_NORM_TRAIN));
  // This shard's group sums and squared deviations around its own group means, then the whole batch's moments.
  const sums = new Float64Array(groups * c);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) sums[m + k] = (sums[m + k] as number) + (ys[p + k] as number);
    }
  }
  const localMean = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) for (let k = 0; k < c; k++) localMean[g * c + k] = (sums[g * c + k] as number) / (localCounts[g] as number);
  const m2 = new Float64Array(groups * c);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) {
        const d = (ys[p + k] as number) - (localMean[m + k] as number);
        m2[m + k] = (m2[m + k] as number) + d * d;
      }
    }
  }
  const { mean, variance } = combineMoments(sums, m2, shape);
  const scale = new Float64Array(groups * c);
  for (let i = 0; i < groups * c; i++) scale[i] = (gamma[i % c] as number) / Math.sqrt((variance[i] as number) + a.epsilon);
  const o = viewFloat32(backend, results[0] as TensorInfo);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) o[p + k] = ((ys[p + k] as number) - (mean[m + k] as number)) * (scale[m + k] as number) + (beta[k] as number);
    }
  }
  viewFloat32(backend, results[1] as TensorInfo).set(mean);
  viewFloat32(backend, results[2] as TensorInfo).set(variance);
  return results;
};

const backward: KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as BatchNormTrainAttrs & NamedAttrMap;
  const y = get(inputs, 'y', BATCH_NORM_TRAIN_GRAD);
  const shape = layout(y, a, BATCH_NORM_TRAIN_GRAD);
  const { images, pixelsPerImage: hw, channels: c, groups, groupOf, counts } = shape;
  const results = [allocFloat32(backend, y.shape), allocFloat32(backend, [c]), allocFloat32(backend, [c])];
  const heap = wasmHeap(backend);
  if (heap && c % 4 === 0) {
    const named = (n: string) => get(inputs, n, BATCH_NORM_TRAIN_GRAD);
    simdBackward(heap, { dy: named('dy'), y, mean: named('mean'), variance: named('variance'), gamma: named('gamma') }, results as [TensorInfo, TensorInfo, TensorInfo], shape, a.epsilon);
    return results;
  }
  const ys = viewFloat32(backend, y);
  const dys = viewFloat32(backend, get(inputs, 'dy', BATCH_NORM_TRAIN_GRAD));
  const mean = viewFloat32(backend, get(inputs, 'mean', BATCH_NORM_TRAIN_GRAD));
  const variance = viewFloat32(backend, get(inputs, 'variance', BATCH_NORM_TRAIN_GRAD));
  const gamma = viewFloat32(backend, get(inputs, 'gamma', BATCH_NORM_TRAIN_GRAD));
  const local = new Float64Array(groups * 2 * c);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * 2 * c;
    const mu = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) {
        const g = dys[p + k] as number;
        local[m + k] = (local[m + k] as number) + g;
        local[m + c + k] = (local[m + c + k] as number) + g * ((ys[p + k] as number) - (mean[mu + k] as number));
      }
    }
  }
  const { s, t, dGamma, dBeta } = gradientSums(local, groups, c, (i) => 1 / Math.sqrt((variance[i] as number) + a.epsilon));
  // dy_in = A·dy − B − (y − μ)·D per (group, channel): A = γr, B = γr·S/n, D = γr³·T/n.
  const coefA = new Float64Array(groups * c);
  const coefB = new Float64Array(groups * c);
  const coefD = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c; k++) {
      const i = g * c + k;
      const r = 1 / Math.sqrt((variance[i] as number) + a.epsilon);
      const gr = (gamma[k] as number) * r;
      coefA[i] = gr;
      coefB[i] = (gr * (s[i] as number)) / (counts[g] as number);
      coefD[i] = (gr * r * r * (t[i] as number)) / (counts[g] as number);
    }
  }
  const o = viewFloat32(backend, results[0] as TensorInfo);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) {
        const i = m + k;
        o[p + k] = (coefA[i] as number) * (dys[p + k] as number) - (coefB[i] as number) - ((ys[p + k] as number) - (mean[i] as number)) * (coefD[i] as number);
      }
    }
  }
  viewFloat32(backend, results[1] as TensorInfo).set(dGamma);
  viewFloat32(backend, results[2] as TensorInfo).set(dBeta);
  return results;
};

/**
 * The wasm path: SIMD loops per image (core/tensor/simd), each image's column sums added into float64 group sums
 * here. Scratch vectors live in the heap: [per-image sums | group mean | group scale] (+ the gradient's).
 */
function simdForward(
  heap: WasmHeap,
  t: { y: TensorInfo; gamma: TensorInfo; beta: TensorInfo },
  [out, meanOut, varianceOut]: [TensorInfo, TensorInfo, TensorInfo],
  shape: Layout,
  epsilon: number,
): void {
  const { images, pixelsPerImage: hw, channels: c, groups, groupOf, localCounts } = shape;
  const k = heap.kernels;
  const scratch = heap.malloc(4 * c * (1 + 2 * groups));
  try {
    const acc = scratch;
    const meanPtr = (g: number) => scratch + 4 * c * (1 + g);
    const scalePtr = (g: number) => scratch + 4 * c * (1 + groups + g);
    const y = heap.offset(t.y);
    const image = (n: number) => y + 4 * n * hw * c;
    const pass = (run: (n: number) => void): Float64Array => {
      const sums = new Float64Array(groups * c);
      const accView = heap.floats(acc, c);
      for (let n = 0; n < images; n++) {
        accView.fill(0);
        run(n);
        const g = (groupOf[n] as number) * c;
        for (let j = 0; j < c; j++) sums[g + j] = (sums[g + j] as number) + (accView[j] as number);
      }
      return sums;
    };
    // This shard's group sums and squared deviations around its own group means, then the whole batch's moments.
    const sums = pass((n) => k.colsum(image(n), hw, c, acc));
    for (let g = 0; g < groups; g++) {
      const means = heap.floats(meanPtr(g), c);
      for (let j = 0; j < c; j++) means[j] = (sums[g * c + j] as number) / (localCounts[g] as number);
    }
    const m2 = pass((n) => k.colsumCenteredSquares(image(n), hw, c, meanPtr(groupOf[n] as number), acc));
    const moments = combineMoments(sums, m2, shape);
    const mean = heap.floats(heap.offset(meanOut), groups * c);
    const variance = heap.floats(heap.offset(varianceOut), groups * c);
    const gamma = heap.floats(heap.offset(t.gamma), c);
    for (let g = 0; g < groups; g++) {
      const means = heap.floats(meanPtr(g), c);
      const scales = heap.floats(scalePtr(g), c);
      for (let j = 0; j < c; j++) {
        const i = g * c + j;
        means[j] = mean[i] = moments.mean[i] as number;
        const v = moments.variance[i] as number;
        variance[i] = v;
        scales[j] = (gamma[j] as number) / Math.sqrt(v + epsilon);
      }
    }
    const dst = heap.offset(out);
    const beta = heap.offset(t.beta);
    for (let n = 0; n < images; n++) {
      const g = groupOf[n] as number;
      k.normalize(image(n), dst + 4 * n * hw * c, hw, c, meanPtr(g), scalePtr(g), beta);
    }
  } finally {
    heap.free(scratch);
  }
}

function simdBackward(
  heap: WasmHeap,
  t: { dy: TensorInfo; y: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo },
  [dyOut, dGammaOut, dBetaOut]: [TensorInfo, TensorInfo, TensorInfo],
  { images, pixelsPerImage: hw, channels: c, groups, groupOf, counts }: Layout,
  epsilon: number,
): void {
  const k = heap.kernels;
  // [s | t | a(g) | b(g) | d(g)]
  const scratch = heap.malloc(4 * c * (2 + 3 * groups));
  try {
    const sAcc = scratch;
    const tAcc = scratch + 4 * c;
    const coef = (which: number, g: number) => scratch + 4 * c * (2 + which * groups + g);
    const dy = heap.offset(t.dy);
    const y = heap.offset(t.y);
    const mean = heap.offset(t.mean);
    const local = new Float64Array(groups * 2 * c);
    const sView = heap.floats(sAcc, c);
    const tView = heap.floats(tAcc, c);
    for (let n = 0; n < images; n++) {
      sView.fill(0);
      tView.fill(0);
      const g = groupOf[n] as number;
      k.colsumGradient(dy + 4 * n * hw * c, y + 4 * n * hw * c, hw, c, mean + 4 * g * c, sAcc, tAcc);
      for (let j = 0; j < c; j++) {
        local[g * 2 * c + j] = (local[g * 2 * c + j] as number) + (sView[j] as number);
        local[g * 2 * c + c + j] = (local[g * 2 * c + c + j] as number) + (tView[j] as number);
      }
    }
    const variance = heap.floats(heap.offset(t.variance), groups * c);
    const gamma = heap.floats(heap.offset(t.gamma), c);
    const { s, t: tt, dGamma, dBeta } = gradientSums(local, groups, c, (i) => 1 / Math.sqrt((variance[i] as number) + epsilon));
    heap.floats(heap.offset(dGammaOut), c).set(dGamma);
    heap.floats(heap.offset(dBetaOut), c).set(dBeta);
    for (let g = 0; g < groups; g++) {
      const a = heap.floats(coef(0, g), c);
      const b = heap.floats(coef(1, g), c);
      const d = heap.floats(coef(2, g), c);
      for (let j = 0; j < c; j++) {
        const i = g * c + j;
        const r = 1 / Math.sqrt((variance[i] as number) + epsilon);
        const gr = (gamma[j] as number) * r;
        a[j] = gr;
        b[j] = (gr * (s[i] as number)) / (counts[g] as number);
        d[j] = (gr * r * r * (tt[i] as number)) / (counts[g] as number);
      }
    }
    const dst = heap.offset(dyOut);
    for (let n = 0; n < images; n++) {
      const g = groupOf[n] as number;
      const o = 4 * n * hw * c;
      k.normalizeGradient(dy + o, y + o, dst + o, hw, c, mean + 4 * g * c, coef(0, g), coef(1, g), coef(2, g));
    }
  } finally {
    heap.free(scratch);
  }
}

/**
 * From this shard's per-group [S_g | T_g] rows: dγ = Σ_g r_g T_g and dβ = Σ_g S_g of this shard's images, and S, T
 * [groups, C] of the whole batch (synchronized) for dy_in. `r(i)`: (σ² + ε)^−½ of group-channel i.
 */
function gradientSums(local: Float64Array, groups: number, c: number, r: (i: number) => number): { s: Float64Array; t: Float64Array; dGamma: Float64Array; dBeta: Float64Array } {
  const dGamma = new Float64Array(c);
  const dBeta = new Float64Array(c);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c; k++) {
      dBeta[k] = (dBeta[k] as number) + (local[g * 2 * c + k] as number);
      dGamma[k] = (dGamma[k] as number) + r(g * c + k) * (local[g * 2 * c + c + k] as number);
    }
  }
  const all = overAllShards(local, 2 * c, groups);
  const s = new Float64Array(groups * c);
  const t = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) {
    s.set(all.subarray(g * 2 * c, g * 2 * c + c), g * c);
    t.set(all.subarray(g * 2 * c + c, (g + 1) * 2 * c), g * c);
  }
  return { s, t, dGamma, dBeta };
}

export function batchNormKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forward },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backward },
  ];
}
