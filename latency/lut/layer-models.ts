/** The single-layer .tflite model measured for one latency-table entry (deterministic bytes per signature). */
import type { ResolvedLayer } from '../../core/arch/layers.ts';
import { invokeOverheadSignature, layerSignature, parseSignature } from '../../core/arch/signature.ts';
import { TfliteModelBuilder } from '../../core/export/tflite/builder.ts';
import { quantizeModel } from '../../core/export/tflite/quantize.ts';
import { serializeTfliteModel } from '../../core/export/tflite/serialize.ts';
import { exportLayer, NOMINAL_RANGES } from '../../core/export/network.ts';
import { randomLayerWeights } from '../../core/export/random-weights.ts';
import { mixSeed, Rng } from '../../core/random.ts';
import type { FoldedWeights } from '../../core/weights/folded.ts';
import type { ModelToMeasure } from '../profiler.ts';
import type { ModelDtype } from '../store/runtime-options.ts';

function seedOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = mixSeed(h, text.charCodeAt(i));
  return h;
}

/**
 * The layer alone with random weights. int8: quantized with nominal ranges (the int8 operators and shapes of the
 * calibrated model; scales do not change an int8 kernel's work), float input and output: the QUANTIZE of its input
 * is cancelled by the int8 null model below, and the DEQUANTIZE of its output telescopes over a chain of layers
 * (layer i's output is layer i+1's input) into the per-model constant that validation fits.
 */
export function layerModel(layer: ResolvedLayer, dtype: ModelDtype = 'float32'): ModelToMeasure {
  const signature = layerSignature(layer);
  if (signature === null) throw new Error(`layer ${layer.id} does no work and has no latency entry`);
  const weights: FoldedWeights = new Map();
  const w = randomLayerWeights(layer, new Rng(seedOf(signature)));
  if (w) weights.set(layer.id, w);
  const quantization = dtype === 'int8' ? { ranges: NOMINAL_RANGES } : undefined;
  const description = `NetAdapt Studio latency entry ${signature}${dtype === 'int8' ? ' (int8)' : ''}`;
  return { key: signature, bytes: exportLayer(layer, weights, description, quantization), macs: layer.macs };
}

/** The null model of a layer entry's input shape (see invokeOverheadSignature); int8: QUANTIZE, RESHAPE, DEQUANTIZE. */
export function invokeOverheadModel(layerSignatureText: string, dtype: ModelDtype = 'float32'): ModelToMeasure {
  const key = invokeOverheadSignature(layerSignatureText);
  const dims = (parseSignature(key).in ?? '').split('x').map(Number);
  const shape = [1, ...dims];
  const builder = new TfliteModelBuilder({ description: `NetAdapt Studio invocation overhead ${key}${dtype === 'int8' ? ' (int8)' : ''}` });
  const x = builder.input('input', shape);
  builder.output(builder.reshape(x, shape, { name: 'output' }));
  if (dtype === 'float32') return { key, bytes: builder.finish(), macs: 0 };
  const ir = builder.toIr();
  const ranges = new Map(ir.tensors.map((_, i) => [i, { min: -4, max: 4 }] as const));
  return { key, bytes: serializeTfliteModel(quantizeModel(ir, { ranges })), macs: 0 };
}
