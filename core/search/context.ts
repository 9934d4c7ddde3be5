/**
 * Everything a search needs, built from its configuration: the network, the resource metric and the evaluator.
 *
 * MACs, parameters and the synthetic evaluator are built here; the super-network evaluator (core/supernet) is the
 * default `supernetEvaluator` provider, imported lazily so a search that never scores with tfjs never loads it.
 * The NetAdaptV1 fine-tuner (core/search/supernet-finetuner.ts) is the default `fineTuner`, also imported lazily.
 * The pieces that live in other modules (latency tables with lazy profiling, whole-model measurement on a phone) are
 * plugged in through `registerSearchProviders` (or the `providers` option), so this
 * module does not depend on adb; a missing provider is a clear UserError, not a crash.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { loadNetwork } from '../arch/index.ts';
import type { NetworkSpec } from '../arch/index.ts';
import { UserError, ValidationError } from '../errors.ts';
import { LookupTableLatencyMetric, MacsMetric, MeasuredLatencyMetric, ParamsMetric } from '../metrics/index.ts';
import type { LatencySource, ModelMeasurer, ResourceMetric } from '../metrics/index.ts';
import type { SearchConfig } from './config.ts';
import { toSearchParams } from './config.ts';
import { SearchOptimizer } from './optimizer.ts';
import { SyntheticEvaluator } from './synthetic-evaluator.ts';
import type { Evaluator, FineTuner, RunStore, SearchEvent, SearchParams } from './types.ts';

export interface ProviderInput {
  spec: NetworkSpec;
  config: SearchConfig;
}

export interface SearchContextProviders {
  /**
   * The super-network evaluator (core/supernet): loads `config.checkpoint` for `spec` (throwing a UserError when the
   * checkpoint belongs to another network) and scores sub-networks on the held-out split of `config.dataset`.
   */
  supernetEvaluator?: (input: ProviderInput) => Promise<Evaluator>;
  /** The per-layer latency table of `config.latency.device` (profiling missing entries when lazyProfiling is on). */
  latencySource?: (input: ProviderInput) => Promise<LatencySource>;
  /** Whole-model latency on `config.latency.device`. */
  modelMeasurer?: (input: ProviderInput) => Promise<ModelMeasurer>;
  /** NetAdaptV1 mode: fine-tunes samples from the previous best. */
  fineTuner?: (input: ProviderInput) => Promise<FineTuner>;
}

/** Evaluator options the super-network evaluator understands (other keys of "evaluator" are ignored). */
const SUPERNET_NUMERIC_OPTIONS = ['calibrationBatches', 'calibrationBatchSize', 'limit', 'batchSize', 'seed'] as const;

/**
 * The default super-network evaluator: the checkpoint in `config.checkpoint` (its loader refuses a checkpoint of
 * another network), BN recalibration on the training split and held-out scoring of `config.dataset`.
 */
async function supernetEvaluatorFromCheckpoint({ spec, config }: ProviderInput): Promise<Evaluator & { dispose(): void }> {
  if (config.dataset === undefined) {
    throw new ValidationError('the super-network evaluator needs "dataset" (e.g. "synthetic" or "cifar10:/data/cifar-10-batches-bin") to score sub-networks on');
  }
  const [{ initBackend }, { openDataset }, { loadSupernetEvaluator }] = await Promise.all([
    import('../tensor/backend.ts'),
    import('../data/open.ts'),
    import('../supernet/evaluate.ts'),
  ]);
  await initBackend();
  const dataset = await openDataset(config.dataset);
  const settings = config.evaluator as Record<string, unknown>;
  const options: Record<string, number | boolean> = {};
  for (const key of SUPERNET_NUMERIC_OPTIONS) {
    const value = settings[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`"evaluator.${key}" must be a number`);
    options[key] = value;
  }
  if (settings['ema'] !== undefined) options['ema'] = settings['ema'] === true;
  const evaluator = loadSupernetEvaluator(config.checkpoint as string, spec, dataset, options);
  return {
    evaluate: (subnet) => evaluator.evaluate(subnet),
    dispose: () => evaluator.dispose(),
  };
}

/**
 * The default NetAdaptV1 fine-tuner: starts from the checkpoint's weights (a plain-trained full network,
 * `train-supernet --no-od`), fine-tunes samples on the training split of `config.dataset` and scores them on its
 * held-out split. Adopted bases are saved next to the workspace (finetune-state/<hash of the run's settings>) so a
 * search resumed after kill -9 continues from the same weights.
 */
