/**
 * One training step's gradient work as plain data (a shard of the batch: its images, targets, per-image
 * sub-networks and BN groups, dropout rows, image weights, distillation settings) and the function that computes it
 * — the same in the trainer's thread and in a data-parallel worker (gradient-workers.ts).
 *
 * Splitting: a shard's loss is its part of the whole batch's loss (`lossScale` = its share of the image weights, or
 * of the images), so the shards' losses and gradients add up to the whole batch's. Batch norm is synchronized: with
 * a SharedReducer, every BN layer's statistics (and its backward sums) are those of the whole batch's BN group
 * (`bnSync`), and every shard runs the layers its whole batch runs (`skipLayers`) — so the shards compute the whole
 * batch's step, up to the order of float additions.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec, SubnetConfig } from '../../arch/index.ts';
import { maskedForward } from '../forward.ts';
import { classificationLoss, depthLoss, distillationLoss, type DepthLoss } from '../losses.ts';
import { planBatch, type BatchPlan } from '../plan.ts';
import { withBatchNormSync } from '../../tensor/kernels/batch-norm.ts';
import type { SupernetWeights } from '../weights.ts';
import type { SharedReducer } from './shared-reduce.ts';

/** Distillation from a teacher network run in inference mode (its weights travel separately, once). */
export interface ShardTeacher {
  /** The teacher's sub-network (absent: its full network). */
  subnet?: SubnetConfig;
  alpha: number;
  temperature: number;
}

export interface GradientShard {
  n: number;
  height: number;
  width: number;
  /** [n, height, width, 3] */
  images: Float32Array;
  labels?: Int32Array;
  /** [n, height, width] metres (depth task). */
  depth?: Float32Array;
  /** Per image; absent: every image runs the full network. */
  subnets?: SubnetConfig[];
  /** BN group of each image (absent: one group). */
  bnGroups?: number[];
  /** [n, channels] classifier dropout mask. */
  dropoutMask?: Float32Array;
  /** Per-image loss weights (classification). */
  imageWeights?: Float32Array;
  /** This shard's share of the batch loss. */
  lossScale: number;
  labelSmoothing: number;
  depthLoss: DepthLoss;
  teacher?: ShardTeacher;
  /**
   * Set when every step of a training uses the same sub-networks (one sub-network's training): the plans are then
   * built once and reused for this key instead of every step.
   */
  planKey?: string;
  /** Set on a shard of a split batch: its BN groups within the whole batch's (see BatchNormSync). */
  bnSync?: { groups: number; globalOf: Int32Array; imagesPerGroup: Float64Array };
  /** Set on a shard of a split batch: the layers no image of the whole batch runs (planBatch's skip). */
  skipLayers?: string[];
}

export interface BatchStatistics {
  id: string;
  mean: Float32Array;
  variance: Float32Array;
}

export interface ShardGradients {
  /** The shard's contribution to the batch loss. */
  loss: number;
  stats: BatchStatistics[];
}

/** The trainable parameters' sizes in layout order (the flat gradient layout). */
export function trainableSizes(weights: SupernetWeights): number[] {
  return weights.layout.filter((p) => p.trainable).map((p) => p.shape.reduce((a, b) => a * b, 1));
}

/**
 * Runs the shard forward and backward; writes the flat gradient (trainable layout order) into `into`.
 * `teacher` holds the teacher's weights when `shard.teacher` asks for distillation.
 */
export function shardGradients(
  weights: SupernetWeights,
  shard: GradientShard,
  into: Float32Array,
  teacher?: SupernetWeights,
  reducer?: SharedReducer,
): ShardGradients {
  if (shard.bnSync && !reducer) throw new Error('a shard of a split batch needs the reducer of its step');
  try {
    return withBatchNormSync(shard.bnSync && reducer ? { ...shard.bnSync, allReduce: (v) => reducer.allReduce(v) } : undefined, () => computeShard(weights, shard, into, teacher));
  } catch (error) {
    // Do not leave the other shards waiting at the next BN layer.
    reducer?.abort();
    throw error;
  }
}

