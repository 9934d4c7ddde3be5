/**
 * The parts a search runs on, opened from its validated configuration: the network, the resource metric (MACs,
 * params, a latency table with lazy profiling, or whole-model latency on a device) and the scorer (the super-network
 * evaluator, the NetAdaptV1 fine-tuner or the synthetic dry-run score). No registry: every part is built here, or
 * passed in by the caller (benches hold trained weights in memory; tests pass fakes).
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { NetworkSpec } from '../core/arch/index.ts';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { checkNetworkFitsMemory } from '../core/resource-limits.ts';
import { ValidationError } from '../core/errors.ts';
import { MacsMetric, MeasuredLatencyMetric, LookupTableLatencyMetric, MultiTargetMetric, ParamsMetric } from '../core/metrics/index.ts';
import type { ResourceMetric } from '../core/metrics/index.ts';
import { SyntheticEvaluator } from '../core/search/synthetic-evaluator.ts';
import type { Evaluator, FineTuner, SearchParams } from '../core/search/types.ts';
import { defaultWorkspacePath } from '../core/store/workspace.ts';
import type { SearchConfig } from './config.ts';
import { toSearchParams } from './config.ts';
import { openJobDataset } from './dataset.ts';
import { configuredDevices, openLatencySource, openModelMeasurer } from './latency-source.ts';
import { parseFinalTarget } from '../core/search/targets.ts';

export interface SearchParts {
  spec: NetworkSpec;
  metric: ResourceMetric;
  evaluator?: Evaluator;
  fineTuner?: FineTuner;
  params: SearchParams;
  /** What scores mean, for reports ("synthetic score", "held-out top-1 accuracy"). */
  scoreLabel: string;
  /** Frees what the parts hold (the evaluator's tensors, the profiler). */
  dispose(): void;
}

/** Parts the caller already has; the rest are opened from the configuration. */
export type GivenParts = Partial<Pick<SearchParts, 'spec' | 'metric' | 'evaluator' | 'fineTuner' | 'scoreLabel'>>;

/** Evaluator options the super-network evaluator understands (other keys of "evaluator" are ignored). */
const SUPERNET_NUMERIC_OPTIONS = ['calibrationBatches', 'calibrationBatchSize', 'limit', 'batchSize', 'seed'] as const;
/** The evaluator's batch when "evaluator.batchSize" is not given (core/supernet/evaluate.ts). */
const SUPERNET_EVAL_BATCH = 256;

export async function openSearchParts(config: SearchConfig, given: GivenParts = {}): Promise<SearchParts> {
  const spec = given.spec ?? loadNetwork(config.network);
  const params = toSearchParams(config);
  const disposers: (() => void | Promise<void>)[] = [];
  const parts: SearchParts = {
    spec,
    metric: given.metric ?? (await openMetric(spec, config, disposers)),
    params,
    scoreLabel: given.scoreLabel ?? 'score',
    dispose: () => {
      for (const dispose of disposers.reverse()) void dispose();
    },
  };
  try {
    if (config.fineTuneSteps !== undefined) {
      const fineTuner = given.fineTuner ?? (await openFineTuner(spec, config));
      if (!given.fineTuner) disposers.push(disposerOf(fineTuner));
      parts.fineTuner = fineTuner;
      parts.scoreLabel = given.scoreLabel ?? 'score after fine-tuning';
    } else if (given.evaluator) {
      parts.evaluator = given.evaluator;
    } else if (config.evaluator.kind === 'synthetic') {
      const { seed, noise, delayMs } = config.evaluator;
      parts.evaluator = new SyntheticEvaluator(spec, {
        ...(seed === undefined ? {} : { seed }),
        ...(noise === undefined ? {} : { noise }),
        ...(delayMs === undefined ? {} : { delayMs }),
      });
      parts.scoreLabel = 'synthetic score (not an accuracy)';
    } else {
      const evaluator = await openSupernetEvaluator(spec, config);
      disposers.push(() => evaluator.dispose());
      parts.evaluator = evaluator;
      parts.scoreLabel = given.scoreLabel ?? (spec.task === 'depth' ? 'held-out δ1 accuracy' : 'held-out top-1 accuracy');
    }
  } catch (error) {
    parts.dispose();
    throw error;
  }
  return parts;
}

