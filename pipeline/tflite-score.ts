/**
 * Scoring an exported .tflite model in LiteRT (the TFLite runtime on this computer) on a dataset split: the
 * accuracy of the file that ships — int8 or float — measured the way the supernet evaluator measures the tfjs
 * network (top-1 for classification; δ1 and RMSE for depth, whose models output log-depth), so the two compare.
 */
import type { Dataset, SplitName } from '../core/data/dataset.ts';
import { UserError } from '../core/errors.ts';
import { loadTfliteRuntime } from '../core/export/runtime/litert.ts';
import type { Evaluation } from '../core/supernet/evaluate.ts';
import { depthSumsOf, type DepthSums } from '../core/supernet/losses.ts';

export interface TfliteScoreOptions {
  /** Default 'test' (falls back to nothing: a dataset without it is an error). */
  split?: SplitName;
  /** Score at most this many images (default: the whole split). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function scoreTfliteModel(bytes: Uint8Array, dataset: Dataset, options: TfliteScoreOptions = {}): Promise<Evaluation> {
  const splitName = options.split ?? 'test';
  if (!dataset.splitNames.includes(splitName)) throw new UserError(`dataset "${dataset.name}" has no ${splitName} split to score the model on`);
  const split = dataset.split(splitName);
  const total = Math.min(split.size, options.limit ?? split.size);
  if (total === 0) throw new UserError(`the ${splitName} split of dataset "${dataset.name}" is empty`);
  const model = await (await loadTfliteRuntime()).load(bytes);
  try {
    const [h, w] = dataset.inputShape;
    const expected = [1, h, w, 3];
    const shape = model.inputs[0]?.shape ?? [];
    if (model.inputs.length !== 1 || shape.join(',') !== expected.join(',')) {
      throw new UserError(`the model takes input [${shape.join(', ')}], the dataset's images are [${expected.join(', ')}]`);
    }
    let correct = 0;
    const sums: DepthSums = { pixels: 0, squaredError: 0, withinDelta1: 0 };
    for (let i = 0; i < total; i++) {
      const sample = split.get([i]);
      const [out] = await model.run([sample.images]);
      if (!out) throw new UserError('the model produced no output');
      if (dataset.kind === 'classification') {
        if (argmax(out) === sample.labels?.[0]) correct++;
      } else {
        depthSumsOf(Float32Array.from(out, Math.exp), sample.depth as Float32Array, sums);
      }
      if ((i + 1) % 100 === 0 || i + 1 === total) options.onProgress?.(i + 1, total);
    }
    if (dataset.kind === 'classification') return { score: correct / total, metrics: { top1: correct / total, images: total } };
    const delta1 = sums.pixels > 0 ? sums.withinDelta1 / sums.pixels : 0;
    return { score: delta1, metrics: { delta1, rmse: sums.pixels > 0 ? Math.sqrt(sums.squaredError / sums.pixels) : Number.NaN, images: total } };
  } finally {
    model.close();
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
