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
import { allocFloat32, viewFloat32 } from './host-memory.ts';

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

export function batchNormKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forward },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backward },
  ];
}
