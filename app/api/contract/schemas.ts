/**
 * Request parameters of every API operation, as zod schemas. This module imports nothing but zod so the renderer
 * can use the same schemas for inline form validation (the server is still the one that enforces them).
 */
import { z } from 'zod';

const id = z.string().min(1, 'must not be empty').max(200);
const networkName = z.string('choose a network').min(1, 'choose a network').max(500);
const deviceId = z.string('choose a device').min(1, 'choose a device').max(200);

/** A whole number in [min, max]; every message names the range, so a form can show it next to the field. */
export function wholeNumber(min: number, max: number, note = '') {
  const range = `must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}${note}`;
  return z.number(range).int(range).min(min, range).max(max, range);
}

/** A number in (above, max] or [min, max]. */
export function decimal(range: { above?: number; min?: number; max?: number; below?: number }) {
  const lower = range.above !== undefined ? `above ${range.above}` : range.min !== undefined ? `at least ${range.min}` : '';
  const upper = range.below !== undefined ? `below ${range.below}` : range.max !== undefined ? `at most ${range.max}` : '';
  const words = [lower, upper].filter((w) => w !== '').join(' and ');
  let schema = z.number({ error: `must be a number${words ? ` ${words}` : ''}` });
  if (range.above !== undefined) schema = schema.gt(range.above, `must be ${words}`);
  if (range.min !== undefined) schema = schema.min(range.min, `must be ${words}`);
  if (range.below !== undefined) schema = schema.lt(range.below, `must be ${words}`);
  if (range.max !== undefined) schema = schema.max(range.max, `must be ${words}`);
  return schema;
}

const seed = wholeNumber(0, 2 ** 32 - 1, ' (a seed must be < 2^32)');
const PERCENT = /^\s*(\d+(\.\d+)?|\.\d+)\s*%\s*$/;

/** "50%" → 0.5; undefined when the text is not a percentage. */
export function parsePercentText(text: string): number | undefined {
  return PERCENT.test(text) ? Number(text.trim().replace('%', '').trim()) / 100 : undefined;
}

/** The zoo network every screen starts with: the demo's network, which trains at 32×32 in minutes. */
export const DEFAULT_NETWORK = 'mobilenet-v3-demo-32';

/** Dataset kinds the engine reads (core/data); the synthetic ones are generated, the others are folders on disk. */
export const DATASET_KINDS = ['synthetic', 'synthetic-depth', 'cifar10', 'image-folder', 'depth-pairs'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** Where the images come from: a built-in generator (with its sizes) or a folder on this computer. */
export const datasetChoiceSchema = z
  .strictObject({
    kind: z.enum(DATASET_KINDS, { error: `must be one of ${DATASET_KINDS.join(', ')}` }).default('synthetic'),
    /** The folder (cifar10: the cifar-10-batches-bin folder; image-folder: one sub-folder per class; depth-pairs). */
    path: z.string().max(4096).optional(),
    /** Synthetic sets: generated training images. */
    trainImages: wholeNumber(64, 1_000_000).default(6000),
    /** Held-out images (scores during training and search). */
    heldoutImages: wholeNumber(16, 100_000).default(1000),
    /** Synthetic sets: test images (the final score; never seen by training or search). */
    testImages: wholeNumber(16, 100_000).default(1000),
  })
  .superRefine((choice, ctx) => {
    const needsPath = choice.kind !== 'synthetic' && choice.kind !== 'synthetic-depth';
    if (needsPath && (choice.path === undefined || choice.path.trim() === '')) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: `a ${choice.kind} dataset needs its folder on this computer` });
    }
  });

export type DatasetChoice = z.output<typeof datasetChoiceSchema>;
export const DEFAULT_DATASET: DatasetChoice = { kind: 'synthetic', trainImages: 6000, heldoutImages: 1000, testImages: 1000 };

