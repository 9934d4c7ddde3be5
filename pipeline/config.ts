/**
 * The search configuration file (search.json) of `netadapt search --config`, validated with zod. Paths are taken
 * relative to the file's folder and stored absolute with the run, so `--resume` works from any directory.
 *
 *   { "network": "mobilenet-v1-32", "dataset": "synthetic", "metric": "macs", "target": "50%",
 *     "algorithm": "mcd", "J": 27, "L": 4, "mcdShrink": "stop-at-target", "reduction": "3%", "decay": 0.98, "seed": 1,
 *     "budget": { "maxIterations": 100 }, "workspace": "./workspace/netadapt.sqlite",
 *     "checkpoint": "./checkpoints/mnv1", "output": "./out", "evaluator": { "kind": "supernet" },
 *     "finalTraining": { "mode": "supernet", "epochs": 2, "distill": true } }
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../core/errors.ts';
import { DEFAULT_PARAMS, SEARCH_LIMITS } from '../core/search/optimizer.ts';
import { parseFinalTarget, parsePercent } from '../core/search/targets.ts';
import { MCD_SHRINK_MODES, type SearchParams } from '../core/search/types.ts';

/** A whole number in [min, max]; every message names the range ("must be a whole number from 1 to 10,000"). */
function wholeNumber(min: number, max: number, note = '') {
  const range = `must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}${note}`;
  return z.number(range).int(range).min(min, range).max(max, range);
}
/** A number in (0, max]; the message names the range. */
function positiveNumber(max: number, unit = '') {
  const range = `must be a number above 0 and at most ${max.toLocaleString('en-US')}${unit}`;
  return z.number(range).gt(0, range).max(max, range);
}
const SEED_RANGE = ' (a seed must be < 2^32)';
const seed = wholeNumber(0, 0xffffffff, SEED_RANGE);
const percentOrFraction = z.union(
  [
    z.number().gt(0, 'must be > 0').lt(1, 'must be < 1 (a fraction; or write a percentage like "3%")'),
    z.string().regex(/^\s*(\d+(\.\d+)?|\.\d+)\s*%\s*$/, 'must be a percentage like "3%"'),
  ],
  { error: 'must be a fraction between 0 and 1 (0.03) or a percentage like "3%"' },
);

/** Optimizer settings of the short trainings (NetAdaptV1 fine-tuning, final training). */
const trainingSettings = z.strictObject({
  batchSize: wholeNumber(2, 4096).optional(),
  lr: positiveNumber(10).optional(),
  optimizer: z.enum(['sgd', 'rmsprop'], 'must be "sgd" or "rmsprop"').optional(),
  seed: seed.optional(),
});

/**
 * Absolute targets: in the metric's unit (MACs, parameters, ms), so any finite positive number passes here; the search
 * refuses one that is not below the full network (nothing to search) or below its smallest sub-network.
 */
const targetValue = z.union(
  [
    z.number().positive('must be > 0'),
    z.string().regex(/%\s*$/, 'must be a number or a percentage like "50%"'),
  ],
  { error: 'must be a number in the metric\'s unit (e.g. 12.5 for ms, 150e6 for MACs) or a percentage of the initial network like "50%"' },
);

