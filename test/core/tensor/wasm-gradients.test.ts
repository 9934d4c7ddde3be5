import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../core/random.ts';
import {
  ADDED_WASM_KERNELS,
  isOurWasmKernel,
  REPLACED_WASM_KERNELS,
  registerWasmGradientKernels,
  ZERO_COPY_WASM_KERNELS,
} from '../../../core/tensor/wasm-gradients.ts';
import { randomHost, relativeError, tf, TOLERANCE, useWasmAndCpu, type HostTensor } from './compare-backends.ts';

type Fn = (...t: tf.Tensor[]) => tf.Tensor;
interface GradCase {
  name: string;
  shapes: number[][];
  f: Fn;
}

const T = (t: tf.Tensor | undefined): tf.Tensor => {
  if (t === undefined) throw new Error('missing input');
  return t;
};
const as4 = (t: tf.Tensor | undefined): tf.Tensor4D => T(t) as tf.Tensor4D;

/** Everything a small MobileNet-style training step differentiates through, each with all its inputs. */
const GRAD_CASES: GradCase[] = [
  { name: 'conv2d 3x3 s2 same', shapes: [[2, 9, 9, 3], [3, 3, 3, 8]], f: (x, w) => tf.conv2d(as4(x), as4(w), 2, 'same') },
  { name: 'conv2d 1x1 (pointwise)', shapes: [[2, 6, 6, 8], [1, 1, 8, 12]], f: (x, w) => tf.conv2d(as4(x), as4(w), 1, 'same') },
  { name: 'depthwiseConv2d 3x3 s1', shapes: [[2, 8, 8, 6], [3, 3, 6, 1]], f: (x, w) => tf.depthwiseConv2d(as4(x), as4(w), 1, 'same') },
  { name: 'depthwiseConv2d 5x5 s2', shapes: [[2, 9, 9, 6], [5, 5, 6, 1]], f: (x, w) => tf.depthwiseConv2d(as4(x), as4(w), 2, 'same') },
  {
    name: 'fused conv2d + bias + relu6',
    shapes: [[2, 6, 6, 4], [3, 3, 4, 5], [5]],
    f: (x, w, b) => tf.fused.conv2d({ x: as4(x), filter: as4(w), strides: 1, pad: 'same', bias: T(b), activation: 'relu6' }),
  },
  {
    name: 'fused depthwise + bias + relu',
    shapes: [[2, 8, 8, 4], [3, 3, 4, 1], [4]],
    f: (x, w, b) => tf.fused.depthwiseConv2d({ x: as4(x), filter: as4(w), strides: 2, pad: 'same', bias: T(b), activation: 'relu' }),
  },
  {
    name: 'batch norm from mean/variance/sub/mul/rsqrt',
    shapes: [[4, 5, 5, 6], [6], [6]],
    f: (x, gamma, beta) => {
      const { mean, variance } = tf.moments(T(x), [0, 1, 2]);
      return T(x).sub(mean).mul(tf.rsqrt(variance.add(1e-3))).mul(T(gamma)).add(T(beta));
    },
  },
  {
    name: 'tf.batchNorm (all parameters)',
    shapes: [[2, 4, 4, 3], [3], [3], [3], [3]],
    f: (x, m, v, o, s) => tf.batchNorm(T(x), T(m), tf.abs(T(v)).add(0.5), T(o), T(s), 1e-3),
  },
  { name: 'relu', shapes: [[2, 4, 4, 3]], f: (x) => tf.relu(T(x)) },
  { name: 'relu6', shapes: [[2, 4, 4, 3]], f: (x) => tf.relu6(T(x).mul(4)) },
  { name: 'hard-swish x·relu6(x+3)/6', shapes: [[2, 4, 4, 3]], f: (x) => T(x).mul(tf.relu6(T(x).mul(3).add(3))).div(6) },
  { name: 'sigmoid (squeeze-excite gate)', shapes: [[2, 4, 4, 3]], f: (x) => T(x).mul(tf.sigmoid(tf.mean(T(x), [1, 2], true))) },
  { name: 'avgPool', shapes: [[2, 8, 8, 3]], f: (x) => tf.avgPool(as4(x), 2, 2, 'valid') },
  { name: 'global average pool (mean)', shapes: [[2, 4, 4, 3]], f: (x) => tf.mean(T(x), [1, 2]) },
  { name: 'maxPool 3x3 s2 same', shapes: [[2, 8, 8, 3]], f: (x) => tf.maxPool(as4(x), 3, 2, 'same') },
  { name: 'maxPool 2x2 s2 valid', shapes: [[2, 6, 6, 3]], f: (x) => tf.maxPool(as4(x), 2, 2, 'valid') },
  { name: 'matMul + bias (dense)', shapes: [[4, 12], [12, 5], [5]], f: (x, w, b) => tf.matMul(T(x), T(w)).add(T(b)) },
  {
    name: 'fused matMul + bias + relu',
    shapes: [[4, 12], [12, 5], [5]],
    f: (x, w, b) => tf.fused.matMul({ a: T(x) as tf.Tensor2D, b: T(w) as tf.Tensor2D, bias: T(b), activation: 'relu' }),
  },
  {
    name: 'softmax cross entropy',
    shapes: [[4, 5]],
    f: (logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 3, 1, 4], 'int32'), 5), T(logits)),
  },
  { name: 'slice (superkernel crop)', shapes: [[5, 5, 4, 6]], f: (w) => tf.slice(T(w), [1, 1, 0, 0], [3, 3, 4, 6]) },
  { name: 'pad', shapes: [[2, 4, 4, 3]], f: (x) => tf.pad(T(x), [[0, 0], [1, 2], [2, 1], [0, 0]]) },
  { name: 'concat', shapes: [[2, 4, 4, 3], [2, 4, 4, 2]], f: (a, b) => tf.concat([T(a), T(b)], 3) },
  // resizeNearestNeighbor: the cpu backend's gradient is itself wrong for batch > 1; see
  // kernels/resize-nearest-neighbor-grad.test.ts, which checks against the forward pass instead.
  { name: 'resizeBilinear', shapes: [[2, 4, 4, 3]], f: (x) => tf.image.resizeBilinear(as4(x), [7, 7]) },
  { name: 'max', shapes: [[2, 4, 4, 3]], f: (x) => tf.max(T(x), [1, 2]) },
  {
    name: 'where (mask computed outside the gradient)',
    shapes: [[2, 4, 4, 3], [2, 4, 4, 3]],
    f: (a, b) => tf.where(tf.tensor(Array.from({ length: 96 }, (_, i) => i % 3 === 0), [2, 4, 4, 3], 'bool'), T(a), T(b)),
  },
  { name: 'gather (axis 0)', shapes: [[6, 4]], f: (x) => tf.gather(T(x), tf.tensor1d([4, 1, 4, 0], 'int32'), 0) },
  { name: 'gather (axis 3, channel selection)', shapes: [[2, 3, 3, 5]], f: (x) => tf.gather(T(x), tf.tensor1d([4, 0, 2], 'int32'), 3) },
  { name: 'mul by broadcast mask (CBC/OD style)', shapes: [[2, 4, 4, 6], [1, 1, 1, 6]], f: (x, m) => T(x).mul(tf.sigmoid(T(m))) },
];

