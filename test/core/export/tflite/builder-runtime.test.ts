import { beforeAll, describe, expect, it } from 'vitest';
import { loadTfliteRuntime, type TfliteRuntime } from '../../../../core/export/runtime/litert.ts';
import { TfliteModelBuilder, type TensorHandle } from '../../../../core/export/tflite/builder.ts';
import { Rng } from '../../../../core/random.ts';
import * as ref from '../reference-ops.ts';
import { expectClose, randomArray } from '../test-helpers.ts';

/**
 * Every operator the builder writes, run in the real TFLite runtime (LiteRT wasm + XNNPACK) and compared with the
 * reference loops in reference-ops.ts.
 */
let runtime: TfliteRuntime;
beforeAll(async () => {
  runtime = await loadTfliteRuntime();
});

interface Built {
  readonly bytes: Uint8Array;
  readonly outputs: readonly TensorHandle[];
}

function build(inputShapes: readonly (readonly number[])[], body: (m: TfliteModelBuilder, xs: TensorHandle[]) => TensorHandle[]): Built {
  const m = new TfliteModelBuilder({ description: 'operator test' });
  const xs = inputShapes.map((shape, i) => m.input(`input_${i}`, shape));
  const outputs = body(m, xs);
  outputs.forEach((t) => m.output(t));
  return { bytes: m.finish(), outputs };
}

/** Builds, runs in the runtime, checks output shapes against the builder's inference, returns the outputs. */
async function run(
  inputs: readonly ref.Tensor[],
  body: (m: TfliteModelBuilder, xs: TensorHandle[]) => TensorHandle[],
): Promise<Float32Array[]> {
  const { bytes, outputs } = build(
    inputs.map((x) => x.shape),
    body,
  );
  const model = await runtime.load(bytes);
  try {
    expect(model.outputs.map((o) => o.shape)).toEqual(outputs.map((o) => [...o.shape]));
    return await model.run(inputs.map((x) => x.data));
  } finally {
    model.close();
  }
}

function randomTensor(rng: Rng, shape: readonly number[], scale = 1): ref.Tensor {
  return { data: randomArray(rng, ref.size(shape), scale), shape };
}

const acts = ['none', 'relu', 'relu6'] as const;

describe('CONV_2D', () => {
  // SAME with stride 2 on odd and even sizes and odd/even kernels (TFLite pads the extra row/column at the end),
  // VALID, stride 1, non-square input.
  const cases = [
    { h: 7, w: 7, k: 3, s: 2, padding: 'same' },
    { h: 8, w: 8, k: 3, s: 2, padding: 'same' },
    { h: 7, w: 8, k: 2, s: 2, padding: 'same' },
    { h: 6, w: 5, k: 5, s: 2, padding: 'same' },
    { h: 9, w: 6, k: 3, s: 1, padding: 'same' },
    { h: 8, w: 7, k: 3, s: 2, padding: 'valid' },
    { h: 5, w: 5, k: 1, s: 2, padding: 'same' },
  ] as const;
  for (const [i, c] of cases.entries()) {
    const act = acts[i % acts.length] ?? 'none';
    it(`${c.h}x${c.w} kernel ${c.k} stride ${c.s} ${c.padding} ${act}`, async () => {
      const rng = new Rng(100 + i);
      const inC = 3;
      const outC = 4;
      const x = randomTensor(rng, [1, c.h, c.w, inC], 3);
      const weights = randomArray(rng, outC * c.k * c.k * inC);
      const bias = randomArray(rng, outC);
      const [y] = await run([x], (m, [input]) => [
        m.conv2d(input as TensorHandle, {
          weights,
          bias,
          outChannels: outC,
          kernelSize: c.k,
          stride: c.s,
          padding: c.padding,
          activation: act,
        }),
      ]);
      const params = { kernel: [c.k, c.k], stride: [c.s, c.s], padding: c.padding } as const;
      expectClose(y, ref.conv2d(x, weights, bias, outC, params, act).data);
    });
  }

  it('without a bias (written as zeros) and a batch of 2', async () => {
    const rng = new Rng(7);
    const x = randomTensor(rng, [2, 5, 6, 2]);
    const weights = randomArray(rng, 3 * 3 * 3 * 2);
    const [y] = await run([x], (m, [input]) => [
      m.conv2d(input as TensorHandle, { weights, outChannels: 3, kernelSize: 3, stride: 2 }),
    ]);
    const params = { kernel: [3, 3], stride: [2, 2], padding: 'same' } as const;
    expectClose(y, ref.conv2d(x, weights, new Float32Array(3), 3, params, 'none').data);
  });

  it('rectangular kernel and stride', async () => {
    const rng = new Rng(8);
    const x = randomTensor(rng, [1, 7, 6, 2]);
    const weights = randomArray(rng, 3 * 3 * 1 * 2);
    const bias = randomArray(rng, 3);
    const [y] = await run([x], (m, [input]) => [
      m.conv2d(input as TensorHandle, { weights, bias, outChannels: 3, kernelSize: [3, 1], stride: [2, 1] }),
    ]);
    const params = { kernel: [3, 1], stride: [2, 1], padding: 'same' } as const;
    expectClose(y, ref.conv2d(x, weights, bias, 3, params, 'none').data);
  });
});

