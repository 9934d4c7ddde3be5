import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork, randomSubnet, resolveNetwork, searchSpace, zooNames, type NetworkSpec, type SubnetConfig } from '../../../core/arch/index.ts';
import { openDataset } from '../../../core/data/open.ts';
import { exportLayer, exportNetwork, withLayerInputRanges } from '../../../core/export/network.ts';
import { loadTfliteRuntime, type TfliteRuntime } from '../../../core/export/runtime/litert.ts';
import { dequantizeValue, quantizePerChannel, quantizeValue, type AffineParams } from '../../../core/export/tflite/quantize-math.ts';
import { readTfliteModel, type SubgraphInfo } from '../../../core/export/tflite/reader.ts';
import { Rng } from '../../../core/random.ts';
import { calibrateActivationRanges, calibrationBatches } from '../../../core/supernet/calibrate.ts';
import { materialize } from '../../../core/supernet/materialize.ts';
import type { FoldedWeights } from '../../../core/weights/folded.ts';
import { useTestBackend } from '../supernet/backend.ts';
import { randomizedWeights } from '../supernet/fixtures.ts';

/**
 * int8 export of whole networks and sub-networks (core/export/network.ts with core/supernet/calibrate.ts ranges),
 * run in LiteRT. What is checked, and the error stated:
 * - the whole int8 model loads and runs, and every tensor between its float edges is int8 (int32 for biases and
 *   shape operands), weights per output channel;
 * - every layer's int8 model, fed a calibration image's float activations, equals the float layer computed on the
 *   same int8 input values with the same int8 weights (and saturated to what the int8 output can hold) to within
 *   1 step (LSB) of its output's scale for layers without int8 intermediates (conv / depthwise / fc with fused or
 *   no activation, pooling, upsampling), 4 steps for layers that round one intermediate (hard-swish
 *   pre-activations, bypass concatenation, residual additions), and 16 steps for squeeze-excite, whose four int8
 *   intermediates feed a gate with steps of 1/255 that multiplies inputs up to twice the output's range (measured
 *   worst over the ten networks and 20 sub-networks: 0.6, 2.2 and 12.5 steps).
 * Whole-network outputs are not compared with the float network here: with untrained weights these networks are
 * chaotic (a 2% input perturbation changes MobileNetV1-32's float output by 70%), so any rounding is amplified
 * layer after layer. bench/int8.ts measures top-1 agreement with trained weights instead.
 */
let runtime: TfliteRuntime;
beforeAll(async () => {
  await useTestBackend();
  runtime = await loadTfliteRuntime();
});

interface LayerCheck {
  plainWorstLsb: number;
  compoundWorstLsb: number;
  seWorstLsb: number;
  layers: number;
}

const SMALL = zooNames().filter((name) => /-(32|64)$/.test(name));
const disposables: { dispose(): void }[] = [];
afterAll(() => disposables.forEach((d) => d.dispose()));

async function datasetFor(spec: NetworkSpec) {
  const size = spec.input.height;
  return openDataset(spec.task === 'depth' ? `synthetic-depth?size=${size}&trainSize=64&heldoutSize=4` : `synthetic?size=${size}&trainSize=64&heldoutSize=4`);
}

/** The float weights rounded to what the int8 model holds (symmetric, per output channel = the last axis here). */
function int8RoundedWeights(weights: FoldedWeights): FoldedWeights {
  const rounded = (values: Float32Array, channels: number): Float32Array => {
    const q = quantizePerChannel(values, [values.length / channels, channels], 1);
    return Float32Array.from(q.data, (v, i) => v * (q.scales[i % channels] as number));
  };
  const out: FoldedWeights = new Map();
  for (const [id, w] of weights) {
    if (w.kind === 'se') out.set(id, { ...w, reduce: rounded(w.reduce, w.reduceBias.length), expand: rounded(w.expand, w.expandBias.length) });
    else out.set(id, { ...w, kernel: rounded(w.kernel, w.bias.length) });
  }
  return out;
}

function paramsOf(sg: SubgraphInfo, tensor: number): AffineParams {
  const q = sg.tensors[tensor]?.quantization;
  if (!q) throw new Error(`tensor ${tensor} is not quantized`);
  return { scale: q.scale[0] as number, zeroPoint: q.zeroPoint[0] as number };
}

function expectInt8Inside(sg: SubgraphInfo): void {
  const edges = new Set([...sg.inputs, ...sg.outputs]);
  for (const op of sg.operators) {
    if (op.opcode === 'SOFTMAX' || op.opcode === 'DEQUANTIZE') op.outputs.forEach((o) => edges.add(o));
  }
  for (const t of sg.tensors) {
    if (edges.has(t.index)) continue;
    expect(['int8', 'int32'], t.name).toContain(t.type);
    if (t.name.endsWith('/weights')) expect(t.quantization?.scale.length, t.name).toBe(t.shape[t.name.endsWith('dw/weights') ? 3 : 0]);
  }
}

