import { beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, minimalSubnet, resolveNetwork, searchSpace, type NetworkSpec, type SubnetConfig } from '../../../../core/arch/index.ts';
import { exportOnnxNetwork, ONNX_INPUT, ONNX_OUTPUT, samePads, statisticsOutputs } from '../../../../core/export/onnx/network.ts';
import { randomFoldedWeights } from '../../../../core/export/random-weights.ts';
import { createOnnxSession, loadOnnxRuntime } from '../../../../core/export/runtime/onnxruntime.ts';
import { Rng } from '../../../../core/random.ts';
import type { ConvWeights } from '../../../../core/weights/folded.ts';
import { randomValues, structuredSubnet } from '../../../support/export-cases.ts';
import { relativeError } from '../../../support/relative-error.ts';
import { referenceForward } from '../../../support/reference-forward.ts';

// onnxruntime-node is a dependency: a runtime that does not load fails these tests, it never skips them.
beforeAll(async () => {
  await loadOnnxRuntime();
});

/** A batch of 3 images through the exported graph against the reference forward pass of each image. */
async function compare(spec: NetworkSpec, subnet: SubnetConfig | undefined, seed: number): Promise<number> {
  const network = resolveNetwork(spec, subnet);
  const weights = randomFoldedWeights(network, seed);
  const { height, width, channels } = spec.input;
  const size = height * width * channels;
  const images = randomValues(3 * size, seed + 1);
  const session = await createOnnxSession(exportOnnxNetwork(network, weights));
  try {
    const out = (await session.run({ [ONNX_INPUT]: { data: images, dims: [3, height, width, channels] } }))[ONNX_OUTPUT] as Float32Array;
    const expected = [0, 1, 2].map((i) => referenceForward(network, weights, images.subarray(i * size, (i + 1) * size)));
    const per = out.length / 3;
    expect(per).toBe(expected[0]?.length);
    return Math.max(...expected.map((e, i) => relativeError(out.subarray(i * per, (i + 1) * per), e)));
  } finally {
    session.dispose();
  }
}

describe('ONNX export (run in ONNX Runtime) against the reference forward pass', () => {
  it.each(['mobilenet-v3-demo-32', 'mobilenet-v1-32', 'mobilenet-v2-32', 'netadaptv2-latency-32', 'fastdepth-64'])('%s (full network, batch of 3) within 1e-4', async (name) => {
    expect(await compare(loadNetwork(name), undefined, 5)).toBeLessThan(1e-4);
  });

  it('12 sub-networks with removed layers/blocks (incl. residual ones), bottlenecks and cut kernels within 1e-4', async () => {
    const rng = new Rng(7);
    const names = ['mobilenet-v3-demo-32', 'mobilenet-v3-large-32', 'netadaptv2-latency-32', 'fastdepth-64'];
    let worst = 0;
    for (let i = 0; i < 12; i++) {
      const spec = loadNetwork(names[i % names.length] as string);
      const subnet = i % 6 === 5 ? minimalSubnet(searchSpace(spec)) : structuredSubnet(spec, rng);
      expect(resolveNetwork(spec, subnet).layers.some((l) => l.removed)).toBe(true);
      worst = Math.max(worst, await compare(spec, subnet, 40 + i));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('the calibration form outputs each BN layer\'s batch mean and biased variance', async () => {
    const spec = loadNetwork('mobilenet-v3-demo-32');
    const network = resolveNetwork(spec);
    const weights = randomFoldedWeights(network, 3);
    const stem = network.layers[0];
    if (!stem || (stem.op !== 'conv' && stem.op !== 'dwconv')) throw new Error('expected a conv stem');
    const m = stem.filters;
    const batchNorm = new Map([[stem.id, { gamma: new Float32Array(m).fill(1), beta: new Float32Array(m) }]]);
    const { height, width, channels } = spec.input;
    const n = 4;
    const images = randomValues(n * height * width * channels, 9);
    const session = await createOnnxSession(exportOnnxNetwork(network, weights, { batchNorm, epsilon: 1e-3 }));
    try {
      const names = statisticsOutputs(stem.id);
      const out = await session.run({ [ONNX_INPUT]: { data: images, dims: [n, height, width, channels] } }, [names.mean, names.variance]);
      // The stem conv by hand ('same' padding, stride, kernel HWIO; the bias is left out in the calibration form).
      const w = weights.get(stem.id) as ConvWeights;
      const k = stem.kernel;
      const s = stem.stride;
      const [top, left] = samePads(height, width, k, s);
      const oh = stem.output.height;
      const ow = stem.output.width;
      const sums = new Float64Array(m);
      const squares = new Float64Array(m);
      for (let b = 0; b < n; b++) {
        for (let y = 0; y < oh; y++) {
          for (let x = 0; x < ow; x++) {
            for (let o = 0; o < m; o++) {
              let acc = 0;
              for (let dy = 0; dy < k; dy++) {
                for (let dx = 0; dx < k; dx++) {
                  const iy = y * s + dy - (top as number);
                  const ix = x * s + dx - (left as number);
                  if (iy < 0 || ix < 0 || iy >= height || ix >= width) continue;
                  for (let c = 0; c < channels; c++) {
                    acc += (images[((b * height + iy) * width + ix) * channels + c] as number) * (w.kernel[((dy * k + dx) * channels + c) * m + o] as number);
                  }
                }
              }
              sums[o] = (sums[o] as number) + acc;
              squares[o] = (squares[o] as number) + acc * acc;
            }
          }
        }
      }
      const count = n * oh * ow;
      const mean = Float32Array.from(sums, (v) => v / count);
      const variance = Float32Array.from(squares, (v, o) => v / count - (mean[o] as number) ** 2);
      expect(relativeError(out[names.mean] as Float32Array, mean)).toBeLessThan(1e-4);
      expect(relativeError(out[names.variance] as Float32Array, variance)).toBeLessThan(1e-3);
    } finally {
      session.dispose();
    }
  });
});