async function supernetFineTunerFromCheckpoint({ spec, config }: ProviderInput): Promise<FineTuner & { dispose(): void }> {
  if (config.dataset === undefined) {
    throw new ValidationError('NetAdaptV1 mode ("fineTuneSteps") needs "dataset": the data samples are fine-tuned and scored on');
  }
  if (config.checkpoint === undefined) {
    throw new ValidationError('NetAdaptV1 mode ("fineTuneSteps") needs "checkpoint": a trained full network (netadapt train-supernet --no-od)');
  }
  const [{ initBackend }, { openDataset }, { loadSupernetWeights }, { SupernetFineTuner }, { defaultWorkspacePath }] = await Promise.all([
    import('../tensor/backend.ts'),
    import('../data/open.ts'),
    import('../supernet/evaluate.ts'),
    import('./supernet-finetuner.ts'),
    import('../store/workspace.ts'),
  ]);
  await initBackend();
  const dataset = await openDataset(config.dataset);
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

const registered: SearchContextProviders = { supernetEvaluator: supernetEvaluatorFromCheckpoint, fineTuner: supernetFineTunerFromCheckpoint };

/** Called once at startup by the module that wires the engine together (the CLI / the app). */
export function registerSearchProviders(providers: SearchContextProviders): void {
  Object.assign(registered, providers);
}

export interface SearchContext {
  spec: NetworkSpec;
  metric: ResourceMetric;
  evaluator?: Evaluator;
  fineTuner?: FineTuner;
  params: SearchParams;
  /** What scores mean, for reports ("synthetic score", "held-out top-1 accuracy (%)"). */
  scoreLabel: string;
  /** Frees what the context holds (tensors of the evaluator). */
  dispose(): void;
}

function disposerOf(value: unknown): () => void {
  const dispose = (value as { dispose?: unknown } | undefined)?.dispose;
  return typeof dispose === 'function' ? () => (dispose as () => void).call(value) : () => {};
}

export async function createSearchContext(
  config: SearchConfig,
  options: { providers?: SearchContextProviders } = {},
): Promise<SearchContext> {
  const providers = { ...registered, ...options.providers };
  const spec = loadNetwork(config.network);
  const input: ProviderInput = { spec, config };
  const params = toSearchParams(config);
  const metric = await createMetric(input, providers);
  const context: SearchContext = { spec, metric, params, scoreLabel: 'score', dispose: () => {} };
  if (config.fineTuneSteps !== undefined) {
    if (!providers.fineTuner) {
      throw new UserError('NetAdaptV1 mode ("fineTuneSteps") needs a fine-tuner, which this build of NetAdapt Studio does not provide yet');
    }
    context.fineTuner = await providers.fineTuner(input);
    context.dispose = disposerOf(context.fineTuner);
    context.scoreLabel = 'score after fine-tuning';
    return context;
  }
  if (config.evaluator.kind === 'synthetic') {
    const { seed, noise, delayMs } = config.evaluator;
    context.evaluator = new SyntheticEvaluator(spec, {
      ...(seed === undefined ? {} : { seed }),
      ...(noise === undefined ? {} : { noise }),
      ...(delayMs === undefined ? {} : { delayMs }),
    });
    context.scoreLabel = 'synthetic score (not an accuracy)';
    return context;
  }
  if (config.checkpoint === undefined) {
    throw new ValidationError('the super-network evaluator needs "checkpoint": the folder of a trained super-network of this network');
  }
  if (!providers.supernetEvaluator) {
    throw new UserError(
      'the super-network evaluator is not available in this build; for a dry run of the optimizer use "evaluator": {"kind": "synthetic"}',
    );
  }
  context.evaluator = await providers.supernetEvaluator(input);
  context.dispose = disposerOf(context.evaluator);
  context.scoreLabel = spec.task === 'depth' ? 'held-out δ1 accuracy' : 'held-out top-1 accuracy';
  return context;
}

async function createMetric(input: ProviderInput, providers: SearchContextProviders): Promise<ResourceMetric> {
  const { spec, config } = input;
  switch (config.metric) {
    case 'macs':
      return new MacsMetric(spec);
    case 'params':
      return new ParamsMetric(spec);
    case 'latency-lut': {
      if (!providers.latencySource) throw new UserError('latency tables are not available to the search in this build yet; use "metric": "macs"');
      const source = await providers.latencySource(input);
      const wanted = config.latency?.device;
      if (wanted !== undefined && source.deviceId !== undefined && source.deviceId !== wanted) {
        throw new UserError(
          `the latency table is for device ${source.deviceId}${source.description ? ` (${source.description})` : ''}, ` +
            `but this search is for device ${wanted}; use that device's table or change "latency.device"`,
        );
      }
      return new LookupTableLatencyMetric(spec, source);
    }
    case 'latency-measured': {
      if (!providers.modelMeasurer) throw new UserError('whole-model latency measurement is not available to the search in this build yet');
      return new MeasuredLatencyMetric(await providers.modelMeasurer(input));
    }
  }
}

/** The optimizer for a context (its network, metric and evaluator or fine-tuner), the one way every runner builds it. */
export function optimizerFor(
  context: SearchContext,
  deps: { store: RunStore; signal?: AbortSignal; onEvent?: (event: SearchEvent) => void },
): SearchOptimizer {
  return new SearchOptimizer({
    spec: context.spec,
    metric: context.metric,
    ...(context.evaluator ? { evaluator: context.evaluator } : {}),
    ...(context.fineTuner ? { fineTuner: context.fineTuner } : {}),
    ...deps,
  });
}