const SHORTHAND_KINDS: Readonly<Record<string, DatasetKind>> = {
  synthetic: 'synthetic',
  'synthetic-classification': 'synthetic',
  'synthetic-depth': 'synthetic-depth',
  cifar10: 'cifar10',
  folder: 'image-folder',
  'image-folder': 'image-folder',
  'depth-pairs': 'depth-pairs',
};

/**
 * A dataset choice from the shorthand `netadapt --dataset` takes: "synthetic", "synthetic?trainSize=3000",
 * "cifar10:/data/cifar-10-batches-bin", "folder:/data/pets?heldoutSize=500". Sizes: trainSize, heldoutSize, testSize.
 */
export function parseDatasetChoice(text: string): z.input<typeof datasetChoiceSchema> {
  const query = text.indexOf('?');
  const head = (query < 0 ? text : text.slice(0, query)).trim();
  const colon = head.indexOf(':');
  const kindText = (colon < 0 ? head : head.slice(0, colon)).toLowerCase();
  const kind = SHORTHAND_KINDS[kindText];
  if (!kind) throw new Error(`unknown dataset "${kindText}": use synthetic, synthetic-depth, cifar10:<dir>, folder:<dir> or depth-pairs:<dir>`);
  const choice: Record<string, unknown> = { kind, ...(colon >= 0 ? { path: head.slice(colon + 1) } : {}) };
  const names: Record<string, string> = { trainSize: 'trainImages', heldoutSize: 'heldoutImages', testSize: 'testImages' };
  for (const pair of query < 0 ? [] : text.slice(query + 1).split('&')) {
    if (pair === '') continue;
    const [key = '', value = ''] = pair.split('=');
    const field = names[key];
    if (!field) throw new Error(`dataset option "${key}" is not one of trainSize, heldoutSize, testSize`);
    choice[field] = Number(value);
  }
  return choice as z.input<typeof datasetChoiceSchema>;
}

/** The engine's dataset shorthand (core/data/open.ts) of a choice, as `netadapt --data` takes it. */
export function datasetShorthand(choice: DatasetChoice): string {
  switch (choice.kind) {
    case 'synthetic':
    case 'synthetic-depth':
      return `${choice.kind}?trainSize=${choice.trainImages}&heldoutSize=${choice.heldoutImages}&testSize=${choice.testImages}`;
    case 'cifar10':
      return `cifar10:${choice.path ?? ''}?heldoutSize=${choice.heldoutImages}`;
    case 'image-folder':
      return `folder:${choice.path ?? ''}?heldoutSize=${choice.heldoutImages}`;
    case 'depth-pairs':
      return `depth-pairs:${choice.path ?? ''}?heldoutSize=${choice.heldoutImages}`;
  }
}

/** A sub-network in its JSON form: `{ layers: { "<layer id>": { level | filters, kernel } } }`. */
export const subnetJsonSchema = z.object({
  network: z.string().optional(),
  layers: z.record(
    z.string(),
    z.object({ level: z.int().min(0).optional(), filters: z.int().min(0).optional(), kernel: z.int().positive().optional() }),
  ),
});

export const empty = z.strictObject({});

export const deviceInfoParams = z.strictObject({ deviceId });

export const deviceSetupParams = z.strictObject({
  deviceId,
  /** Push the benchmark tool even when a working one is already on the device. */
  force: z.boolean().default(false),
  /** The benchmark_model binary on this computer (default: the engine's configured tool path). */
  toolPath: z.string().min(1).optional(),
});

export const getArchitectureParams = z.strictObject({
  network: networkName,
  subnet: subnetJsonSchema.optional(),
});

export const latencyCoverageParams = z.strictObject({
  network: networkName,
  deviceId: deviceId.optional(),
});

/**
 * Delegates a latency table can be measured with (benchmark_model's --use_xnnpack / --use_gpu / --use_nnapi; cpu =
 * TFLite's reference kernels). Which of them work on a device is DeviceSummary.delegates: the app offers those.
 */
export const DELEGATES = ['xnnpack', 'cpu', 'gpu', 'nnapi'] as const;

