/**
 * The held-out evaluator of evaluate.ts run in ONNX Runtime: the same slim sub-network (materialize.ts), the same
 * BN recalibration (the average of the calibration batches' means and variances, computed by a calibration graph
 * that normalizes with batch statistics), the statistics folded into the convs (SlimNetwork.foldedWeights), and the
 * same calibration and held-out images (evaluationImages). Only the arithmetic runs elsewhere: exported graphs
 * (core/export/onnx) in onnxruntime-node's native kernels instead of tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { SubnetConfig } from '../arch/index.ts';
import type { Batch } from '../data/dataset.ts';
import { exportOnnxNetwork, ONNX_INPUT, ONNX_OUTPUT, statisticsOutputs, type BatchNormAffine } from '../export/onnx/network.ts';
import { createOnnxSession, loadOnnxRuntime, type OnnxSession } from '../export/runtime/onnxruntime.ts';
import type { FoldedWeights } from '../weights/folded.ts';
import { evaluationImages, type Evaluation, type EvaluationImages, type EvaluatorOptions, type SupernetEvaluator } from './evaluate.ts';
import { depthSumsOfLogDepth, top1CorrectOfLogits } from './losses.ts';
import { materialize, type SlimConvParams, type SlimNetwork } from './materialize.ts';
import { checkDatasetFits } from './dataset-fit.ts';
import { BN_EPSILON, type SupernetWeights } from './weights.ts';

export interface OnnxEvaluatorOptions extends EvaluatorOptions {
  /** ONNX Runtime intra-op threads per session (default 1). */
  threads?: number;
}

/**
 * An evaluator with createSupernetEvaluator's results (top-1 within float rounding) that scores in ONNX Runtime.
 * Rejects with OnnxRuntimeUnavailableError when onnxruntime-node cannot be loaded (callers may fall back to
 * createSupernetEvaluator).
 */
export async function createOnnxEvaluator(opts: OnnxEvaluatorOptions): Promise<SupernetEvaluator> {
  checkDatasetFits(opts.weights.spec, opts.dataset);
  return onnxEvaluatorOfImages(opts.weights, evaluationImages(opts), opts.threads ?? 1);
}

