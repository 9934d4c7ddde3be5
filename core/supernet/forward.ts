/**
 * The masked super-network forward pass (ordered dropout + channel-level bypass + superkernel), as defined in
 * docs/forward-semantics.md: every tensor has the full network's channel count; image n's sub-network is simulated by
 * zeroing channels at and above its widths (masks from plan.ts). Kernel sizes: a centre crop of the full kernel, one
 * convolution per distinct size in the batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedLayer } from '../arch/index.ts';
import { trainingBatchNorm } from './batch-norm.ts';
import type { BatchPlan, LayerPlan } from './plan.ts';
import { activate, batchNorm, centerCrop, fitChannels, hardSigmoid, subsample, upsampleNearest } from './ops.ts';
import { BN_EPSILON, type SupernetWeights } from './weights.ts';

export interface MaskedForwardOptions {
  /**
   * Training: BN uses batch statistics (over all images, before masking, or per BN group when the plan has
   * bnGroups) and dropout applies.
   */
  training: boolean;
  plan: BatchPlan;
  /** Training only: [N, C] dropout keep-mask, already scaled by 1/(1 − rate), applied to the classifier's input. */
  dropoutMask?: tf.Tensor2D;
  /** Training only: receives each BN layer's batch statistics (tensors live in the caller's scope; keep them there). */
  onBatchStats?: (layerId: string, mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
  /** Debugging: receives every layer's output. */
  trace?: (layerId: string, output: tf.Tensor) => void;
}

/** Runs the super-network; returns logits [N, classes] (classification) or the output map [N, H, W, C] (depth). */
export function maskedForward(weights: SupernetWeights, input: tf.Tensor4D, opts: MaskedForwardOptions): tf.Tensor {
  let x: tf.Tensor = input;
  let blockInput: tf.Tensor4D = input;
  let unit = -1;
  for (const layer of opts.plan.layers) {
    const full = layer.full;
    if (full.unitIndex !== unit) {
      unit = full.unitIndex;
      blockInput = x as tf.Tensor4D;
    }
    switch (full.op) {
      case 'conv':
      case 'dwconv':
        x = convLayer(weights, x as tf.Tensor4D, blockInput, layer, opts);
        break;
      case 'se':
        x = squeezeExcite(weights, x as tf.Tensor4D, layer);
        break;
      case 'gap':
        x = tf.mean(x, [1, 2], true);
        break;
      case 'upsample':
        x = upsampleNearest(x as tf.Tensor4D, full.scale);
        break;
      case 'fc':
        x = fullyConnected(weights, x, full, opts.training ? opts.dropoutMask : undefined);
        break;
    }
    opts.trace?.(full.id, x);
  }
  return x;
}

function convLayer(
  weights: SupernetWeights,
  x: tf.Tensor4D,
  blockInput: tf.Tensor4D,
  plan: LayerPlan,
  opts: MaskedForwardOptions,
): tf.Tensor4D {
  const full = plan.full;
  const z = full.output.channels;
  let y: tf.Tensor4D | undefined;
  if (!plan.skip) {
    const kernel = weights.get(`${full.id}.kernel`) as unknown as tf.Tensor4D;
    const parts = plan.kernels.map((choice) => {
      const k = centerCrop(kernel, choice.size);
      const out = full.op === 'conv' ? tf.conv2d(x, k, full.stride, 'same') : tf.depthwiseConv2d(x, k, full.stride, 'same');
      return choice.select ? tf.mul(out, choice.select) : out;
    });
    y = parts.length === 1 ? (parts[0] as tf.Tensor4D) : (tf.addN(parts) as tf.Tensor4D);
    if (full.bn) {
      const gamma = weights.get(`${full.id}.gamma`) as unknown as tf.Tensor1D;
      const beta = weights.get(`${full.id}.beta`) as unknown as tf.Tensor1D;
      if (opts.training) {
        const bn = trainingBatchNorm(y, gamma, beta, BN_EPSILON, opts.plan.bnGroups);
        opts.onBatchStats?.(full.id, bn.mean, bn.variance);
        y = bn.out;
      } else {
        const mean = weights.get(`${full.id}.mean`) as unknown as tf.Tensor1D;
        const variance = weights.get(`${full.id}.variance`) as unknown as tf.Tensor1D;
        y = batchNorm(y, mean, variance, gamma, beta, BN_EPSILON);
      }
    } else {
      y = tf.add(y, weights.get(`${full.id}.bias`)) as tf.Tensor4D;
    }
    y = fitChannels(activate(y, full.act), z);
    if (plan.filterMask) y = tf.mul(y, plan.filterMask) as tf.Tensor4D;
  }
  if (plan.bypass !== 'none') {
    const source = fitChannels(full.residual ? blockInput : subsample(x, full.stride), z);
    const bypass: tf.Tensor4D = plan.bypass === 'all' ? source : tf.mul(source, plan.bypass);
    y = y ? (tf.add(y, bypass) as tf.Tensor4D) : bypass;
  }
  return y ?? tf.zeros([x.shape[0], Math.ceil(x.shape[1] / full.stride), Math.ceil(x.shape[2] / full.stride), z]);
}

function squeezeExcite(weights: SupernetWeights, x: tf.Tensor4D, plan: LayerPlan): tf.Tensor4D {
  if (plan.skip) return x;
  const id = plan.full.id;
  const [n, , , c] = x.shape;
  const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
  let r = tf.relu(tf.add(tf.matMul(pooled, weights.get(`${id}.reduce`) as unknown as tf.Tensor2D), weights.get(`${id}.reduce_bias`)));
  if (plan.filterMask) r = tf.mul(r, tf.reshape(plan.filterMask, [n, -1]));
  let gate = hardSigmoid(tf.add(tf.matMul(r as tf.Tensor2D, weights.get(`${id}.expand`) as unknown as tf.Tensor2D), weights.get(`${id}.expand_bias`)));
  if (plan.seOn) {
    const on = tf.reshape(plan.seOn, [n, 1]);
    gate = tf.add(tf.mul(gate, on), tf.sub(1, on));
  }
  return tf.mul(x, tf.reshape(gate, [n, 1, 1, c]));
}

function fullyConnected(weights: SupernetWeights, x: tf.Tensor, layer: ResolvedLayer, dropout?: tf.Tensor2D): tf.Tensor2D {
  let flat = tf.reshape(x, [x.shape[0] as number, -1]) as tf.Tensor2D;
  if (dropout) flat = tf.mul(flat, dropout);
  const out = tf.add(tf.matMul(flat, weights.get(`${layer.id}.kernel`) as unknown as tf.Tensor2D), weights.get(`${layer.id}.bias`)) as tf.Tensor2D;
  return activate(out, layer.act);
}