/** Runtime options of a latency table: which cores, threads and delegate the layers were measured with. */
export const runtimeOptionsSchema = z.strictObject({
  threads: wholeNumber(1, 16).default(1),
  /** CPU cores to pin to (taskset mask bits); empty: let the OS choose. */
  cores: z.array(wholeNumber(0, 63)).max(64, 'at most 64 cores').default([]),
  delegate: z.enum(DELEGATES, { error: `must be one of ${DELEGATES.join(', ')}` }).default('xnnpack'),
  /** The models measured: float32, or full-integer int8 (an int8 table is keyed apart from the float one). */
  dtype: z.enum(['float32', 'int8'], { error: 'must be float32 or int8' }).default('float32'),
});

export const buildLatencyTableParams = z.strictObject({
  network: networkName,
  /** A device id from listDevices, or 'host' for this computer's TFLite runtime. */
  deviceId,
  runtime: runtimeOptionsSchema.default({ threads: 1, cores: [], delegate: 'xnnpack', dtype: 'float32' }),
  /** Benchmark runs per layer (the median is stored). */
  runs: wholeNumber(1, 1000).default(30),
  warmupRuns: wholeNumber(0, 1000).default(5),
  /** Skip layers that already have an entry (resume); false re-measures everything. */
  resume: z.boolean().default(true),
  /** Measure again the entries that failed in earlier builds (default: skip them). */
  retryFailed: z.boolean().default(false),
  /** Only these width levels (each layer keeps those it allows): a quick, coarser table. Default: all. */
  levels: z.array(wholeNumber(0, 64)).min(1, 'give at least one width level').optional(),
  /** Only these kernel sizes (each layer keeps those it allows). Default: all. */
  kernels: z
    .array(wholeNumber(1, 15).refine((k) => k % 2 === 1, 'kernel sizes are odd (1, 3, 5, … 15)'))
    .min(1, 'give at least one kernel size')
    .optional(),
});

export const validateLatencyTableParams = z.strictObject({
  network: networkName,
  deviceId,
  /** Random sub-networks to measure whole and compare with the table's prediction. */
  samples: wholeNumber(2, 500).default(20),
  seed: seed.default(1),
  /** The table's runtime options (defaults as in buildLatencyTable): validation compares with that table. */
  runtime: runtimeOptionsSchema.default({ threads: 1, cores: [], delegate: 'xnnpack', dtype: 'float32' }),
  runs: wholeNumber(1, 1000).default(30),
  warmupRuns: wholeNumber(0, 1000).default(5),
});

export const DEPTH_SAMPLINGS = ['single', 'multi', 'random', 'coherent'] as const;

/**
 * Super-network training. The defaults are the demo's recipe (core/supernet/training/recipes.ts demoTrainConfig: 12
 * epochs, the first 2 of the full network alone, SGD lr 0.1 at batch 32, depth sampling 'single', a quarter of a
 * batch losing a layer); the CLI's `netadapt train-supernet` has the same names and defaults.
 */
export const trainSupernetParams = z
  .strictObject({
    network: networkName.default(DEFAULT_NETWORK),
    dataset: datasetChoiceSchema.default(DEFAULT_DATASET),
    epochs: wholeNumber(1, 1000).default(12),
    /** Full-network warm-up: epochs of the full network alone before the sub-networks train (fractions allowed). */
    fullNetworkEpochs: decimal({ min: 0, max: 999 }).default(2),
    /** Images per step; the most that fits in memory is NetworkSummary.maxTrainBatch. */
    batchSize: wholeNumber(2, 1024).default(32),
    /** Peak learning rate. */
    learningRate: decimal({ above: 0, max: 10 }).default(0.1),
    optimizer: z.enum(['sgd', 'rmsprop'], { error: 'must be sgd or rmsprop' }).default('sgd'),
    /** Ordered dropout: per-image random widths (off trains the full network only). */
    orderedDropout: z.boolean().default(true),
    /** Which images train sub-networks with removed layers (see core/supernet/sampling.ts). */
    depthSampling: z.enum(DEPTH_SAMPLINGS, { error: `must be one of ${DEPTH_SAMPLINGS.join(', ')}` }).default('single'),
    /** At most this share of a batch's images lose a layer (depth sampling single or multi). */
    removalShare: decimal({ above: 0, max: 1 }).default(0.25),
    /** Score the full network and the smallest sub-network on the held-out split after every epoch (else at the end). */
    evaluateEveryEpoch: z.boolean().default(true),
    /** Held-out images per score. */
    evalImages: wholeNumber(16, 100_000).default(1000),
    seed: seed.default(1),
  })
  .superRefine((config, ctx) => {
    if (config.orderedDropout && config.fullNetworkEpochs >= config.epochs) {
      ctx.addIssue({ code: 'custom', path: ['fullNetworkEpochs'], message: `must be below the epochs (${config.epochs}) so the sub-networks train too` });
    }
  });