/**
 * 20 SGD steps of conv(3x3, s2) → relu6 → depthwise(3x3) → relu → global mean → dense on horizontal vs vertical
 * stripes; returns the losses. Checks that no tensor outlives the steps.
 */
async function trainTinyNet(backend: 'cpu' | 'wasm'): Promise<number[]> {
  await tf.setBackend(backend);
  const rng = new Rng(42);
  const batch = 16;
  const size = 8;
  const images = new Float32Array(batch * size * size * 2);
  const labels: number[] = [];
  for (let n = 0; n < batch; n++) {
    const label = n % 2;
    labels.push(label);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const stripe = ((label === 0 ? y : x) % 2) * 2 - 1;
        for (let c = 0; c < 2; c++) images[((n * size + y) * size + x) * 2 + c] = stripe + 0.3 * rng.normal();
      }
    }
  }
  const xs = tf.tensor4d(images, [batch, size, size, 2]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
  const init = (shape: number[], scale: number): tf.Variable =>
    tf.variable(tf.tensor(randomHost(shape, rng).values.map((v) => v * scale), shape));
  const w1 = init([3, 3, 2, 8], 0.3) as tf.Variable<tf.Rank.R4>;
  const dw2 = init([3, 3, 8, 1], 0.3) as tf.Variable<tf.Rank.R4>;
  const w3 = init([8, 2], 0.3) as tf.Variable<tf.Rank.R2>;
  const optimizer = tf.train.sgd(0.2);
  const before = tf.memory().numTensors;
  const losses: number[] = [];
  for (let step = 0; step < 20; step++) {
    const loss = optimizer.minimize(() => {
      const h1 = tf.relu6(tf.conv2d(xs, w1, 2, 'same'));
      const h2 = tf.relu(tf.depthwiseConv2d(h1, dw2, 1, 'same'));
      return tf.losses.softmaxCrossEntropy(ys, tf.matMul(tf.mean(h2, [1, 2]), w3));
    }, true);
    if (loss === null) throw new Error('minimize returned no loss');
    losses.push(loss.dataSync()[0] ?? Number.NaN);
    loss.dispose();
  }
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xs, ys, w1, dw2, w3]);
  optimizer.dispose();
  return losses;
}