export const METRIC_NAMES = ['macs', 'params', 'latency-lut', 'latency-measured'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const searchConfigSchema = z.strictObject({
  /** Zoo name or path to a network JSON. */
  network: z.string('must be a zoo name (netadapt zoo) or the path of a network .json').min(1, 'must be a zoo name (netadapt zoo) or the path of a network .json'),
  /** Dataset spec (core/data: object or shorthand like "synthetic" or "cifar10:/data/cifar"); for the super-network evaluator. */
  dataset: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
  metric: z.enum(METRIC_NAMES, `must be one of ${METRIC_NAMES.join(', ')}`).default('macs'),
  /** Latency metrics: which device's table, and whether missing entries are profiled on the device. */
  latency: z
    .strictObject({
      /** One device; with "deviceTargets" the devices come from there. */
      device: z.string().min(1).optional(),
      runtimeOptions: z.string().optional(),
      /** The table's models: float32 (default) or int8 (the latency of the int8 model that ships). */
      dtype: z.enum(['float32', 'int8'], 'must be "float32" or "int8"').optional(),
      statistic: z.enum(['mean', 'median'], 'must be "mean" or "median"').optional(),
      lazyProfiling: z.boolean().default(false),
    })
    .optional(),
  /** Final target: an absolute resource in the metric's unit (MACs, params, ms) or a percentage of the initial network. */
  target: targetValue.optional(),
  /**
   * Latency targets on several devices at once (each sample must meet every one): e.g.
   * [{"device": "A", "target": "50%"}, {"device": "B", "target": 12.5}] (ms or a percentage of the full network on that
   * device). Replaces "target" and "latency.device".
   */
  deviceTargets: z
    .array(z.strictObject({ device: z.string().min(1), target: targetValue, runtimeOptions: z.string().optional(), dtype: z.enum(['float32', 'int8']).optional() }))
    .min(2, 'needs at least two devices (one device: "latency": {"device": …} and "target")')
    .optional(),
  algorithm: z.enum(['mcd', 'scd'], 'must be "mcd" (NetAdaptV2) or "scd" (NetAdaptV1)').default('mcd'),
  /** MCD: samples per iteration. */
  J: wholeNumber(1, SEARCH_LIMITS.samplesPerIteration, ' (the paper uses 27–200)').default(DEFAULT_PARAMS.samplesPerIteration),
  /** MCD: layers shrunk per sample. */
  L: wholeNumber(1, SEARCH_LIMITS.layersPerSample, ' (the paper uses 4–15)').default(DEFAULT_PARAMS.layersPerSample),
  /**
   * MCD: "stop-at-target" shrinks the L chosen layers one step at a time and stops as soon as the iteration's target
   * is met (a sample may change fewer than L layers); "every-chosen-layer" shrinks all L first (core/search/mcd.ts).
   */
  mcdShrink: z
    .enum(MCD_SHRINK_MODES, { message: `must be one of ${MCD_SHRINK_MODES.map((m) => `"${m}"`).join(', ')}` })
    .default(DEFAULT_PARAMS.mcdShrink ?? 'stop-at-target'),
  /** Initial per-iteration reduction: a fraction (0.03) or a percentage ("3%") of the initial resource. */
  reduction: percentOrFraction.default(DEFAULT_PARAMS.reduction),
  decay: positiveNumber(1, ' (the paper uses 0.98)').default(DEFAULT_PARAMS.decay),
  seed: seed.default(DEFAULT_PARAMS.seed),
  maxAttempts: wholeNumber(1, SEARCH_LIMITS.maxAttempts).default(DEFAULT_PARAMS.maxAttempts),
  /** SCD: also try smaller kernels. */
  scdShrinksKernel: z.boolean().default(DEFAULT_PARAMS.scdShrinksKernel),
  budget: z
    .strictObject({ maxIterations: wholeNumber(0, 1_000_000).optional(), maxSamples: wholeNumber(0, 1_000_000_000).optional() })
    .default({}),
  /** Workspace file (SQLite); default $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite. */
  workspace: z.string().min(1).optional(),
  /** Super-network checkpoint folder (for the super-network evaluator). */
  checkpoint: z.string().min(1).optional(),
  /** Where the discovered network and the reports go; default ./netadapt-output/<run id>. */
  output: z.string().min(1).optional(),
  evaluator: z
    .discriminatedUnion('kind', [
      z.looseObject({
        kind: z.literal('supernet'),
        calibrationBatches: wholeNumber(0, 10_000).optional(),
        calibrationBatchSize: wholeNumber(1, 4096).optional(),
        limit: wholeNumber(1, 10_000_000).optional(),
        batchSize: wholeNumber(1, 4096).optional(),
        seed: seed.optional(),
        ema: z.boolean('must be true or false').optional(),
      }),
      z.strictObject({
        kind: z.literal('synthetic'),
        seed: seed.optional(),
        noise: z.number('must be a number from 0 to 100').min(0, 'must be a number from 0 to 100').max(100, 'must be a number from 0 to 100').optional(),
        delayMs: z.number('must be a number of milliseconds from 0 to 60,000').min(0, 'must be a number of milliseconds from 0 to 60,000').max(60_000, 'must be a number of milliseconds from 0 to 60,000').optional(),
      }),
    ], { error: 'must be {"kind": "supernet", …} or {"kind": "synthetic", …}' })
    .default({ kind: 'supernet' }),
  /** NetAdaptV1 mode: no super-network; each sample is fine-tuned this many steps from the previous best. */
  fineTuneSteps: wholeNumber(0, 1_000_000).optional(),
  /** NetAdaptV1 mode: fine-tuning hyper-parameters (defaults: core/supernet/training/recipes.ts FINAL_TRAIN_DEFAULTS). */
  fineTune: trainingSettings.optional(),
  /**
   * Train the discovered network after the search (needs "dataset" and "checkpoint"): from the super-network's
   * weights, from scratch, or along the architecture trajectory; optionally distilled from the full network.
   * Length: "epochs" of the training split or "steps" (batches); default 1 epoch.
   */
  finalTraining: z
    .strictObject({
      mode: z.enum(['supernet', 'scratch', 'trajectory'], 'must be "supernet", "scratch" or "trajectory"').default('supernet'),
      epochs: positiveNumber(1000).optional(),
      steps: wholeNumber(1, 10_000_000).optional(),
      distill: z.boolean().default(false),
      ...trainingSettings.shape,
    })
    .optional(),
  /**
   * After the final training: the discovered network exported as int8 (post-training quantization, calibrated on
   * "calibrationImages" training images; "calibration" percentile 99.99 unless given) and as float, both scored in
   * LiteRT on the test split. On by default when the latency table is int8; {"enabled": false} turns it off.
   */
  int8: z
    .strictObject({
      enabled: z.boolean('must be true or false').default(true),
      calibrationImages: wholeNumber(1, 100_000).optional(),
      calibration: z.enum(['minmax', 'percentile'], 'must be "minmax" or "percentile"').optional(),
      percentile: z.number('must be a number above 50 and at most 100').gt(50, 'must be a number above 50 and at most 100').max(100, 'must be a number above 50 and at most 100').optional(),
    })
    .optional(),
});

export type SearchConfig = z.infer<typeof searchConfigSchema>;
export type SearchConfigInput = z.input<typeof searchConfigSchema>;

/** Validates a config; relative paths are resolved against `baseDir` (the config file's folder). */
export function parseSearchConfig(value: unknown, source = 'search config', baseDir = process.cwd()): SearchConfig {
  const result = searchConfigSchema.safeParse(value);
  if (!result.success) {
    throw new ValidationError(
      `${source} is not a valid search configuration`,
      result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const config = result.data;
  const absolute = (path: string | undefined) => (path === undefined || isAbsolute(path) ? path : resolve(baseDir, path));
  const resolved: SearchConfig = { ...config };
  for (const key of ['workspace', 'checkpoint', 'output'] as const) {
    const path = absolute(config[key]);
    if (path !== undefined) resolved[key] = path;
  }
  const latencyMetric = config.metric === 'latency-lut' || config.metric === 'latency-measured';
  if (config.deviceTargets) {
    if (!latencyMetric) throw new ValidationError(`${source}: "deviceTargets" needs a latency metric ("metric": "latency-lut" or "latency-measured")`);
    if (config.target !== undefined) throw new ValidationError(`${source}: give "target" or "deviceTargets", not both`);
    if (config.latency?.device !== undefined) throw new ValidationError(`${source}: with "deviceTargets" the devices come from there; drop "latency.device"`);
  } else {
    if (config.target === undefined) {
      throw new ValidationError(`${source}: "target" is missing: a resource in the metric's unit (e.g. 12.5 for ms) or a percentage of the initial network like "50%"`);
    }
    if (latencyMetric && config.latency?.device === undefined) {
      throw new ValidationError(`${source}: metric "${config.metric}" needs "latency": {"device": "host" | "<adb serial>" | "<device id>"}`);
    }
  }
  const final = config.finalTraining;
  if (final && config.dataset === undefined) throw new ValidationError(`${source}: "finalTraining" needs "dataset" (the data to train on)`);
  if (final && config.checkpoint === undefined && (final.mode !== 'scratch' || final.distill)) {
    throw new ValidationError(`${source}: "finalTraining" in mode "${final.mode}"${final.distill ? ' with distillation' : ''} needs "checkpoint" (the super-network)`);
  }
  if (config.int8?.enabled && !final) throw new ValidationError(`${source}: "int8" exports the final-trained network: it needs "finalTraining"`);
  if (final?.epochs !== undefined && final.steps !== undefined) {
    throw new ValidationError(`${source}: give "finalTraining.epochs" or "finalTraining.steps", not both`);
  }
  toSearchParams(resolved); // reports bad targets now rather than at search time
  return resolved;
}

export function configBaseDir(configPath: string): string {
  return dirname(resolve(configPath));
}

export function toSearchParams(config: SearchConfig): SearchParams {
  const budget: SearchParams['budget'] = {};
  if (config.budget.maxIterations !== undefined) budget.maxIterations = config.budget.maxIterations;
  if (config.budget.maxSamples !== undefined) budget.maxSamples = config.budget.maxSamples;
  const params: SearchParams = {
    algorithm: config.algorithm,
    // Several devices: the resource is the largest ratio to the devices' targets (core/metrics/multi-target.ts), met at 1.
    target: config.deviceTargets ? { kind: 'absolute', value: 1 } : parseFinalTarget(config.target as number | string),
    samplesPerIteration: config.J,
    layersPerSample: config.L,
    mcdShrink: config.mcdShrink,
    reduction: typeof config.reduction === 'number' ? config.reduction : parsePercent(config.reduction, 'reduction'),
    decay: config.decay,
    seed: config.seed,
    maxAttempts: config.maxAttempts,
    scdShrinksKernel: config.scdShrinksKernel,
    budget,
  };
  if (config.fineTuneSteps !== undefined) params.fineTuneSteps = config.fineTuneSteps;
  return params;
}
