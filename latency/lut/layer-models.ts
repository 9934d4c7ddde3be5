/** The single-layer .tflite model measured for one latency-table entry (deterministic bytes per signature). */
import type { ResolvedLayer } from '../../core/arch/layers.ts';
import { invokeOverheadSignature, layerSignature, parseSignature } from '../../core/arch/signature.ts';
import { TfliteModelBuilder } from '../../core/export/tflite/builder.ts';
import { exportLayer } from '../../core/export/network.ts';
import { randomLayerWeights } from '../../core/export/random-weights.ts';
import { mixSeed, Rng } from '../../core/random.ts';
import type { FoldedWeights } from '../../core/weights/folded.ts';
import type { ModelToMeasure } from '../profiler.ts';

function seedOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = mixSeed(h, text.charCodeAt(i));
  return h;
}

export function layerModel(layer: ResolvedLayer): ModelToMeasure {
  const signature = layerSignature(layer);
  if (signature === null) throw new Error(`layer ${layer.id} does no work and has no latency entry`);
  const weights: FoldedWeights = new Map();
  const w = randomLayerWeights(layer, new Rng(seedOf(signature)));
  if (w) weights.set(layer.id, w);
  return { key: signature, bytes: exportLayer(layer, weights, `NetAdapt Studio latency entry ${signature}`), macs: layer.macs };
}

/** The null model of a layer entry's input shape (see invokeOverheadSignature). */
export function invokeOverheadModel(layerSignatureText: string): ModelToMeasure {
  const key = invokeOverheadSignature(layerSignatureText);
  const dims = (parseSignature(key).in ?? '').split('x').map(Number);
  const shape = [1, ...dims];
  const builder = new TfliteModelBuilder({ description: `NetAdapt Studio invocation overhead ${key}` });
  const x = builder.input('input', shape);
  builder.output(builder.reshape(x, shape, { name: 'output' }));
  return { key, bytes: builder.finish(), macs: 0 };
}