/** createOnnxEvaluator on images picked already (evaluationImages), e.g. by the thread that owns the dataset. */
export async function onnxEvaluatorOfImages(weights: SupernetWeights, images: EvaluationImages, threads = 1): Promise<SupernetEvaluator> {
  const spec = weights.spec;
  await loadOnnxRuntime();
  // The calibration graph runs on a few batches only: ORT's basic optimizations create its session in half the time
  // and it ran as fast; the scoring graph gains from all of them (NCHWc convs: 1.5× faster evaluations, measured
  // alternately).
  const sessionOptions = { threads, optimization: 'basic' as const };
  const scoringOptions = { threads, optimization: 'all' as const };

  const recalibrate = async (slim: SlimNetwork): Promise<void> => {
    if (images.calibration.length === 0) return;
    const { weights: raw, batchNorm } = rawWeights(slim);
    if (batchNorm.size === 0) return;
    const session = await createOnnxSession(exportOnnxNetwork(slim.resolved, raw, { batchNorm, epsilon: BN_EPSILON }), sessionOptions);
    try {
      const fetch = [...batchNorm.keys()].flatMap((id) => Object.values(statisticsOutputs(id)));
      const sums = new Map<string, Float64Array>();
      for (const batch of images.calibration) {
        const out = await session.run({ [ONNX_INPUT]: feedOf(batch) }, fetch);
        for (const name of fetch) {
          const values = out[name] as Float32Array;
          let sum = sums.get(name);
          if (!sum) sums.set(name, (sum = new Float64Array(values.length)));
          for (let i = 0; i < values.length; i++) sum[i] = (sum[i] as number) + (values[i] as number);
        }
      }
      const count = images.calibration.length;
      for (const id of batchNorm.keys()) {
        const bn = (slim.params.get(id) as SlimConvParams).bn;
        if (!bn) continue;
        const names = statisticsOutputs(id);
        const mean = Float32Array.from(sums.get(names.mean) as Float64Array, (v) => v / count);
        const variance = Float32Array.from(sums.get(names.variance) as Float64Array, (v) => v / count);
        bn.mean.dispose();
        bn.variance.dispose();
        bn.mean = tf.tensor1d(mean);
        bn.variance = tf.tensor1d(variance);
      }
    } finally {
      session.dispose();
    }
  };

  const score = async (session: OnnxSession): Promise<Evaluation> => {
    const total = images.total;
    if (spec.task === 'classification') {
      let correct = 0;
      for (const batch of images.heldOut) {
        const logits = (await session.run({ [ONNX_INPUT]: feedOf(batch) }))[ONNX_OUTPUT] as Float32Array;
        correct += top1CorrectOfLogits(logits, logits.length / batch.size, batch.labels as Int32Array);
      }
      const top1 = correct / total;
      return { score: top1, metrics: { top1, images: total } };
    }
    let pixels = 0;
    let squared = 0;
    let within = 0;
    for (const batch of images.heldOut) {
      const logDepth = (await session.run({ [ONNX_INPUT]: feedOf(batch) }))[ONNX_OUTPUT] as Float32Array;
      const s = depthSumsOfLogDepth(logDepth, batch.depth as Float32Array);
      pixels += s.pixels;
      squared += s.squaredError;
      within += s.withinDelta1;
    }
    const delta1 = pixels > 0 ? within / pixels : 0;
    return { score: delta1, metrics: { delta1, rmse: pixels > 0 ? Math.sqrt(squared / pixels) : NaN, images: total } };
  };

  return {
    task: spec.task,
    async evaluate(config?: SubnetConfig): Promise<Evaluation> {
      const slim = materialize(weights, config);
      try {
        await recalibrate(slim);
        const session = await createOnnxSession(exportOnnxNetwork(slim.resolved, slim.foldedWeights()), scoringOptions);
        try {
          const result = await score(session);
          result.metrics['macs'] = slim.resolved.macs;
          result.metrics['params'] = slim.resolved.params;
          return result;
        } finally {
          session.dispose();
        }
      } finally {
        slim.dispose();
      }
    },
    dispose(): void {
      images.calibration.length = 0;
      images.heldOut.length = 0;
    },
  };
}

function feedOf(batch: Batch): { data: Float32Array; dims: number[] } {
  return { data: batch.images, dims: [batch.size, batch.height, batch.width, 3] };
}

/** The slim network's unfolded weights (conv kernels, BN layers with bias 0) and the γ/β of its BN layers. */
function rawWeights(slim: SlimNetwork): { weights: FoldedWeights; batchNorm: Map<string, BatchNormAffine> } {
  const weights: FoldedWeights = new Map();
  const batchNorm = new Map<string, BatchNormAffine>();
  const read = (t: tf.Tensor) => new Float32Array(t.dataSync() as Float32Array);
  for (const [id, p] of slim.params) {
    if (p.kind === 'se') {
      weights.set(id, { kind: 'se', reduce: read(p.reduce), reduceBias: read(p.reduceBias), expand: read(p.expand), expandBias: read(p.expandBias) });
    } else if (p.kind === 'fc') {
      weights.set(id, { kind: 'fc', kernel: read(p.kernel), bias: read(p.bias) });
    } else {
      const m = p.kind === 'conv' ? (p.kernel.shape[3] as number) : (p.kernel.shape[2] as number);
      weights.set(id, { kind: p.kind, kernel: read(p.kernel), bias: p.bias ? read(p.bias) : new Float32Array(m) });
      if (p.bn) batchNorm.set(id, { gamma: read(p.bn.gamma), beta: read(p.bn.beta) });
    }
  }
  return { weights, batchNorm };
}