async function checkNetwork(spec: NetworkSpec, config: SubnetConfig | undefined, seed: number): Promise<LayerCheck> {
  const dataset = await datasetFor(spec);
  const weights = randomizedWeights(spec, seed);
  const slim = materialize(weights, config);
  const calibration = calibrationBatches(dataset, 16, { seed });
  disposables.push(weights, slim, ...calibration);
  const ranges = calibrateActivationRanges(slim, calibration, { method: 'minmax' });
  const folded = slim.foldedWeights();
  const network = resolveNetwork(spec, config);

  const whole = exportNetwork(network, folded, { quantization: { ranges } });
  expectInt8Inside(readTfliteModel(whole).subgraphs[0] as SubgraphInfo);
  const image = calibration[0]!.slice([0, 0, 0, 0], [1, -1, -1, -1]);
  disposables.push(image);
  const imageData = image.dataSync() as Float32Array;
  const model = await runtime.load(whole);
  try {
    const [out] = await model.run([imageData]);
    expect(out?.every(Number.isFinite)).toBe(true);
  } finally {
    model.close();
  }

  const outputs = new Map<string, Float32Array>();
  tf.tidy(() => {
    slim.predict(image, { trace: (id, t) => outputs.set(id, Float32Array.from(t.dataSync() as Float32Array)) });
  });
  const all = withLayerInputRanges(network, ranges);
  const rounded = int8RoundedWeights(folded);
  const check: LayerCheck = { plainWorstLsb: 0, compoundWorstLsb: 0, seWorstLsb: 0, layers: 0 };
  let previous = imageData;
  let block = imageData;
  let unit = -1;
  for (const layer of network.layers) {
    if (layer.unitIndex !== unit) {
      unit = layer.unitIndex;
      block = previous;
    }
    const inputs = layer.residual && layer.blockInput ? [previous, block] : [previous];
    previous = outputs.get(layer.id) as Float32Array;
    if (layer.identity) continue;
    const int8Bytes = exportLayer(layer, folded, undefined, { ranges: all });
    const sg = readTfliteModel(int8Bytes).subgraphs[0] as SubgraphInfo;
    // What the int8 model's QUANTIZE ops make of the float inputs, and the scale of its (dequantized) output.
    const quantizeOps = sg.operators.filter((op) => op.opcode === 'QUANTIZE');
    const roundedInputs = inputs.map((x, i) => {
      const p = paramsOf(sg, quantizeOps[i]?.outputs[0] as number);
      return x.map((v) => dequantizeValue(quantizeValue(v, p), p));
    });
    const dequantize = sg.operators.find((op) => op.opcode === 'DEQUANTIZE');
    const out = paramsOf(sg, dequantize?.inputs[0] as number);
    // The int8 output can only hold [q_min, q_max]: values the rounding pushes past the calibrated range saturate.
    const representable = (v: number): number => Math.min(dequantizeValue(127, out), Math.max(dequantizeValue(-128, out), v));
    const int8 = await runtime.load(int8Bytes);
    const float = await runtime.load(exportLayer(layer, rounded));
    try {
      const [got] = await int8.run(inputs);
      const [expected] = await float.run(roundedInputs);
      let worst = 0;
      (expected as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(representable(v) - ((got as Float32Array)[i] as number)))));
      const lsb = worst / out.scale;
      if (layer.op === 'se') check.seWorstLsb = Math.max(check.seWorstLsb, lsb);
      else if (layer.act === 'hswish' || layer.residual || layer.bypassChannels > 0) check.compoundWorstLsb = Math.max(check.compoundWorstLsb, lsb);
      else check.plainWorstLsb = Math.max(check.plainWorstLsb, lsb);
      check.layers++;
    } finally {
      int8.close();
      float.close();
    }
  }
  return check;
}

function describeCheck(c: LayerCheck): string {
  return `${c.plainWorstLsb.toFixed(2)} LSB plain, ${c.compoundWorstLsb.toFixed(2)} with one int8 intermediate, ${c.seWorstLsb.toFixed(2)} SE`;
}

function expectWithinBounds(name: string, check: LayerCheck): void {
  expect(check.layers, name).toBeGreaterThan(0);
  expect(check.plainWorstLsb, `${name}: layers without int8 intermediates`).toBeLessThanOrEqual(1);
  expect(check.compoundWorstLsb, `${name}: layers with one int8 intermediate`).toBeLessThanOrEqual(4);
  expect(check.seWorstLsb, `${name}: squeeze-excite layers`).toBeLessThanOrEqual(16);
}

describe('int8 export of whole networks, run in LiteRT', () => {
  it.each(SMALL)('%s: runs, int8 inside, every layer within its stated error', async (name) => {
    const check = await checkNetwork(loadNetwork(name), undefined, 5);
    console.log(`${name}: ${check.layers} layers, worst ${describeCheck(check)}`);
    expectWithinBounds(name, check);
  });

  it('20 random sub-networks (removed layers, bypass channels, smaller kernels) likewise', async () => {
    const rng = new Rng(21);
    const names = ['netadaptv2-latency-32', 'mobilenet-v3-demo-cbc-32', 'mobilenet-v2-32', 'fastdepth-64', 'mobilenet-v3-demo-deep-cbc-32'];
    const worst: LayerCheck = { plainWorstLsb: 0, compoundWorstLsb: 0, seWorstLsb: 0, layers: 0 };
    let removed = 0;
    for (let i = 0; i < 20; i++) {
      const spec = loadNetwork(names[i % names.length] as string);
      const config = randomSubnet(searchSpace(spec), rng);
      removed += resolveNetwork(spec, config).layers.filter((l) => l.removed).length;
      const check = await checkNetwork(spec, config, 30 + i);
      expectWithinBounds(`${spec.name} sub-network ${i}`, check);
      worst.plainWorstLsb = Math.max(worst.plainWorstLsb, check.plainWorstLsb);
      worst.compoundWorstLsb = Math.max(worst.compoundWorstLsb, check.compoundWorstLsb);
      worst.seWorstLsb = Math.max(worst.seWorstLsb, check.seWorstLsb);
      worst.layers += check.layers;
    }
    console.log(`20 int8 sub-networks (${worst.layers} layers checked, ${removed} removed): worst ${describeCheck(worst)}`);
    expect(removed).toBeGreaterThan(0);
  });
});