describe('DEPTHWISE_CONV_2D', () => {
  const cases = [
    { h: 7, w: 7, k: 3, s: 2, padding: 'same' },
    { h: 8, w: 8, k: 5, s: 2, padding: 'same' },
    { h: 6, w: 9, k: 3, s: 1, padding: 'same' },
    { h: 9, w: 8, k: 3, s: 2, padding: 'valid' },
    { h: 10, w: 10, k: 7, s: 2, padding: 'same' },
  ] as const;
  for (const [i, c] of cases.entries()) {
    const act = acts[i % acts.length] ?? 'none';
    it(`${c.h}x${c.w} kernel ${c.k} stride ${c.s} ${c.padding} ${act}`, async () => {
      const rng = new Rng(200 + i);
      const ch = 5;
      const x = randomTensor(rng, [1, c.h, c.w, ch], 3);
      const weights = randomArray(rng, c.k * c.k * ch);
      const bias = randomArray(rng, ch);
      const [y] = await run([x], (m, [input]) => [
        m.depthwiseConv2d(input as TensorHandle, {
          weights,
          bias,
          kernelSize: c.k,
          stride: c.s,
          padding: c.padding,
          activation: act,
        }),
      ]);
      const params = { kernel: [c.k, c.k], stride: [c.s, c.s], padding: c.padding } as const;
      expectClose(y, ref.depthwiseConv2d(x, weights, bias, params, act).data);
    });
  }
});

describe('pooling', () => {
  const cases = [
    { kind: 'avg', h: 7, k: 3, s: 2, padding: 'same' },
    { kind: 'avg', h: 8, k: 2, s: 2, padding: 'valid' },
    { kind: 'avg', h: 7, k: 7, s: 1, padding: 'valid' },
    { kind: 'max', h: 7, k: 3, s: 2, padding: 'same' },
    { kind: 'max', h: 6, k: 2, s: 2, padding: 'valid' },
  ] as const;
  for (const [i, c] of cases.entries()) {
    it(`${c.kind} pool ${c.h}x${c.h} filter ${c.k} stride ${c.s} ${c.padding}`, async () => {
      const rng = new Rng(300 + i);
      const x = randomTensor(rng, [1, c.h, c.h, 3]);
      const [y] = await run([x], (m, [input]) => {
        const o = { filterSize: c.k, stride: c.s, padding: c.padding } as const;
        return [c.kind === 'avg' ? m.averagePool2d(input as TensorHandle, o) : m.maxPool2d(input as TensorHandle, o)];
      });
      const params = { kernel: [c.k, c.k], stride: [c.s, c.s], padding: c.padding } as const;
      expectClose(y, ref.pool2d(x, params, c.kind, 'none').data);
    });
  }
});

