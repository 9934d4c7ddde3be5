import * as tf from '@tensorflow/tfjs';
import { parseNetworkSpec, type NetworkSpec, type NetworkSpecInput } from '../../../core/arch/index.ts';
import { Rng } from '../../../core/random.ts';
import { SupernetWeights } from '../../../core/supernet/weights.ts';

/**
 * A small network with every feature the forward pass handles: strided stem, an mbconv without expansion, SE,
 * residual blocks with a bottleneck limit (T < C), a 7×7 depthwise kernel (choices 3/5/7), a standalone dwconv,
 * a pointwise conv whose T exceeds its width, a conv after pooling and the classifier.
 */
export const smallSpecInput: NetworkSpecInput = {
  name: 'small-test',
  task: 'classification',
  input: { height: 16, width: 16, channels: 3 },
  widthLevels: 5,
  layers: [
    { type: 'conv', name: 'stem', filters: 8, kernel: 3, stride: 2, act: 'hswish', T: 8 },
    { type: 'mbconv', name: 'b1', expand: null, kernel: 3, stride: 1, out: 8, act: 'relu', se: 4 },
    { type: 'mbconv', name: 'b2', expand: 24, kernel: 7, stride: 1, out: 8, act: 'relu', se: 8, T: 4 },
    { type: 'mbconv', name: 'b3', expand: 32, kernel: 5, stride: 2, out: 16, act: 'hswish', se: null, T: 8 },
    { type: 'mbconv', name: 'b4', expand: 48, kernel: 3, stride: 1, out: 16, act: 'hswish', se: 12, T: 16 },
    { type: 'dwconv', name: 'dw5', kernel: 5, stride: 2, act: 'relu6' },
    { type: 'conv', name: 'pw5', filters: 24, kernel: 1, act: 'relu6', T: 32 },
    { type: 'gap', name: 'pool' },
    { type: 'conv', name: 'last', filters: 32, kernel: 1, act: 'hswish', bn: false, T: 16 },
    { type: 'fc', name: 'fc', units: 5, dropout: 0.2 },
  ],
};

export function smallSpec(): NetworkSpec {
  return parseNetworkSpec(smallSpecInput);
}

/** Weights with random BN statistics/affine params and biases, so BN and biases matter in comparisons. */
export function randomizedWeights(spec: NetworkSpec, seed: number): SupernetWeights {
  const weights = SupernetWeights.init(spec, seed);
  const rng = new Rng(seed + 1);
  for (const info of weights.layout) {
    const param = info.name.slice(info.layer.length + 1);
    if (param === 'kernel' || param === 'reduce' || param === 'expand') continue;
    const size = info.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      if (param === 'variance') data[i] = 0.5 + rng.next();
      else if (param === 'gamma') data[i] = 0.5 + rng.next();
      else data[i] = (rng.next() - 0.5) * 0.4;
    }
    const t = tf.tensor(data, info.shape);
    weights.get(info.name).assign(t);
    t.dispose();
  }
  return weights;
}

export function randomImages(n: number, h: number, w: number, c: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const data = new Float32Array(n * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor4d(data, [n, h, w, c]);
}

export function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0] as number);
}

export function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
    const scale = Math.max(maxAbs(a), 1e-12);
    return diff / scale;
  });
}
