/**
 * Scoring sub-networks with the shared weights (the search's Evaluator): materialize the slim network, recompute its
 * BN statistics on a few cached training batches, then measure held-out top-1 (classification) or δ1 / RMSE (depth).
 * Calibration and held-out images are converted to tensors once and reused for every sub-network.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import type { Batch, Dataset, SplitName } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { checkTensorsMatch, loadCheckpoint } from './checkpoint.ts';
import { depthSums, top1Correct } from './losses.ts';
import { materialize, type SlimNetwork } from './materialize.ts';
import { checkDatasetFits } from './dataset-fit.ts';
import { SupernetWeights } from './weights.ts';

export interface Evaluation {
  /** Higher is better: top-1 accuracy (classification) or δ1 (depth), both in [0, 1]. */
  score: number;
  metrics: Record<string, number>;
}

export interface SupernetEvaluator {
  readonly task: NetworkSpec['task'];
  evaluate(config?: SubnetConfig): Promise<Evaluation>;
  /** Frees the cached tensors (not the weights, which the caller owns unless the evaluator loaded them). */
  dispose(): void;
}

export interface EvaluatorOptions {
  weights: SupernetWeights;
  dataset: Dataset;
  /** BN recalibration batches from the training split (default 5 of 64; 0 keeps the stored statistics). */
  calibrationBatches?: number;
  calibrationBatchSize?: number;
  /** Split to score on (default 'heldout'). */
  split?: SplitName;
  /** Use at most this many held-out images (default: all). */
  limit?: number;
  /** Images per inference batch (default 256). */
  batchSize?: number;
  /** Seed of the calibration batches' order. */
  seed?: number;
}

/** The images an evaluator scores with: BN calibration batches and held-out batches (host arrays). */
export interface EvaluationImages {
  /** Calibration batches of `calibrationBatchSize` training images (NHWC, RGB). */
  calibration: Batch[];
  heldOut: Batch[];
  /** Held-out images in total. */
  total: number;
}

/**
 * Picks the calibration and held-out images of `opts` (the one definition both evaluators use): the first
 * `calibrationBatches` batches of epoch 0 of the training split in the order seeded by `seed`, then the first
 * `limit` images of the scored split in `batchSize` chunks.
 */
export function evaluationImages(opts: Omit<EvaluatorOptions, 'weights'>): EvaluationImages {
  const { dataset } = opts;
  const calibCount = opts.calibrationBatches ?? 5;
  const calibSize = opts.calibrationBatchSize ?? 64;
  const batchSize = opts.batchSize ?? 256;
  const train = dataset.split('train');
  const calibration: Batch[] = [];
  const perEpoch = train.batchCount(calibSize, { dropLast: true });
  for (let i = 0; i < Math.min(calibCount, perEpoch); i++) {
    calibration.push(train.batch(i, calibSize, { seed: opts.seed ?? 12345, epoch: 0, dropLast: true }));
  }
  const splitName = opts.split ?? 'heldout';
  if (!dataset.splitNames.includes(splitName)) {
    throw new UserError(`dataset "${dataset.name}" has no ${splitName} split to evaluate sub-networks on`);
  }
  const split = dataset.split(splitName);
  const total = Math.min(split.size, opts.limit ?? split.size);
  if (total === 0) throw new UserError(`the ${splitName} split of dataset "${dataset.name}" is empty; sub-networks cannot be scored`);
  const heldOut: Batch[] = [];
  for (let start = 0; start < total; start += batchSize) {
    heldOut.push(split.get(Int32Array.from({ length: Math.min(batchSize, total - start) }, (_, i) => start + i)));
  }
  return { calibration, heldOut, total };
}

interface HeldOutBatch {
  images: tf.Tensor4D;
  labels?: Int32Array;
  depth?: Float32Array;
}

export function createSupernetEvaluator(opts: EvaluatorOptions): SupernetEvaluator {
  const { weights, dataset } = opts;
  const spec = weights.spec;
  checkDatasetFits(spec, dataset);
  const images = evaluationImages(opts);
  const total = images.total;
  const calibration = images.calibration.map((b) => tf.tensor4d(b.images, [b.size, b.height, b.width, 3]));
  const heldOut: HeldOutBatch[] = images.heldOut.map((b) => ({
    images: tf.tensor4d(b.images, [b.size, b.height, b.width, 3]),
    ...(b.labels ? { labels: b.labels } : {}),
    ...(b.depth ? { depth: b.depth } : {}),
  }));

  const score = (slim: SlimNetwork): Evaluation => {
    if (spec.task === 'classification') {
      let correct = 0;
      for (const b of heldOut) {
        const logits = slim.predict(b.images) as tf.Tensor2D;
        correct += top1Correct(logits, b.labels as Int32Array);
        logits.dispose();
      }
      const top1 = correct / total;
      return { score: top1, metrics: { top1, images: total } };
    }
    let pixels = 0;
    let squared = 0;
    let within = 0;
    for (const b of heldOut) {
      const out = slim.predict(b.images) as tf.Tensor4D;
      const s = depthSums(out, b.depth as Float32Array);
      out.dispose();
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
        slim.recalibrate(calibration);
        const result = score(slim);
        result.metrics['macs'] = slim.resolved.macs;
        result.metrics['params'] = slim.resolved.params;
        return result;
      } finally {
        slim.dispose();
      }
    },
    dispose(): void {
      tf.dispose(calibration);
      for (const b of heldOut) b.images.dispose();
      calibration.length = 0;
      heldOut.length = 0;
    },
  };
}

/** Loads the weights of a checkpoint for `spec` (EMA weights when present, else the raw ones). */
export function loadSupernetWeights(dir: string, spec: NetworkSpec, opts: { ema?: boolean } = {}): SupernetWeights {
  const ckpt = loadCheckpoint(dir);
  const weights = SupernetWeights.init(spec, 0);
  try {
    checkTensorsMatch(weights.layout, ckpt.tensors, 'param', dir);
  } catch (err) {
    weights.dispose();
    throw err;
  }
  const useEma = opts.ema ?? true;
  const values = new Map<string, Float32Array>();
  for (const info of weights.layout) {
    const ema = useEma && info.trainable ? ckpt.tensors.get(`ema/${info.name}`) : undefined;
    values.set(info.name, (ema ?? ckpt.tensors.get(`param/${info.name}`))!.data);
  }
  weights.assignAll(values);
  return weights;
}

/**
 * The provider the search plugs in: loads the checkpoint in `dir` for `spec` and returns an evaluator that owns (and
 * disposes) the loaded weights.
 */
export function loadSupernetEvaluator(
  dir: string,
  spec: NetworkSpec,
  dataset: Dataset,
  options: Omit<EvaluatorOptions, 'weights' | 'dataset'> & { ema?: boolean } = {},
): SupernetEvaluator {
  const weights = loadSupernetWeights(dir, spec, options.ema === undefined ? {} : { ema: options.ema });
  const evaluator = createSupernetEvaluator({ ...options, weights, dataset });
  return {
    task: evaluator.task,
    evaluate: (config) => evaluator.evaluate(config),
    dispose: () => {
      evaluator.dispose();
      weights.dispose();
    },
  };
}