function computeShard(weights: SupernetWeights, shard: GradientShard, into: Float32Array, teacher: SupernetWeights | undefined): ShardGradients {
  const spec = weights.spec;
  if (shard.teacher && shard.teacher.alpha > 0 && !teacher) throw new Error('a distillation shard needs the teacher\'s weights');
  const distill = shard.teacher && shard.teacher.alpha > 0 ? shard.teacher : undefined;
  const skip = shard.skipLayers ? new Set(shard.skipLayers) : undefined;
  const plan = plans.get(spec, shard.planKey, shard.n, shard.subnets, shard.bnGroups, skip);
  // The teacher runs in inference mode (no batch statistics): its own skipped layers are fine.
  const teacherPlan = distill ? plans.get(spec, shard.planKey && `teacher:${shard.planKey}`, shard.n, distill.subnet && new Array<SubnetConfig>(shard.n).fill(distill.subnet)) : undefined;
  const stats: BatchStatistics[] = [];
  try {
    let loss = NaN;
    tf.tidy(() => {
      const x = tf.tensor4d(shard.images, [shard.n, shard.height, shard.width, 3]);
      const mask = shard.dropoutMask ? tf.tensor2d(shard.dropoutMask, [shard.n, shard.dropoutMask.length / shard.n]) : undefined;
      const imageWeights = shard.imageWeights ? tf.tensor1d(shard.imageWeights) : undefined;
      const target = spec.task === 'classification'
        ? tf.tensor1d(shard.labels as Int32Array, 'int32')
        : tf.tensor4d(shard.depth as Float32Array, [shard.n, shard.height, shard.width, 1]);
      const teacherOut = distill && teacherPlan ? maskedForward(teacher as SupernetWeights, x, { training: false, plan: teacherPlan.plan }) : undefined;
      const vars = weights.trainable();
      const { value, grads } = tf.variableGrads(() => {
        const out = maskedForward(weights, x, {
          training: true,
          plan: plan.plan,
          ...(mask ? { dropoutMask: mask } : {}),
          onBatchStats: (id, mean, variance) => stats.push({ id, mean: new Float32Array(mean.dataSync() as Float32Array), variance: new Float32Array(variance.dataSync() as Float32Array) }),
        });
        const l = shardLoss(spec, shard, out, target, imageWeights, teacherOut);
        return shard.lossScale === 1 ? l : (tf.mul(l, shard.lossScale) as tf.Scalar);
      }, vars);
      loss = value.dataSync()[0] as number;
      let offset = 0;
      for (const v of vars) {
        const g = grads[v.name];
        if (g) into.set(g.dataSync() as Float32Array, offset);
        else into.fill(0, offset, offset + v.size);
        offset += v.size;
      }
    });
    return { loss, stats };
  } finally {
    plan.release();
    teacherPlan?.release();
  }
}

function shardLoss(
  spec: NetworkSpec,
  shard: GradientShard,
  out: tf.Tensor,
  target: tf.Tensor,
  imageWeights: tf.Tensor1D | undefined,
  teacherOut: tf.Tensor | undefined,
): tf.Scalar {
  const alpha = shard.teacher?.alpha ?? 0;
  if (spec.task === 'classification') {
    return teacherOut
      ? distillationLoss(out as tf.Tensor2D, teacherOut as tf.Tensor2D, target as tf.Tensor1D, { alpha, temperature: shard.teacher?.temperature ?? 1, labelSmoothing: shard.labelSmoothing })
      : classificationLoss(out as tf.Tensor2D, target as tf.Tensor1D, shard.labelSmoothing, imageWeights);
  }
  const gt = depthLoss(out as tf.Tensor4D, target as tf.Tensor4D, shard.depthLoss);
  if (!teacherOut) return gt;
  return tf.add(tf.mul(gt, 1 - alpha), tf.mul(tf.mean(tf.abs(tf.sub(out, teacherOut))), alpha)) as tf.Scalar;
}