export const FINAL_TRAINING_MODES = ['none', 'supernet', 'scratch', 'trajectory'] as const;

/** The final training of the discovered network: from the super-network's weights by default, distilled. */
export const finalTrainingSchema = z
  .strictObject({
    mode: z.enum(FINAL_TRAINING_MODES, { error: `must be one of ${FINAL_TRAINING_MODES.join(', ')}` }).default('supernet'),
    /** Length in batches; give this or epochs. */
    steps: wholeNumber(1, 1_000_000).optional(),
    epochs: decimal({ above: 0, max: 1000 }).optional(),
    distill: z.boolean().default(true),
    batchSize: wholeNumber(2, 1024).default(64),
  })
  .superRefine((final, ctx) => {
    if (final.steps !== undefined && final.epochs !== undefined) ctx.addIssue({ code: 'custom', path: ['epochs'], message: 'give steps or epochs, not both' });
  });
export const DEFAULT_FINAL_TRAINING = { mode: 'supernet', steps: 150, distill: true, batchSize: 64 } as const;

/** A target: a percentage of the initial network ("50%") or an absolute value in the metric's unit (ms, MACs, params). */
const targetSchema = z.union([decimal({ above: 0 }), z.string()]).superRefine((value, ctx) => {
  if (typeof value === 'number') return;
  const fraction = parsePercentText(value);
  if (fraction === undefined && !(Number(value) > 0)) {
    ctx.addIssue({ code: 'custom', message: 'must be a percentage of the initial network like "50%", or a value above 0 in the metric\'s unit' });
  } else if (fraction !== undefined && !(fraction > 0 && fraction < 1)) {
    ctx.addIssue({ code: 'custom', message: 'a percentage must be above 0% and below 100%' });
  }
});

/** A fraction (0.06) or a percentage ("6%"), above 0 and at most 50%. */
const reductionSchema = z.union([decimal({ above: 0, max: 0.5 }), z.string()]).superRefine((value, ctx) => {
  if (typeof value === 'number') return;
  const fraction = parsePercentText(value);
  if (fraction === undefined || !(fraction > 0 && fraction <= 0.5)) ctx.addIssue({ code: 'custom', message: 'must be a percentage above 0% and at most 50% (like "6%")' });
});

/**
 * The search (paper Sec. 2.4) and what follows it. The defaults are the demo's: MCD with J = 8 samples of L = 3
 * layers, 6% reduction decaying ×0.98, guided by this computer's latency table (measured lazily) to 50% of the
 * initial latency, then 150 steps of final training from the super-network weights, distilled. The CLI's
 * `netadapt search --network …` flags have the same names and defaults.
 */