describe('element-wise', () => {
  it('HARD_SWISH over [-5, 5] (all three pieces)', async () => {
    const x = randomTensor(new Rng(1), [1, 4, 4, 8], 5);
    const [y] = await run([x], (m, [input]) => [m.hardSwish(input as TensorHandle)]);
    expectClose(y, ref.map(x, ref.hardSwish).data);
  });

  it('LOGISTIC, RELU and RELU6 as separate outputs', async () => {
    const x = randomTensor(new Rng(2), [1, 3, 3, 4], 8);
    const [sig, relu, relu6] = await run([x], (m, [input]) => {
      const t = input as TensorHandle;
      return [m.logistic(t), m.relu(t), m.relu6(t)];
    });
    expectClose(sig, ref.map(x, ref.logistic).data);
    expectClose(relu, ref.map(x, (v) => Math.max(0, v)).data);
    expectClose(relu6, ref.map(x, (v) => Math.min(6, Math.max(0, v))).data);
  });

  for (const act of acts) {
    it(`ADD with fused ${act}`, async () => {
      const rng = new Rng(10);
      const a = randomTensor(rng, [1, 4, 5, 3], 5);
      const b = randomTensor(rng, [1, 4, 5, 3], 5);
      const [y] = await run([a, b], (m, [x0, x1]) => [
        m.add(x0 as TensorHandle, x1 as TensorHandle, { activation: act }),
      ]);
      expectClose(y, ref.broadcastBinary(a, b, (p, q) => p + q, act).data);
    });
  }

  it('ADD broadcasting a per-channel constant', async () => {
    const rng = new Rng(11);
    const a = randomTensor(rng, [1, 3, 3, 4]);
    const c = randomArray(rng, 4);
    const [y] = await run([a], (m, [x]) => [m.add(x as TensorHandle, m.constant('shift', [4], c))]);
    expectClose(y, ref.broadcastBinary(a, { data: c, shape: [4] }, (p, q) => p + q, 'none').data);
  });

  it('MUL, same shape and squeeze-excite broadcast [1,H,W,C] x [1,1,1,C]', async () => {
    const rng = new Rng(12);
    const a = randomTensor(rng, [1, 4, 4, 6]);
    const b = randomTensor(rng, [1, 4, 4, 6]);
    const gate = randomTensor(rng, [1, 1, 1, 6]);
    const [same, excite] = await run([a, b, gate], (m, [x0, x1, g]) => [
      m.mul(x0 as TensorHandle, x1 as TensorHandle),
      m.mul(x0 as TensorHandle, g as TensorHandle),
    ]);
    expectClose(same, ref.broadcastBinary(a, b, (p, q) => p * q, 'none').data);
    expectClose(excite, ref.broadcastBinary(a, gate, (p, q) => p * q, 'none').data);
  });
});

describe('reductions, fully connected and softmax', () => {
  it('MEAN over H and W, keep_dims true and false', async () => {
    const x = randomTensor(new Rng(20), [1, 5, 6, 7]);
    const [kept, dropped] = await run([x], (m, [input]) => [
      m.mean(input as TensorHandle, [1, 2], true),
      m.mean(input as TensorHandle, [1, 2], false),
    ]);
    expectClose(kept, ref.mean(x, [1, 2], true).data);
    expectClose(dropped, ref.mean(x, [1, 2], false).data);
  });

  it('FULLY_CONNECTED from [1, C] with RELU and from a [1,1,1,C] tensor', async () => {
    const rng = new Rng(21);
    const x2 = randomTensor(rng, [1, 16]);
    const x4 = randomTensor(rng, [1, 1, 1, 16]);
    const weights = randomArray(rng, 10 * 16);
    const bias = randomArray(rng, 10);
    const [y2, y4] = await run([x2, x4], (m, [a, b]) => [
      m.fullyConnected(a as TensorHandle, { weights, bias, outUnits: 10, activation: 'relu' }),
      m.fullyConnected(b as TensorHandle, { weights, bias, outUnits: 10 }),
    ]);
    expectClose(y2, ref.fullyConnected(x2, weights, bias, 10, 'relu').data);
    expectClose(y4, ref.fullyConnected(x4, weights, bias, 10, 'none').data);
  });

  it('SOFTMAX with beta 1 and beta 0.5 over rows', async () => {
    const x = randomTensor(new Rng(22), [3, 10], 4);
    const [y1, yHalf] = await run([x], (m, [input]) => [
      m.softmax(input as TensorHandle),
      m.softmax(input as TensorHandle, { beta: 0.5 }),
    ]);
    expectClose(y1, ref.softmax(x, 1).data);
    expectClose(yHalf, ref.softmax(x, 0.5).data);
  });
});