/** Plans of keyed shards, built once per (network, key, batch size); unkeyed shards get a plan of their own. */
class PlanCache {
  private readonly byNetwork = new WeakMap<NetworkSpec, Map<string, BatchPlan>>();
  private static readonly LIMIT = 4;

  get(spec: NetworkSpec, key: string | undefined, n: number, subnets?: SubnetConfig[], groups?: number[], skip?: ReadonlySet<string>): { plan: BatchPlan; release(): void } {
    if (key === undefined) {
      const plan = planBatch(spec, n, subnets, groups, skip);
      return { plan, release: () => plan.dispose() };
    }
    let cached = this.byNetwork.get(spec);
    if (!cached) this.byNetwork.set(spec, (cached = new Map()));
    // The key stands for the sub-networks, so for the skipped layers too (they follow from them).
    const full = `${n}|${key}`;
    let plan = cached.get(full);
    if (!plan) {
      plan = planBatch(spec, n, subnets, groups, skip);
      cached.set(full, plan);
      // Oldest first: keep the few plans of the trainings running now.
      for (const [k, old] of cached) {
        if (cached.size <= PlanCache.LIMIT) break;
        old.dispose();
        cached.delete(k);
      }
    }
    return { plan, release: () => undefined };
  }
}

const plans = new PlanCache();

/**
 * Splits a whole-batch shard into up to `parts` contiguous shards (at least 2 images each, so every shard has batch
 * statistics) whose losses and gradients add up to the whole's.
 */
export function splitShard(whole: GradientShard, parts: number): GradientShard[] {
  const { n, height: h, width: w } = whole;
  const count = Math.max(1, Math.min(parts, Math.floor(n / 2)));
  if (count === 1) return [whole];
  const pixels = h * w;
  const totalWeight = whole.imageWeights ? whole.imageWeights.reduce((a, b) => a + b, 0) : n;
  const channels = whole.dropoutMask ? whole.dropoutMask.length / n : 0;
  // The whole batch's dense BN groups (sorted ids, as planBatch numbers them) and their sizes.
  const ids = whole.bnGroups ?? new Array<number>(n).fill(0);
  const globalIds = [...new Set(ids)].sort((a, b) => a - b);
  const globalIndex = new Map(globalIds.map((id, k) => [id, k]));
  const imagesPerGroup = new Float64Array(globalIds.length);
  for (const id of ids) {
    const k = globalIndex.get(id) as number;
    imagesPerGroup[k] = (imagesPerGroup[k] as number) + 1;
  }
  const out: GradientShard[] = [];
  for (let k = 0; k < count; k++) {
    const from = Math.floor((k * n) / count);
    const to = Math.floor(((k + 1) * n) / count);
    const weights = whole.imageWeights?.slice(from, to);
    const share = weights ? weights.reduce((a, b) => a + b, 0) / totalWeight : (to - from) / n;
    out.push({
      ...whole,
      n: to - from,
      images: whole.images.slice(from * pixels * 3, to * pixels * 3),
      ...(whole.labels ? { labels: whole.labels.slice(from, to) } : {}),
      ...(whole.depth ? { depth: whole.depth.slice(from * pixels, to * pixels) } : {}),
      ...(whole.subnets ? { subnets: whole.subnets.slice(from, to) } : {}),
      ...(whole.bnGroups ? { bnGroups: whole.bnGroups.slice(from, to) } : {}),
      ...(whole.dropoutMask ? { dropoutMask: whole.dropoutMask.slice(from * channels, to * channels) } : {}),
      ...(weights ? { imageWeights: weights } : {}),
      lossScale: whole.lossScale * share,
      bnSync: {
        groups: globalIds.length,
        globalOf: Int32Array.from([...new Set(ids.slice(from, to))].sort((a, b) => a - b), (id) => globalIndex.get(id) as number),
        imagesPerGroup,
      },
    });
  }
  return out;
}