/** Weighted sum so that every output element gets a different upstream gradient. */
function scalarLoss(f: Fn): (...t: tf.Tensor[]) => tf.Scalar {
  return (...t) => {
    const y = f(...t);
    const weights = tf.sin(tf.range(0, y.size).reshape(y.shape).mul(0.37));
    return tf.sum(y.mul(weights));
  };
}

async function gradsOn(backend: 'cpu' | 'wasm', c: GradCase, inputs: HostTensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const gs = tf.tidy(() => tf.grads(scalarLoss(c.f))(inputs.map((h) => tf.tensor(h.values, h.shape))));
  const values = gs.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gs);
  return values;
}

describe('wasm gradient kernels', () => {
  beforeAll(useWasmAndCpu);

  it('registers each added and replaced kernel for wasm, idempotently', () => {
    registerWasmGradientKernels();
    registerWasmGradientKernels();
    for (const config of [...ADDED_WASM_KERNELS, ...REPLACED_WASM_KERNELS]) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }
    for (const name of ZERO_COPY_WASM_KERNELS) expect(isOurWasmKernel(name)).toBe(true);
    expect(isOurWasmKernel('Conv2D')).toBe(false);
    expect(REPLACED_WASM_KERNELS.map((k) => k.kernelName).sort()).toEqual([
      'Conv2DBackpropInput',
      'MaxPoolGrad',
      'ResizeNearestNeighborGrad',
    ]);
    expect(ADDED_WASM_KERNELS.map((k) => k.kernelName).sort()).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
    ]);
  });

  describe('tf.grads on wasm matches cpu for every op a MobileNet-style training step uses', () => {
    it.each(GRAD_CASES)('$name', async (c) => {
      const rng = new Rng(c.name.length * 7919);
      const inputs = c.shapes.map((s) => randomHost(s, rng));
      const reference = await gradsOn('cpu', c, inputs);
      const actual = await gradsOn('wasm', c, inputs);
      expect(actual).toHaveLength(c.shapes.length);
      actual.forEach((g, i) => {
        expect(relativeError(g, reference[i] ?? new Float32Array())).toBeLessThan(TOLERANCE);
      });
    });
  });

  it('zero-copy Identity/Cast keep values alive and still convert dtypes', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor1d([1.7, -2.2, 3.5]);
    const copy = tf.clone(x);
    const sameType = tf.cast(x, 'float32');
    x.dispose();
    expect(Array.from(copy.dataSync())).toEqual(Array.from(Float32Array.from([1.7, -2.2, 3.5])));
    expect(Array.from(sameType.dataSync())).toEqual(Array.from(copy.dataSync()));
    const asInt = tf.cast(copy, 'int32');
    expect(asInt.dtype).toBe('int32');
    expect(Array.from(asInt.dataSync())).toEqual([1, -2, 3]);
    const fromBool = tf.cast(tf.tensor1d([true, false], 'bool'), 'float32');
    expect(Array.from(fromBool.dataSync())).toEqual([1, 0]);
    tf.dispose([copy, sameType, asInt, fromBool]);
  });

  it('stridedSlice has no gradient in tfjs-core on any backend (use tf.slice); not a wasm gap', async () => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      const x = tf.ones([4, 4]);
      expect(() => tf.grad((t: tf.Tensor) => tf.sum(tf.stridedSlice(t, [0, 0], [4, 4], [2, 2])))(x))
        .toThrow(/gradient function not found for StridedSlice/);
      x.dispose();
    }
  });

  it('leaves no tensors behind (kernels run inside tidy)', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 9, 9, 4]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 8, 6]) as tf.Tensor4D;
    const dw = tf.randomNormal([5, 5, 4, 2]) as tf.Tensor4D;
    const ids = tf.tensor1d([1, 0, 1], 'int32');
    const step = (): void => {
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const y = tf.conv2d(tf.depthwiseConv2d(a as tf.Tensor4D, c as tf.Tensor4D, 2, 'same'), b as tf.Tensor4D, 1, 'valid');
        return tf.sum(tf.gather(y, ids, 3));
      })([x, w, dw]);
      gs.forEach((g) => g.dataSync());
      tf.dispose(gs);
    };
    step(); // first call may allocate backend-level caches
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, dw, ids]);
  });

  it('trains a 2-layer conv net on wasm: loss drops over 20 SGD steps, tracking the cpu backend', async () => {
    const wasmLosses = await trainTinyNet('wasm');
    const cpuLosses = await trainTinyNet('cpu');
    expect(wasmLosses.every(Number.isFinite)).toBe(true);
    const first = wasmLosses[0] ?? 0;
    const last = wasmLosses[wasmLosses.length - 1] ?? Number.POSITIVE_INFINITY;
    expect(last).toBeLessThan(first * 0.5);
    // Same data, same initial weights: the two backends' loss curves agree closely.
    expect(relativeError(Float32Array.from(wasmLosses), Float32Array.from(cpuLosses))).toBeLessThan(1e-3);
  });
});