describe('shape operators', () => {
  it('RESHAPE (explicit and with -1)', async () => {
    const x = randomTensor(new Rng(30), [1, 2, 3, 4]);
    const [a, b] = await run([x], (m, [input]) => [
      m.reshape(input as TensorHandle, [1, 24]),
      m.reshape(input as TensorHandle, [2, -1, 4]),
    ]);
    expectClose(a, x.data);
    expectClose(b, x.data);
  });

  it('CONCATENATION on channels (negative axis) and on height', async () => {
    const rng = new Rng(31);
    const a = randomTensor(rng, [1, 3, 4, 2]);
    const b = randomTensor(rng, [1, 3, 4, 5]);
    const c = randomTensor(rng, [1, 2, 4, 2]);
    const [channels, height] = await run([a, b, c], (m, [x0, x1, x2]) => [
      m.concat([x0 as TensorHandle, x1 as TensorHandle], -1),
      m.concat([x0 as TensorHandle, x2 as TensorHandle], 1),
    ]);
    expectClose(channels, ref.concat([a, b], 3).data);
    expectClose(height, ref.concat([a, c], 1).data);
  });

  it('SLICE with an explicit size and with -1', async () => {
    const x = randomTensor(new Rng(32), [1, 6, 5, 8]);
    const [a, b] = await run([x], (m, [input]) => [
      m.slice(input as TensorHandle, [0, 1, 2, 3], [1, 4, 2, 5]),
      m.slice(input as TensorHandle, [0, 2, 0, 4], [-1, -1, -1, -1]),
    ]);
    expectClose(a, ref.stridedGather(x, [0, 1, 2, 3], [1, 1, 1, 1], [1, 4, 2, 5]).data);
    expectClose(b, ref.stridedGather(x, [0, 2, 0, 4], [1, 1, 1, 1], [1, 4, 5, 4]).data);
  });

  it('STRIDED_SLICE with strides, negative begin and begin/end masks', async () => {
    const x = randomTensor(new Rng(33), [1, 7, 6, 8]);
    const [a, b] = await run([x], (m, [input]) => [
      m.stridedSlice(input as TensorHandle, [0, 1, 0, 2], [1, 7, 6, 8], [1, 2, 2, 3]),
      m.stridedSlice(input as TensorHandle, [0, -4, 3, 0], [0, 0, 0, 4], [1, 1, 1, 1], { beginMask: 0b0001, endMask: 0b0111 }),
    ]);
    expectClose(a, ref.stridedGather(x, [0, 1, 0, 2], [1, 2, 2, 3], [1, 3, 3, 2]).data);
    expectClose(b, ref.stridedGather(x, [0, 3, 3, 0], [1, 1, 1, 1], [1, 4, 3, 4]).data);
  });

  it('PAD with asymmetric paddings', async () => {
    const x = randomTensor(new Rng(34), [1, 3, 4, 2]);
    const paddings = [[0, 0], [1, 2], [0, 3], [1, 0]] as const;
    const [y] = await run([x], (m, [input]) => [m.pad(input as TensorHandle, paddings)]);
    expectClose(y, ref.pad(x, paddings).data);
  });

  for (const [h, w, outH, outW] of [
    [3, 4, 6, 8],
    [3, 3, 5, 7],
    [8, 6, 4, 3],
  ] as const) {
    it(`RESIZE_NEAREST_NEIGHBOR ${h}x${w} -> ${outH}x${outW}`, async () => {
      const x = randomTensor(new Rng(35 + h), [1, h, w, 3]);
      const [y] = await run([x], (m, [input]) => [m.resizeNearest(input as TensorHandle, [outH, outW])]);
      expectClose(y, ref.resizeNearest(x, outH, outW).data);
    });
  }
});

describe('a small chained network', () => {
  it('conv+relu6 -> depthwise -> hard-swish -> mean -> fc -> softmax', async () => {
    const rng = new Rng(99);
    const x = randomTensor(rng, [1, 15, 15, 3], 2);
    const convW = randomArray(rng, 8 * 3 * 3 * 3, 0.5);
    const convB = randomArray(rng, 8, 0.1);
    const dwW = randomArray(rng, 3 * 3 * 8, 0.5);
    const dwB = randomArray(rng, 8, 0.1);
    const fcW = randomArray(rng, 5 * 8);
    const fcB = randomArray(rng, 5, 0.1);
    const [probs] = await run([x], (m, [input]) => {
      let t = m.conv2d(input as TensorHandle, {
        weights: convW, bias: convB, outChannels: 8, kernelSize: 3, stride: 2, activation: 'relu6', name: 'stem',
      });
      t = m.depthwiseConv2d(t, { weights: dwW, bias: dwB, kernelSize: 3, stride: 2, name: 'block1/dw' });
      t = m.hardSwish(t, { name: 'block1/hswish' });
      expect(t.shape).toEqual([1, 4, 4, 8]);
      t = m.mean(t, [1, 2], false, { name: 'pool' });
      t = m.fullyConnected(t, { weights: fcW, bias: fcB, outUnits: 5, name: 'classifier' });
      return [m.softmax(t, { name: 'probs' })];
    });
    const p3 = { kernel: [3, 3], stride: [2, 2], padding: 'same' } as const;
    let t = ref.conv2d(x, convW, convB, 8, p3, 'relu6');
    t = ref.depthwiseConv2d(t, dwW, dwB, p3, 'none');
    t = ref.map(t, ref.hardSwish);
    t = ref.mean(t, [1, 2], false);
    t = ref.fullyConnected(t, fcW, fcB, 5, 'none');
    const expected = ref.softmax(t, 1).data;
    expectClose(probs, expected);
    expect((probs as Float32Array).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
  });
});
