/**
 * Request parameters of every API operation, as zod schemas. This module imports nothing but zod so the renderer
 * can use the same schemas for inline form validation (the server is still the one that enforces them).
 */
import { z } from 'zod';

const id = z.string().min(1, 'must not be empty').max(200);
const networkName = z.string().min(1, 'choose a network').max(500);
const deviceId = z.string().min(1, 'choose a device').max(200);
/** A whole number in [min, max]; every message names the range, so a form can show it next to the field. */
function wholeNumber(min: number, max: number, note = '') {
  const range = `must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}${note}`;
  return z.number(range).int(range).min(min, range).max(max, range);
}
const seed = wholeNumber(0, 2 ** 32 - 1, ' (a seed must be < 2^32)');

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

/** Runtime options of a latency table: which cores, threads and delegate the layers were measured with. */
export const runtimeOptionsSchema = z.strictObject({
  threads: wholeNumber(1, 16).default(1),
  /** CPU cores to pin to (taskset mask bits); empty: let the OS choose. */
  cores: z.array(wholeNumber(0, 63)).max(64, 'at most 64 cores').default([]),
  delegate: z.enum(['cpu', 'xnnpack', 'gpu', 'nnapi'], 'must be cpu, xnnpack, gpu or nnapi').default('xnnpack'),
  /** The models measured: float32, or full-integer int8 (an int8 table is keyed apart from the float one). */
  dtype: z.enum(['float32', 'int8'], 'must be float32 or int8').default('float32'),
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

export const trainSupernetParams = z.strictObject({
  network: networkName,
  dataset: z.string().min(1, 'choose a dataset').default('synthetic'),
  epochs: wholeNumber(1, 1000).default(5),
  batchSize: wholeNumber(2, 4096).default(64),
  /** Peak learning rate (core/supernet's default: the paper's 0.064 at batch 1024 scaled to batch 64). */
  learningRate: z.number('must be a number above 0 and at most 10').positive('must be a number above 0 and at most 10').max(10, 'must be a number above 0 and at most 10').default(0.004),
  /** Ordered dropout: per-image random widths (off trains the full network only). */
  orderedDropout: z.boolean().default(true),
  seed: seed.default(1),
});

/** The search configuration (paper Sec. 2.4 and 4.1): defaults follow the small-network setups. */
export const startSearchParams = z
  .strictObject({
    network: networkName,
    /**
     * How samples are scored: 'supernet' with a trained checkpoint (held-out accuracy with shared weights), or
     * 'synthetic', a deterministic stand-in score for a dry run of the optimizer (not an accuracy).
     */
    evaluator: z.enum(['supernet', 'synthetic'], 'must be "supernet" or "synthetic"').default('supernet'),
    /** Folder of a trained super-network of this network (evaluator 'supernet'). */
    checkpoint: z.string().min(1).optional(),
    dataset: z.string().min(1, 'choose a dataset').default('synthetic'),
    optimizer: z.enum(['mcd', 'scd'], 'must be "mcd" or "scd"').default('mcd'),
    metric: z.enum(['latency', 'macs', 'params'], 'must be latency, macs or params').default('macs'),
    /** Needed for metric 'latency': the device whose latency table guides the search. */
    deviceId: z.string().min(1).optional(),
    /** Metric 'latency': measure layers the device's table lacks while searching (the device must be attached). */
    lazyProfiling: z.boolean().default(false),
    /** Stop when the resource is at most this fraction of the initial network's. */
    targetRatio: z.number().gt(0, 'must be above 0').lt(1, 'must be below 1 (a fraction of the initial resource)').default(0.5),
    /** J: samples per iteration (MCD). */
    samplesPerIteration: wholeNumber(1, 10_000, ' (the paper uses 27–200)').default(50),
    /** L: layers shrunk per sample (MCD). */
    layersPerSample: wholeNumber(1, 1000, ' (the paper uses 4–15)').default(4),
    /** Resource reduction of the first iteration, as a fraction of the current resource. */
    initialReduction: z.number().gt(0, 'must be above 0').max(0.5, 'at most 0.5 (50% per iteration)').default(0.03),
    /** Multiplies the reduction after every iteration. */
    reductionDecay: z.number().gt(0, 'must be above 0').max(1, 'at most 1').default(0.98),
    /** Held-out images used to score each sample. */
    evalImages: wholeNumber(1, 1_000_000).default(256),
    maxIterations: wholeNumber(1, 100_000).default(200),
    seed: seed.default(1),
  })
  .superRefine((config, ctx) => {
    if (config.evaluator === 'supernet' && config.checkpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['checkpoint'],
        message: 'the super-network evaluator needs a trained checkpoint (train one under Super-network), or choose the synthetic evaluator for a dry run',
      });
    }
    if (config.metric === 'latency' && config.deviceId === undefined) {
      ctx.addIssue({ code: 'custom', path: ['deviceId'], message: 'a latency-guided search needs a device (its latency table)' });
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

export const jobRef = z.strictObject({ jobId: id });

export type StartSearchInput = z.input<typeof startSearchParams>;
export type StartSearchConfig = z.output<typeof startSearchParams>;
export type BuildLatencyTableConfig = z.output<typeof buildLatencyTableParams>;
export type TrainSupernetConfig = z.output<typeof trainSupernetParams>;
export type SubnetJsonInput = z.output<typeof subnetJsonSchema>;

export const sampleSearchSpaceParams = z.strictObject({
  network: networkName,
  samples: wholeNumber(1, 10_000_000).default(2000),
  seed: seed.default(1),
});