async function openMetric(spec: NetworkSpec, config: SearchConfig, disposers: (() => void | Promise<void>)[]): Promise<ResourceMetric> {
  if (config.metric === 'macs') return new MacsMetric(spec);
  if (config.metric === 'params') return new ParamsMetric(spec);
  const opened: { metric: ResourceMetric; label: string }[] = [];
  for (const device of configuredDevices(config)) {
    if (config.metric === 'latency-lut') {
      const latency = await openLatencySource(spec, device, config.workspace);
      disposers.push(latency.close);
      opened.push({ metric: new LookupTableLatencyMetric(spec, latency.source), label: latency.label });
    } else {
      const latency = await openModelMeasurer(spec, device);
      disposers.push(latency.close);
      opened.push({ metric: new MeasuredLatencyMetric(latency.measure), label: latency.label });
    }
  }
  if (!config.deviceTargets) return (opened[0] as { metric: ResourceMetric }).metric;
  return MultiTargetMetric.create(
    spec,
    config.deviceTargets.map((t, i) => ({ ...(opened[i] as { metric: ResourceMetric; label: string }), target: parseFinalTarget(t.target) })),
  );
}

/**
 * The super-network evaluator: the checkpoint in `config.checkpoint` (its loader refuses a checkpoint of another
 * network), BN recalibration on the training split and held-out scoring of `config.dataset`.
 */
export async function openSupernetEvaluator(spec: NetworkSpec, config: SearchConfig): Promise<Evaluator & { dispose(): void }> {
  if (config.checkpoint === undefined) {
    throw new ValidationError('the super-network evaluator needs "checkpoint": the folder of a trained super-network of this network');
  }
  const dataset = await openJobDataset(config.dataset, 'the super-network evaluator needs "dataset" (e.g. "synthetic" or "cifar10:/data/cifar-10-batches-bin") to score sub-networks on');
  const settings = config.evaluator as Record<string, unknown>;
  const options: Record<string, number | boolean> = {};
  for (const key of SUPERNET_NUMERIC_OPTIONS) {
    const value = settings[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`"evaluator.${key}" must be a number`);
    options[key] = value;
  }
  if (settings['ema'] !== undefined) options['ema'] = settings['ema'] === true;
  checkNetworkFitsMemory(resolveNetwork(spec), { purpose: 'evaluation', batchSize: typeof options['batchSize'] === 'number' ? options['batchSize'] : SUPERNET_EVAL_BATCH });
  const { loadSupernetEvaluator } = await import('../core/supernet/evaluate.ts');
  const evaluator = loadSupernetEvaluator(config.checkpoint, spec, dataset, options);
  return { evaluate: (subnet) => evaluator.evaluate(subnet), dispose: () => evaluator.dispose() };
}

/**
 * NetAdaptV1 mode's fine-tuner: starts from the checkpoint's weights (a plain-trained full network,
 * `train-supernet --no-od`), fine-tunes samples on the training split of `config.dataset` and scores them on its
 * held-out split. Adopted bases are saved next to the workspace (finetune-state/<hash of the run's settings>) so a
 * search resumed after kill -9 continues from the same weights.
 */
export async function openFineTuner(spec: NetworkSpec, config: SearchConfig): Promise<FineTuner & { dispose(): void }> {
  if (config.checkpoint === undefined) {
    throw new ValidationError('NetAdaptV1 mode ("fineTuneSteps") needs "checkpoint": a trained full network (netadapt train-supernet --no-od)');
  }
  const dataset = await openJobDataset(config.dataset, 'NetAdaptV1 mode ("fineTuneSteps") needs "dataset": the data samples are fine-tuned and scored on');
  const [{ loadSupernetWeights }, { SupernetFineTuner }] = await Promise.all([
    import('../core/supernet/evaluate.ts'),
    import('../core/supernet/training/finetuner.ts'),
  ]);
  const weights = loadSupernetWeights(config.checkpoint, spec);
  const workspace = config.workspace ?? defaultWorkspacePath();
  const settings = JSON.stringify([config.network, config.dataset, config.checkpoint, config.seed, config.fineTuneSteps, config.fineTune ?? null]);
  const stateDir = workspace === ':memory:'
    ? undefined
    : join(dirname(workspace), 'finetune-state', createHash('sha256').update(settings).digest('hex').slice(0, 16));
  try {
    const limit = (config.evaluator as Record<string, unknown>)['limit'];
    return new SupernetFineTuner({
      weights,
      dataset,
      fineTuneSteps: config.fineTuneSteps ?? 0,
      ...(config.fineTune ? { config: config.fineTune } : {}),
      ...(stateDir ? { stateDir } : {}),
      ...(typeof limit === 'number' ? { limit } : {}),
    });
  } finally {
    weights.dispose();
  }
}

function disposerOf(value: unknown): () => void {
  const dispose = (value as { dispose?: unknown } | undefined)?.dispose;
  return typeof dispose === 'function' ? () => (dispose as () => void).call(value) : () => {};
}
