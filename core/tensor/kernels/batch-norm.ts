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

interface Layout {
  images: number;
  pixelsPerImage: number;
  channels: number;
  groups: number;
  groupOf: Int32Array;
  /** Pixels per group. */
  counts: Float64Array;
}

function layout(y: TensorInfo, attrs: BatchNormTrainAttrs, kernel: string): Layout {
  if (y.shape.length < 2) throw new Error(`${kernel}: input must have a batch and a channel axis, got shape [${y.shape.join(', ')}].`);
  const images = y.shape[0] as number;
  const channels = y.shape[y.shape.length - 1] as number;
  const pixelsPerImage = y.shape.slice(1, -1).reduce((a, b) => a * b, 1);
  const groupOf = attrs.imageGroups.length === 0 ? new Int32Array(images) : Int32Array.from(attrs.imageGroups);
  if (groupOf.length !== images) throw new Error(`${kernel}: ${groupOf.length} image groups for ${images} images.`);
  const groups = groupOf.reduce((m, g) => Math.max(m, g), 0) + 1;
  const counts = new Float64Array(groups);
  for (const g of groupOf) counts[g] = (counts[g] as number) + pixelsPerImage;
  return { images, pixelsPerImage, channels, groups, groupOf, counts };
}

function get(inputs: Record<string, TensorInfo | undefined>, name: string, kernel: string): TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: missing input '${name}'.`);
  return t;
}

const forward: KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as BatchNormTrainAttrs & NamedAttrMap;
  const y = get(inputs, 'y', BATCH_NORM_TRAIN);
  const { images, pixelsPerImage: hw, channels: c, groups, groupOf, counts } = layout(y, a, BATCH_NORM_TRAIN);
  const results = [allocFloat32(backend, y.shape), allocFloat32(backend, [groups, c]), allocFloat32(backend, [groups, c])];
  const heap = wasmHeap(backend);
  if (heap && c % 4 === 0) {
    simdForward(heap, { y, gamma: get(inputs, 'gamma', BATCH_NORM_TRAIN), beta: get(inputs, 'beta', BATCH_NORM_TRAIN) }, results as [TensorInfo, TensorInfo, TensorInfo], layout(y, a, BATCH_NORM_TRAIN), a.epsilon);
    return results;
  }
  const ys = viewFloat32(backend, y);
  const gamma = viewFloat32(backend, get(inputs, 'gamma', BATCH_NORM_TRAIN));
  const beta = viewFloat32(backend, get(inputs, 'beta', BATCH_NORM_TRAIN));
  const mean = new Float64Array(groups * c);
  const variance = new Float64Array(groups * c);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) mean[m + k] = (mean[m + k] as number) + (ys[p + k] as number);
    }
  }
  for (let g = 0; g < groups; g++) for (let k = 0; k < c; k++) mean[g * c + k] = (mean[g * c + k] as number) / (counts[g] as number);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) {
        const d = (ys[p + k] as number) - (mean[m + k] as number);
        variance[m + k] = (variance[m + k] as number) + d * d;
      }
    }
  }
  const scale = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c; k++) {
      const v = (variance[g * c + k] as number) / (counts[g] as number);
      variance[g * c + k] = v;
      scale[g * c + k] = (gamma[k] as number) / Math.sqrt(v + a.epsilon);
    }
  }
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
  const { images, pixelsPerImage: hw, channels: c, groups, groupOf, counts } = layout(y, a, BATCH_NORM_TRAIN_GRAD);
  const results = [allocFloat32(backend, y.shape), allocFloat32(backend, [c]), allocFloat32(backend, [c])];
  const heap = wasmHeap(backend);
  if (heap && c % 4 === 0) {
    const named = (n: string) => get(inputs, n, BATCH_NORM_TRAIN_GRAD);
    simdBackward(heap, { dy: named('dy'), y, mean: named('mean'), variance: named('variance'), gamma: named('gamma') }, results as [TensorInfo, TensorInfo, TensorInfo], layout(y, a, BATCH_NORM_TRAIN_GRAD), a.epsilon);
    return results;
  }
  const ys = viewFloat32(backend, y);
  const dys = viewFloat32(backend, get(inputs, 'dy', BATCH_NORM_TRAIN_GRAD));
  const mean = viewFloat32(backend, get(inputs, 'mean', BATCH_NORM_TRAIN_GRAD));
  const variance = viewFloat32(backend, get(inputs, 'variance', BATCH_NORM_TRAIN_GRAD));
  const gamma = viewFloat32(backend, get(inputs, 'gamma', BATCH_NORM_TRAIN_GRAD));
  const s = new Float64Array(groups * c);
  const t = new Float64Array(groups * c);
  for (let n = 0; n < images; n++) {
    const m = (groupOf[n] as number) * c;
    for (let p = n * hw * c, end = p + hw * c; p < end; p += c) {
      for (let k = 0; k < c; k++) {
        const g = dys[p + k] as number;
        s[m + k] = (s[m + k] as number) + g;
        t[m + k] = (t[m + k] as number) + g * ((ys[p + k] as number) - (mean[m + k] as number));
      }
    }
  }
  const dGamma = new Float64Array(c);
  const dBeta = new Float64Array(c);
  // dy_in = A·dy − B − (y − μ)·D per (group, channel): A = γr, B = γr·S/n, D = γr³·T/n.
  const coefA = new Float64Array(groups * c);
  const coefB = new Float64Array(groups * c);
  const coefD = new Float64Array(groups * c);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c; k++) {
      const i = g * c + k;
      const r = 1 / Math.sqrt((variance[i] as number) + a.epsilon);
      const gr = (gamma[k] as number) * r;
      dBeta[k] = (dBeta[k] as number) + (s[i] as number);
      dGamma[k] = (dGamma[k] as number) + r * (t[i] as number);
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
  { images, pixelsPerImage: hw, channels: c, groups, groupOf, counts }: Layout,
  epsilon: number,
): void {
  const k = heap.kernels;
  const scratch = heap.malloc(4 * c * (1 + 2 * groups));
  try {
    const acc = scratch;
    const meanPtr = (g: number) => scratch + 4 * c * (1 + g);
    const scalePtr = (g: number) => scratch + 4 * c * (1 + groups + g);
    const y = heap.offset(t.y);
    const image = (n: number) => y + 4 * n * hw * c;
    const sums = new Float64Array(groups * c);
    const pass = (run: (n: number) => void) => {
      sums.fill(0);
      const accView = heap.floats(acc, c);
      for (let n = 0; n < images; n++) {
        accView.fill(0);
        run(n);
        const g = (groupOf[n] as number) * c;
        for (let j = 0; j < c; j++) sums[g + j] = (sums[g + j] as number) + (accView[j] as number);
      }
    };
    pass((n) => k.colsum(image(n), hw, c, acc));
    const mean = heap.floats(heap.offset(meanOut), groups * c);
    for (let g = 0; g < groups; g++) {
      const means = heap.floats(meanPtr(g), c);
      for (let j = 0; j < c; j++) means[j] = mean[g * c + j] = (sums[g * c + j] as number) / (counts[g] as number);
    }
    pass((n) => k.colsumCenteredSquares(image(n), hw, c, meanPtr(groupOf[n] as number), acc));
    const variance = heap.floats(heap.offset(varianceOut), groups * c);
    const gamma = heap.floats(heap.offset(t.gamma), c);
    for (let g = 0; g < groups; g++) {
      const scales = heap.floats(scalePtr(g), c);
      for (let j = 0; j < c; j++) {
        const v = (sums[g * c + j] as number) / (counts[g] as number);
        variance[g * c + j] = v;
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
    const s = new Float64Array(groups * c);
    const tt = new Float64Array(groups * c);
    const sView = heap.floats(sAcc, c);
    const tView = heap.floats(tAcc, c);
    for (let n = 0; n < images; n++) {
      sView.fill(0);
      tView.fill(0);
      const g = groupOf[n] as number;
      k.colsumGradient(dy + 4 * n * hw * c, y + 4 * n * hw * c, hw, c, mean + 4 * g * c, sAcc, tAcc);
      for (let j = 0; j < c; j++) {
        s[g * c + j] = (s[g * c + j] as number) + (sView[j] as number);
        tt[g * c + j] = (tt[g * c + j] as number) + (tView[j] as number);
      }
    }
    const variance = heap.floats(heap.offset(t.variance), groups * c);
    const gamma = heap.floats(heap.offset(t.gamma), c);
    const dGamma = heap.floats(heap.offset(dGammaOut), c);
    const dBeta = heap.floats(heap.offset(dBetaOut), c);
    const gammaSums = new Float64Array(c);
    const betaSums = new Float64Array(c);
    for (let g = 0; g < groups; g++) {
      const a = heap.floats(coef(0, g), c);
      const b = heap.floats(coef(1, g), c);
      const d = heap.floats(coef(2, g), c);
      for (let j = 0; j < c; j++) {
        const i = g * c + j;
        const r = 1 / Math.sqrt((variance[i] as number) + epsilon);
        const gr = (gamma[j] as number) * r;
        betaSums[j] = (betaSums[j] as number) + (s[i] as number);
        gammaSums[j] = (gammaSums[j] as number) + r * (tt[i] as number);
        a[j] = gr;
        b[j] = (gr * (s[i] as number)) / (counts[g] as number);
        d[j] = (gr * r * r * (tt[i] as number)) / (counts[g] as number);
      }
    }
    dGamma.set(gammaSums);
    dBeta.set(betaSums);
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

export function batchNormKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forward },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backward },
  ];
}