export const startSearchParams = z
  .strictObject({
    network: networkName.default(DEFAULT_NETWORK),
    /**
     * How samples are scored: 'supernet' with a trained checkpoint (held-out accuracy with shared weights), or
     * 'synthetic', a deterministic stand-in score for a dry run of the optimizer (not an accuracy).
     */
    evaluator: z.enum(['supernet', 'synthetic'], { error: 'must be "supernet" or "synthetic"' }).default('supernet'),
    /** A trained super-network of this network: a checkpoint id from listCheckpoints, or a checkpoint folder. */
    checkpoint: z.string().min(1, 'choose a trained super-network').optional(),
    dataset: datasetChoiceSchema.default(DEFAULT_DATASET),
    algorithm: z.enum(['mcd', 'scd'], { error: 'must be mcd or scd' }).default('mcd'),
    metric: z.enum(['latency', 'macs', 'params'], { error: 'must be latency, macs or params' }).default('latency'),
    /** Metric 'latency': the device whose latency table guides the search ('host' = this computer). */
    deviceId: z.string().min(1, 'choose a device').default('host'),
    /** Metric 'latency': measure layers the device's table lacks while searching. */
    lazyProfiling: z.boolean().default(true),
    target: targetSchema.default('50%'),
    /** J: samples per iteration (MCD). */
    samplesPerIteration: wholeNumber(1, 10_000, ' (the paper uses 27–200)').default(8),
    /** L: layers shrunk per sample (MCD). */
    layersPerSample: wholeNumber(1, 1000, ' (the paper uses 4–15)').default(3),
    /** Resource reduction of the first iteration, as a fraction or percentage of the initial resource. */
    reduction: reductionSchema.default('6%'),
    /** Multiplies the reduction after every iteration. */
    decay: decimal({ above: 0, max: 1 }).default(0.98),
    /** Held-out images used to score each sample. */
    evalImages: wholeNumber(16, 1_000_000).default(500),
    maxIterations: wholeNumber(1, 100_000).default(200),
    seed: seed.default(1),
    finalTraining: finalTrainingSchema.default(DEFAULT_FINAL_TRAINING),
  })
  .superRefine((config, ctx) => {
    if (config.evaluator === 'supernet' && config.checkpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkpoint'],
        message: 'choose a trained super-network (train one under Super-network), or the synthetic evaluator for a dry run',
      });
    }
    if (config.finalTraining.mode !== 'none' && config.evaluator === 'synthetic') {
      ctx.addIssue({ code: 'custom', path: ['finalTraining', 'mode'], message: 'a dry run (synthetic evaluator) has nothing to train: choose "none"' });
    }
  });

export const runRef = z.strictObject({ runId: id });

export const listRunsParams = z.strictObject({
  kind: z.enum(['search', 'train', 'latency'], 'must be search, train or latency').optional(),
  limit: wholeNumber(1, 1000).default(100),
});

export const exportResultParams = z.strictObject({
  runId: id,
  /** 'tflite-int8': full-integer int8, calibrated on the run's dataset when it has trained weights. */
  format: z.enum(['tflite', 'tflite-int8', 'json', 'report'], 'must be tflite, tflite-int8, json or report'),
  /** Which iteration's best sub-network (default: the last one). */
  iteration: wholeNumber(0, 1_000_000).optional(),
});

export const listCheckpointsParams = z.strictObject({
  /** Only checkpoints of this network. */
  network: networkName.optional(),
});

export const checkCheckpointParams = z.strictObject({
  /** A checkpoint id from listCheckpoints, or a checkpoint folder. */
  checkpoint: z.string().min(1, 'choose a checkpoint'),
  network: networkName,
});

export const downloadRef = z.strictObject({ downloadId: id });

export const jobRef = z.strictObject({ jobId: id });

export type StartSearchInput = z.input<typeof startSearchParams>;
export type StartSearchConfig = z.output<typeof startSearchParams>;
export type BuildLatencyTableConfig = z.output<typeof buildLatencyTableParams>;
export type TrainSupernetConfig = z.output<typeof trainSupernetParams>;
export type FinalTrainingChoice = z.output<typeof finalTrainingSchema>;
export type SubnetJsonInput = z.output<typeof subnetJsonSchema>;

export const sampleSearchSpaceParams = z.strictObject({
  network: networkName,
  samples: wholeNumber(1, 10_000_000).default(2000),
  seed: seed.default(1),
});
