/** The bench's building blocks: a search through the pipeline's job, host latency, scoring and short trainings. */
import os from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import { resolveNetwork } from '../../core/arch/index.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import { LookupTableLatencyMetric, MacsMetric, type ResourceMetric } from '../../core/metrics/index.ts';
import { SqliteRunStore } from '../../core/search/run-store.ts';
import type { Evaluator, FineTuner } from '../../core/search/types.ts';
import { openWorkspace } from '../../core/store/workspace.ts';
import { createSupernetEvaluator } from '../../core/supernet/evaluate.ts';
import type { SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import { trainSubnetwork } from '../../core/supernet/training/subnet-trainer.ts';
import type { SupernetWeights } from '../../core/supernet/weights.ts';
import { parseSearchConfig } from '../../pipeline/config.ts';
import { runSearchJob } from '../../pipeline/job.ts';
import { openLatencySource, type OpenedLatencySource } from '../../pipeline/latency-source.ts';
import { scoreSubnet } from '../supernet-runs.ts';
import { describeSetting, type OptimizerSetting, type Profile } from './profiles.ts';
import type { FinalTrainingResult, SearchRun } from './results.ts';

/** One search of the bench through the pipeline's search job (in-memory run store, no report files). */
export async function runSearch(
  spec: NetworkSpec,
  scorer: { evaluator: Evaluator } | { fineTuner: FineTuner; fineTuneSteps: number },
  setting: OptimizerSetting,
  targetFraction: number,
  seed: number,
  metric: ResourceMetric = new MacsMetric(spec),
): Promise<SearchRun> {
  const config = parseSearchConfig({
    network: spec.name,
    target: `${+(targetFraction * 100).toFixed(6)}%`,
    algorithm: setting.algorithm,
    J: setting.samplesPerIteration,
    L: setting.layersPerSample,
    ...(setting.mcdShrink ? { mcdShrink: setting.mcdShrink } : {}),
    reduction: setting.reduction,
    decay: 0.98,
    seed,
    ...('fineTuneSteps' in scorer ? { fineTuneSteps: scorer.fineTuneSteps } : {}),
  }, 'the ablation bench\'s search');
  const workspace = openWorkspace(':memory:');
  try {
    const started = performance.now();
    const { result } = await runSearchJob(
      { config, output: false },
      { store: new SqliteRunStore(workspace), parts: { spec, metric, ...('fineTuner' in scorer ? { fineTuner: scorer.fineTuner } : { evaluator: scorer.evaluator }) } },
    );
    const searchSeconds = (performance.now() - started) / 1000;
    return {
      setting: describeSetting(setting),
      seed,
      status: result.status,
      iterations: result.iterations,
      samples: result.samplesEvaluated - 1,
      metric: metric.name,
      finalResourceFraction: result.best.resource / result.initialResource,
      finalMacs: resolveNetwork(spec, result.best.config).macs,
      finalMacsFraction: resolveNetwork(spec, result.best.config).macs / resolveNetwork(spec).macs,
      heldoutTop1: result.best.score,
      searchSeconds,
      best: result.best.config,
    };
  } finally {
    workspace.close();
  }
}

/** Latency tables of the host TFLite runtime, profiled lazily into a temporary workspace (deleted on close). */
export async function hostLatency(): Promise<{ metricFor(spec: NetworkSpec): Promise<ResourceMetric>; close(): Promise<void> }> {
  const path = join(os.tmpdir(), `ablation-latency-${process.pid}.sqlite`);
  const opened: OpenedLatencySource[] = [];
  return {
    metricFor: async (spec) => {
      const latency = await openLatencySource(spec, { device: 'host', lazyProfiling: true }, path);
      opened.push(latency);
      return new LookupTableLatencyMetric(spec, latency.source);
    },
    close: async () => {
      for (const latency of opened) await latency.close();
      rmSync(path, { force: true });
    },
  };
}

export function supernetScorer(weights: SupernetWeights, dataset: Dataset, profile: Profile): Evaluator & { dispose(): void } {
  const evaluator = createSupernetEvaluator({ weights, dataset, ...profile.scoring });
  return { evaluate: (config) => evaluator.evaluate(config), dispose: () => evaluator.dispose() };
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Trains `weights` (consumed: disposed afterwards) on the fixed sub-network for `steps`, then scores held-out and
 * test: the final training of discovered networks (from a copy of their super-network's weights, the same steps for
 * both sides of a comparison) and the stand-alone training (from fresh weights).
 */
export async function trainAndScore(
  weights: SupernetWeights,
  subnet: SubnetConfig,
  dataset: Dataset,
  steps: number,
  config: Partial<SupernetTrainConfig>,
  profile: Profile,
): Promise<FinalTrainingResult> {
  try {
    const started = performance.now();
    await trainSubnetwork({ weights, subnet, dataset, steps, config });
    const trainSeconds = (performance.now() - started) / 1000;
    return {
      steps,
      trainSeconds,
      heldoutTop1: await scoreSubnet(weights, dataset, subnet, 'heldout', profile.scoring),
      testTop1: await scoreSubnet(weights, dataset, subnet, 'test', profile.scoring),
    };
  } finally {
    weights.dispose();
  }
}

