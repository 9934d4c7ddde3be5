import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadNetwork,
  minimalSubnet,
  randomSubnet,
  resolveNetwork,
  searchSpace,
  type NetworkSpec,
  type SubnetConfig,
} from '../../../core/arch/index.ts';
import { exportLayer, exportNetwork } from '../../../core/export/network.ts';
import { randomFoldedWeights } from '../../../core/export/random-weights.ts';
import { loadTfliteRuntime, type TfliteRuntime } from '../../../core/export/runtime/litert.ts';
import { readTfliteModel } from '../../../core/export/tflite/reader.ts';
import { Rng } from '../../../core/random.ts';
import { randomValues, structuredSubnet } from '../../support/export-cases.ts';
import { relativeError } from '../../support/relative-error.ts';
import { referenceForward, referenceLayer } from '../../support/reference-forward.ts';

let runtime: TfliteRuntime;
beforeAll(async () => {
  runtime = await loadTfliteRuntime();
});
afterAll(() => undefined);

async function compare(spec: NetworkSpec, subnet: SubnetConfig | undefined, seed: number): Promise<number> {
  const network = resolveNetwork(spec, subnet);
  const weights = randomFoldedWeights(network, seed);
  const bytes = exportNetwork(network, weights, { softmax: false });
  const { height, width, channels } = spec.input;
  const image = randomValues(height * width * channels, seed + 1);
  const model = await runtime.load(bytes);
  try {
    const [out] = await model.run([image]);
    const expected = referenceForward(network, weights, image);
    expect(out?.length).toBe(expected.length);
    return relativeError(out as Float32Array, expected);
  } finally {
    model.close();
  }
}

describe('TFLite export of sub-networks, run in the real TFLite runtime (LiteRT wasm)', () => {
  const small = ['mobilenet-v1-32', 'mobilenet-v2-32', 'mobilenet-v3-large-32', 'netadaptv2-latency-32', 'netadaptv2-macs-32', 'fastdepth-64'];

  it.each(small)('%s (full network) equals the reference forward pass within 1e-4', async (name) => {
    expect(await compare(loadNetwork(name), undefined, 11)).toBeLessThan(1e-4);
  });

  it('24 random sub-networks with removed layers/blocks, bottlenecks and 3x3 kernels from 5x5/7x7 match within 1e-4', async () => {
    const rng = new Rng(2024);
    const names = ['mobilenet-v3-large-32', 'netadaptv2-latency-32', 'mobilenet-v2-32', 'fastdepth-64'];
    let count = 0;
    let worst = 0;
    for (let i = 0; i < 24; i++) {
      const spec = loadNetwork(names[i % names.length] as string);
      const subnet = i % 6 === 5 ? minimalSubnet(searchSpace(spec)) : structuredSubnet(spec, rng);
      const network = resolveNetwork(spec, subnet);
      expect(network.layers.some((l) => l.removed)).toBe(true);
      worst = Math.max(worst, await compare(spec, subnet, 100 + i));
      count++;
    }
    console.log(`exported ${count} sub-networks; worst relative error vs reference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });

  it('a removed residual projection outputs the block input even when the block\'s other layers keep their filters (they are not run)', async () => {
    const spec = loadNetwork('mobilenet-v3-large-32');
    const space = searchSpace(spec);
    const config = randomSubnet(space, new Rng(1));
    space.layers.forEach((layer, i) => {
      if (layer.id === 'b3.project') config.levels[i] = 0;
      if (layer.unit === 'b3' && layer.role !== 'project') config.levels[i] = space.widthLevels - 1;
    });
    const project = resolveNetwork(spec, config).layers.find((l) => l.id === 'b3.project');
    expect(project?.residual).toBe(true);
    expect(project?.identity).toBe(true);
    const block = resolveNetwork(spec, config).layers.filter((l) => l.unit === 'b3');
    expect(block.every((l) => l.identity && l.macs === 0 && l.params === 0)).toBe(true);
    expect(block.some((l) => l.filters > 0)).toBe(true);
    expect(await compare(spec, config, 77)).toBeLessThan(1e-4);
  });

  it('produces deterministic bytes with TFL3, a description and named tensors', () => {
    const spec = loadNetwork('mobilenet-v3-large-32');
    const network = resolveNetwork(spec);
    const a = exportNetwork(network, randomFoldedWeights(network, 5));
    const b = exportNetwork(network, randomFoldedWeights(network, 5));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a.subarray(4, 8)).toString('latin1')).toBe('TFL3');
    const model = readTfliteModel(a);
    expect(model.description).toContain('mobilenet-v3-large-32');
    const names = model.subgraphs[0]?.tensors.map((t) => t.name) ?? [];
    expect(names).toContain('b3.dw/dw');
    expect(names).toContain('probabilities');
  });
});

describe('single-layer models for per-layer latency entries', () => {
  it('every layer type runs alone with the input/output shapes it has in the network, and matches the reference', async () => {
    const seen = new Set<string>();
    const rng = new Rng(9);
    for (const name of ['netadaptv2-latency-32', 'fastdepth-64']) {
      const spec = loadNetwork(name);
      const network = resolveNetwork(spec, structuredSubnet(spec, rng));
      const weights = randomFoldedWeights(network, 3);
      for (const layer of network.layers) {
        const kind = `${layer.op}${layer.residual ? '+res' : ''}${layer.bypassChannels > 0 && !layer.residual ? '+bypass' : ''}${layer.removed ? '+removed' : ''}`;
        if (seen.has(kind) || layer.identity) continue;
        seen.add(kind);
        const bytes = exportLayer(layer, weights);
        const model = await runtime.load(bytes);
        try {
          const i = layer.input;
          expect(model.inputs[0]?.shape).toEqual([1, i.height, i.width, i.channels]);
          const x = randomValues(i.height * i.width * i.channels, 4);
          const inputs = [x];
          let block;
          if (layer.residual && layer.blockInput) {
            const bi = layer.blockInput;
            expect(model.inputs[1]?.shape).toEqual([1, bi.height, bi.width, bi.channels]);
            const data = randomValues(bi.height * bi.width * bi.channels, 5);
            inputs.push(data);
            block = { h: bi.height, w: bi.width, c: bi.channels, data };
          }
          const [out] = await model.run(inputs);
          const o = layer.output;
          const expectedShape = layer.op === 'fc' ? [1, o.channels] : [1, o.height, o.width, o.channels];
          expect(model.outputs[0]?.shape).toEqual(expectedShape);
          const expected = referenceLayer(layer, weights, { h: i.height, w: i.width, c: i.channels, data: x }, block);
          expect(relativeError(out as Float32Array, expected)).toBeLessThan(1e-4);
        } finally {
          model.close();
        }
      }
    }
    for (const kind of ['conv', 'dwconv', 'se', 'gap', 'upsample', 'fc', 'conv+res', 'conv+bypass', 'dwconv+bypass']) {
      expect(seen, `layer kind ${kind}`).toContain(kind);
    }
  });
});
