/**
 * The paper's ablations (Sec. 4.1.4, Table 3, App. D) at small scale, with trained super-networks and held-out
 * accuracy on the synthetic 32×32 classification set (nothing here is a made-up score):
 * (a) MCD vs SCD: the same trained super-network (mobilenet-v3-demo-cbc-32), MACs metric, final target; SCD makes one
 *     sample per layer per iteration; MCD J samples of L layers. Goal: MCD needs ≤ 60 % of SCD's samples with equal
 *     or better held-out accuracy.
 * (b) CBC vs no CBC: super-networks of a pair of networks that differ only in their bypass limits (same training
 *     budget): the demo pair (mobilenet-v3-demo-cbc-32 / -32) or, with `--cbc-pair deep`, the demo network with the
 *     paper's extra blocks (App. A.1); MCD to a low target (MACs or, with `--cbc-metric latency`, host latency), one
 *     search per seed; layers the CBC search removed entirely and both accuracies, from the super-network and after
 *     an identical short training of each discovered network, medians over the seeds.
 * (c) OD + super-network search (NetAdaptV2) vs NetAdaptV1 mode (plain-trained full network, every sample fine-tuned
 *     from the previous best): total wall time (training + search + final training) and final accuracy.
 * Writes bench/results/ablation.json (or `--out FILE`); `--quick` runs tiny settings (minutes, numbers meaningless), `--synthetic`
 * the old optimizer-only check on a synthetic proxy score (bench/ablation-synthetic.ts, not an accuracy).
 *
 * `npx tsx bench/ablation.ts [--quick] [--synthetic] [--only a,b,c] [--cbc-target 0.2] [--depth-sampling single] [--removal-share 0.25] [--cbc-metric latency] [--cbc-pair deep] [--cbc-seeds 1,2,3] [--standalone-epochs 12] [--supernet-dir DIR] [--out FILE]`
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { NetworkSpec, SubnetConfig } from '../core/arch/index.ts';
import { filtersOf, fullSubnet, loadNetwork, resolveNetwork, searchSpace, subnetToJson } from '../core/arch/index.ts';
import type { Dataset } from '../core/data/dataset.ts';
import { LookupTableLatencyMetric, MacsMetric, type ResourceMetric } from '../core/metrics/index.ts';
import { FINAL_TRAIN_DEFAULTS } from '../core/supernet/training/recipes.ts';
import { SqliteRunStore } from '../core/search/run-store.ts';
import { SupernetFineTuner } from '../core/supernet/training/finetuner.ts';
import { TargetUnreachableError } from '../core/search/errors.ts';
import type { Evaluator, FineTuner, SearchAlgorithm } from '../core/search/types.ts';
import { median } from '../core/stats.ts';
import { openWorkspace } from '../core/store/workspace.ts';
import { createSupernetEvaluator } from '../core/supernet/evaluate.ts';
import { DEPTH_SAMPLINGS, type DepthSampling } from '../core/supernet/sampling.ts';
import { trainSubnetwork } from '../core/supernet/training/subnet-trainer.ts';
import { DEMO_TRAIN_CONFIG, demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { type SupernetTrainConfig } from '../core/supernet/training/config.ts';
import { SupernetWeights } from '../core/supernet/weights.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { parseSearchConfig } from '../pipeline/config.ts';
import { runSearchJob } from '../pipeline/job.ts';
import { openLatencySource, type OpenedLatencySource } from '../pipeline/latency-source.ts';
import {
  benchDataset,
  copyWeights,
  scoreSubnet,
  trainTimedSupernet,
  type BenchDataOptions,
  type TrainedSupernet,
} from './supernet-runs.ts';

export type AblationPart = 'a' | 'b' | 'c';

export interface AblationBenchOptions {
  /** Tiny settings to check the bench end to end in a few minutes (the numbers mean nothing). */
  quick?: boolean;
  /** The optimizer-only check on the synthetic proxy score instead (no training, not an accuracy). */
  synthetic?: boolean;
  /** Run only these parts (default all). */
  only?: readonly AblationPart[];
  /** Part (b)'s final MAC target as a fraction of the initial network (default 0.35). */
  cbcTarget?: number;
  /**
   * Part (b)'s resource: 'macs' (default) or 'latency' — the host TFLite runtime's per-layer latency table, profiled
   * lazily into a temporary workspace (the paper's CBC ablations are latency-guided: removing a layer also saves its
   * fixed per-operator cost, which MACs do not see).
   */
  cbcMetric?: 'macs' | 'latency';
  /**
   * Part (b)'s pair of networks: 'demo' (default: the 5-block demo network with and without bypass) or 'deep' (the
   * demo network with one extra block at strides 4 and 8, the paper's App. A.1 rule for giving the search depth to
   * remove).
   */
  cbcPair?: CbcPair;
  /** Super-network removal share instead of the demo recipe's (SupernetTrainConfig.removalShare). */
  removalShare?: number;
  /** Super-network depth sampling instead of the demo recipe's (core/supernet/sampling.ts DepthSampling). */
  depthSampling?: DepthSampling;
  /** Part (b)'s search seeds instead of the profile's (one search, final and stand-alone training per seed and side). */
  cbcSeeds?: number[];
  /** Part (b)'s stand-alone training of each discovered network, in epochs, instead of the profile's (0 skips it). */
  standaloneEpochs?: number;
  /**
   * Keep the trained super-networks here (a checkpoint per network and recipe) and reuse them: a later run with the
   * same recipe, e.g. at another target, loads them instead of training again; a killed run continues them.
   */
  supernetDir?: string;
  /** Where to write the JSON result; null to skip writing. */
  outFile?: string | null;
  log?: (line: string) => void;
}

export interface OptimizerSetting {
  algorithm: SearchAlgorithm;
  /** MCD: samples per iteration (J); SCD ignores it. */
  samplesPerIteration: number;
  /** MCD: layers per sample (L). */
  layersPerSample: number;
  /** Initial per-iteration reduction as a fraction of the initial MACs (decay 0.98). */
  reduction: number;
}

interface Profile {
  data: BenchDataOptions;
  epochs: number;
  /** Held-out images each sample is scored on (the search's selection score) and BN calibration batches. */
  scoring: { limit?: number; calibrationBatches: number };
  /** The first SCD setting is the baseline of the goal; the others are reported. */
  a: { target: number; scd: OptimizerSetting[]; mcd: OptimizerSetting[]; mcdSeeds: number[] };
  /**
   * One super-network per side; one search (and final training) per seed. `standaloneEpochs`: each discovered network
   * is also trained alone from scratch with the super-network recipe for this many epochs (the paper trains discovered
   * networks fully, so their architecture decides, not the inherited weights); 0 skips it.
   */
  b: { target: number; mcd: OptimizerSetting; finalSteps: number; seeds: number[]; standaloneEpochs: number };
  c: { target: number; setting: OptimizerSetting; fineTuneSteps: number; finalSteps: number };
}

const mcd = (samplesPerIteration: number, layersPerSample: number, reduction: number): OptimizerSetting => ({
  algorithm: 'mcd',
  samplesPerIteration,
  layersPerSample,
  reduction,
});
const scd = (reduction: number): OptimizerSetting => ({ algorithm: 'scd', samplesPerIteration: 1, layersPerSample: 1, reduction });

const FULL: Profile = {
  data: { trainSize: 8000, heldoutSize: 1000, testSize: 1000 },
  epochs: DEMO_TRAIN_CONFIG.epochs,
  scoring: { calibrationBatches: 5 },
  a: { target: 0.5, scd: [scd(0.05), scd(0.1)], mcd: [mcd(4, 4, 0.05), mcd(8, 4, 0.05), mcd(8, 4, 0.1)], mcdSeeds: [1, 2, 3] },
  // 12 stand-alone epochs: at 6 the same networks scored 7–17 points below their 12-epoch scores.
  b: { target: 0.35, mcd: mcd(10, 4, 0.05), finalSteps: 150, seeds: [1, 2, 3], standaloneEpochs: 12 },
  // NetAdaptV1 fine-tunes every sample for four epochs (paper Sec. 4.3, following NetAdaptV1); here one epoch of the
  // 8,000 training images at batch 64 (a quarter of that, to keep the bench near half an hour).
  c: { target: 0.5, setting: mcd(6, 4, 0.05), fineTuneSteps: 125, finalSteps: 150 },
};

const QUICK: Profile = {
  data: { trainSize: 512, heldoutSize: 128, testSize: 128 },
  epochs: 1,
  scoring: { calibrationBatches: 1 },
  a: { target: 0.7, scd: [scd(0.1)], mcd: [mcd(6, 4, 0.1), mcd(3, 4, 0.1)], mcdSeeds: [1] },
  b: { target: 0.6, mcd: mcd(4, 4, 0.1), finalSteps: 4, seeds: [1], standaloneEpochs: 0.1 },
  c: { target: 0.7, setting: mcd(3, 4, 0.1), fineTuneSteps: 2, finalSteps: 4 },
};

const CBC_NETWORK = 'mobilenet-v3-demo-cbc-32';
const PLAIN_NETWORK = 'mobilenet-v3-demo-32';
export const CBC_PAIRS = {
  demo: { cbc: CBC_NETWORK, plain: PLAIN_NETWORK },
  deep: { cbc: 'mobilenet-v3-demo-deep-cbc-32', plain: 'mobilenet-v3-demo-deep-32' },
} as const;
export type CbcPair = keyof typeof CBC_PAIRS;
const DEFAULT_OUT = fileURLToPath(new URL('./results/ablation.json', import.meta.url));

/** One checkpoint directory per network, recipe and data set: `<network>-<hash of the three>`. */
export function supernetCheckpointDir(root: string, spec: NetworkSpec, config: Partial<SupernetTrainConfig>, data: Profile['data']): string {
  const hash = createHash('sha256').update(JSON.stringify({ spec, config, data })).digest('hex').slice(0, 12);
  return join(root, `${spec.name}-${hash}`);
}

export function describeSetting(s: OptimizerSetting): string {
  const r = `r=${+(s.reduction * 100).toFixed(2)}%`;
  return s.algorithm === 'mcd' ? `MCD J=${s.samplesPerIteration} L=${s.layersPerSample} ${r}` : `SCD ${r}`;
}

/** Searchable layers (not SE) that a sub-network removes entirely (0 filters: bypassed or skipped). */
export function removedLayers(spec: NetworkSpec, config: SubnetConfig): string[] {
  const space = searchSpace(spec);
  return space.layers.filter((layer) => layer.role !== 'se' && filtersOf(space, config, layer.index) === 0).map((layer) => layer.id);
}

export interface SearchRun {
  setting: string;
  seed: number;
  status: string;
  iterations: number;
  /** Samples evaluated, without the initial network. */
  samples: number;
  /** The search's resource metric and the discovered network's resource as a fraction of the initial network's. */
  metric: string;
  finalResourceFraction: number;
  finalMacs: number;
  finalMacsFraction: number;
  heldoutTop1: number;
  searchSeconds: number;
  best: SubnetConfig;
}

export interface FinalTrainingResult {
  steps: number;
  trainSeconds: number;
  heldoutTop1: number;
  testTop1: number;
}

export interface CbcRow {
  network: string;
  cbc: boolean;
  superNetworkTrainSeconds: number;
  search: Omit<SearchRun, 'best'> & { best: unknown };
  removedLayers: string[];
  removedLayerCount: number;
  superNetworkHeldoutTop1: number;
  superNetworkTestTop1: number;
  afterFinalTraining: FinalTrainingResult;
  /** The discovered network trained alone from scratch (absent when the profile skips it). */
  standalone?: FinalTrainingResult;
  seed: number;
}

/** Part (b)'s record in the result file (without its summary), read back by bench/ablation-combine.ts. */
export interface CbcPartResult {
  pair: CbcPair;
  networks: { cbc: string; plain: string };
  metric: 'macs' | 'latency';
  targetFraction: number;
  setting: string;
  seeds: number[];
  finalTrainingSteps: number;
  standaloneEpochs: number;
  standaloneTrainConfig: Partial<SupernetTrainConfig>;
  unreachable: { network: string; cbc: boolean; message: string }[];
  rows: CbcRow[];
}

interface CbcSideSummary {
  removedLayerCounts: number[];
  medianRemovedLayers: number;
  medianFinalTestTop1: number;
  medianFinalHeldoutTop1: number;
  medianSuperNetworkHeldoutTop1: number;
  /** Present when every row of the side has a stand-alone training. */
  medianStandaloneTestTop1?: number;
  medianStandaloneHeldoutTop1?: number;
}

/** Medians per side over the search seeds, and in how many seeds the CBC side scored higher (test, after final training). */
export function summarizeCbcRows(rows: readonly Pick<CbcRow, 'cbc' | 'seed' | 'removedLayerCount' | 'afterFinalTraining' | 'superNetworkHeldoutTop1' | 'standalone'>[]): {
  cbc: CbcSideSummary;
  noCbc: CbcSideSummary;
  cbcHigherInSeeds: number;
  /** Seeds where the CBC side's stand-alone test top-1 is higher (when both sides have stand-alone trainings). */
  cbcStandaloneHigherInSeeds?: number;
} {
  const side = (cbc: boolean): CbcSideSummary => {
    const own = rows.filter((r) => r.cbc === cbc);
    if (own.length === 0) throw new Error(`no ${cbc ? 'CBC' : 'no-CBC'} rows to summarize`);
    return {
      removedLayerCounts: own.map((r) => r.removedLayerCount),
      medianRemovedLayers: median(own.map((r) => r.removedLayerCount)),
      medianFinalTestTop1: median(own.map((r) => r.afterFinalTraining.testTop1)),
      medianFinalHeldoutTop1: median(own.map((r) => r.afterFinalTraining.heldoutTop1)),
      medianSuperNetworkHeldoutTop1: median(own.map((r) => r.superNetworkHeldoutTop1)),
      ...(own.every((r) => r.standalone)
        ? {
            medianStandaloneTestTop1: median(own.map((r) => (r.standalone as FinalTrainingResult).testTop1)),
            medianStandaloneHeldoutTop1: median(own.map((r) => (r.standalone as FinalTrainingResult).heldoutTop1)),
          }
        : {}),
    };
  };
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const higherIn = (test: (r: (typeof rows)[number]) => number | undefined) =>
    seeds.filter((seed) => {
      const of = (cbc: boolean) => {
        const row = rows.find((r) => r.cbc === cbc && r.seed === seed);
        return row ? test(row) : undefined;
      };
      return (of(true) ?? -1) > (of(false) ?? Infinity);
    }).length;
  const [cbc, noCbc] = [side(true), side(false)];
  return {
    cbc,
    noCbc,
    cbcHigherInSeeds: higherIn((r) => r.afterFinalTraining.testTop1),
    ...(cbc.medianStandaloneTestTop1 !== undefined && noCbc.medianStandaloneTestTop1 !== undefined
      ? { cbcStandaloneHigherInSeeds: higherIn((r) => r.standalone?.testTop1) }
      : {}),
  };
}

/** One search of the bench through the pipeline's search job (in-memory run store, no report files). */
async function runSearch(
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
async function hostLatency(): Promise<{ metricFor(spec: NetworkSpec): Promise<ResourceMetric>; close(): Promise<void> }> {
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

function supernetScorer(weights: SupernetWeights, dataset: Dataset, profile: Profile): Evaluator & { dispose(): void } {
  const evaluator = createSupernetEvaluator({ weights, dataset, ...profile.scoring });
  return { evaluate: (config) => evaluator.evaluate(config), dispose: () => evaluator.dispose() };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Trains `weights` (consumed: disposed afterwards) on the fixed sub-network for `steps`, then scores held-out and
 * test: the final training of discovered networks (from a copy of their super-network's weights, the same steps for
 * both sides of a comparison) and the stand-alone training (from fresh weights).
 */
async function trainAndScore(
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

type Goal = Record<string, unknown> & { met: boolean };

/**
 * Part (b)'s goals. Removes whole layers: the CBC searches' median count > 0. Scores higher: the median test top-1 of
 * the discovered networks trained alone from scratch when every row has one (the paper compares fully trained
 * networks), else after the short final training; not comparable (not met) when a network could not reach the target.
 */
export function cbcGoals(
  rows: Parameters<typeof summarizeCbcRows>[0],
  unreachable: readonly { network: string; cbc: boolean; message: string }[],
  standaloneEpochs: number,
): { summary?: ReturnType<typeof summarizeCbcRows>; removesWholeLayers: Goal; scoresHigher: Goal } {
  const criterion = 'the CBC search removes at least one whole layer (median over seeds)';
  if (unreachable.length > 0) {
    const cbcRemoved = rows.filter((r) => r.cbc).map((r) => r.removedLayerCount);
    return {
      removesWholeLayers: { removedWithCbc: cbcRemoved, criterion, met: cbcRemoved.length > 0 && median(cbcRemoved) > 0 },
      scoresHigher: { unreachable, criterion: 'not comparable: a network cannot reach the target', met: false },
    };
  }
  const summary = summarizeCbcRows(rows);
  const { cbc: withCbc, noCbc: without } = summary;
  const standalone = summary.cbcStandaloneHigherInSeeds !== undefined;
  const shortTrainingHigher = withCbc.medianFinalTestTop1 > without.medianFinalTestTop1;
  return {
    summary,
    removesWholeLayers: { removedWithCbc: withCbc.removedLayerCounts, removedWithoutCbc: without.removedLayerCounts, criterion, met: withCbc.medianRemovedLayers > 0 },
    scoresHigher: {
      ...(standalone
        ? {
            medianStandaloneTestTop1: { cbc: withCbc.medianStandaloneTestTop1, noCbc: without.medianStandaloneTestTop1 },
            medianStandaloneHeldoutTop1: { cbc: withCbc.medianStandaloneHeldoutTop1, noCbc: without.medianStandaloneHeldoutTop1 },
            cbcStandaloneHigherInSeeds: summary.cbcStandaloneHigherInSeeds,
          }
        : {}),
      medianFinalTrainedTestTop1: { cbc: withCbc.medianFinalTestTop1, noCbc: without.medianFinalTestTop1 },
      medianFinalTrainedHeldoutTop1: { cbc: withCbc.medianFinalHeldoutTop1, noCbc: without.medianFinalHeldoutTop1 },
      medianSuperNetworkHeldoutTop1: { cbc: withCbc.medianSuperNetworkHeldoutTop1, noCbc: without.medianSuperNetworkHeldoutTop1 },
      cbcHigherInSeeds: summary.cbcHigherInSeeds,
      shortFinalTrainingHigher: shortTrainingHigher,
      criterion: standalone
        ? `median test top-1 of the discovered networks trained alone from scratch (${standaloneEpochs} epochs; the paper reports discovered networks after full training), CBC above no CBC`
        : 'median test top-1 after the short final training, CBC above no CBC',
      met: standalone ? (withCbc.medianStandaloneTestTop1 as number) > (without.medianStandaloneTestTop1 as number) : shortTrainingHigher,
    },
  };
}

export async function runAblationBench(options: AblationBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.synthetic) {
    const { runSyntheticAblation } = await import('./ablation-synthetic.ts');
    return { ...(await runSyntheticAblation(options.outFile === undefined ? {} : { outFile: options.outFile })) };
  }
  const base = options.quick ? QUICK : FULL;
  const profile: Profile = {
    ...base,
    b: {
      ...base.b,
      ...(options.cbcTarget !== undefined ? { target: options.cbcTarget } : {}),
      ...(options.cbcSeeds !== undefined ? { seeds: options.cbcSeeds } : {}),
      ...(options.standaloneEpochs !== undefined ? { standaloneEpochs: options.standaloneEpochs } : {}),
    },
  };
  const parts = new Set<AblationPart>(options.only ?? ['a', 'b', 'c']);
  const backend = await initBackend();
  const benchStarted = performance.now();
  const cbcSpec = loadNetwork(CBC_NETWORK);
  const plainSpec = loadNetwork(PLAIN_NETWORK);
  const dataset = benchDataset(cbcSpec, profile.data);
  // The training recipe of the demo (re-read at run time: it is being tuned), with this profile's epoch count.
  const trainConfig: Partial<SupernetTrainConfig> = {
    ...demoTrainConfig(profile.epochs),
    ...(options.depthSampling ? { depthSampling: options.depthSampling } : {}),
    ...(options.removalShare !== undefined ? { removalShare: options.removalShare } : {}),
  };
  // NetAdaptV1 fine-tuning and the final training of discovered networks use the product's defaults for short
  // trainings from trained weights (core/search/final-training.ts), the same for both sides of every comparison.
  const fineTuneConfig: Partial<SupernetTrainConfig> = { ...FINAL_TRAIN_DEFAULTS };
  log(
    `ablation bench (${options.quick ? 'QUICK: tiny settings, numbers mean nothing' : 'full'}): synthetic 32×32, ` +
      `${profile.data.trainSize} train / ${profile.data.heldoutSize} held-out / ${profile.data.testSize} test images, ` +
      `${profile.epochs} epochs of ${trainConfig.optimizer} lr ${trainConfig.lr}, backend ${backend.description}, ${os.cpus().length} cores, ` +
      `load ${os.loadavg()[0]?.toFixed(1)}`,
  );

  const supernets = new Map<string, TrainedSupernet>();
  /** Keyed by network and training: the parts share a super-network when they use the same one. */
  const trained = async (spec: NetworkSpec, orderedDropout: boolean): Promise<TrainedSupernet> => {
    const key = `${spec.name}${orderedDropout ? '' : ' (plain training)'}`;
    const have = supernets.get(key);
    if (have) return have;
    log(`  training ${spec.name} ${orderedDropout ? 'super-network (ordered dropout)' : 'full network (plain training, no OD)'}...`);
    const config = { ...trainConfig, orderedDropout };
    const checkpointDir = options.supernetDir === undefined ? undefined : supernetCheckpointDir(options.supernetDir, spec, config, profile.data);
    const result = await trainTimedSupernet(spec, dataset, config, log, checkpointDir);
    const full = await scoreSubnet(result.weights, dataset, fullSubnet(searchSpace(spec)), 'heldout', profile.scoring);
    log(`    ${result.steps} steps in ${result.trainSeconds.toFixed(0)} s, last loss ${result.finalLoss.toFixed(3)}, full network held-out top-1 ${pct(full)}`);
    supernets.set(key, result);
    return result;
  };
  const trainingSummary = () =>
    Object.fromEntries(
      [...supernets].map(([key, s]) => [key, { network: s.spec.name, steps: s.steps, trainSeconds: s.trainSeconds, lastLoss: s.finalLoss }]),
    );

  const out: Record<string, unknown> = {
    benchmark: 'ablation',
    mode: options.quick ? 'quick (tiny settings; not meaningful)' : 'full',
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    backend: backend.description,
    dataset: { kind: 'synthetic classification 32×32, 10 classes', ...profile.data },
    metric: 'MACs',
    scoreOfSamples: `held-out top-1 of the sub-network with shared super-network weights, BN recalibrated on ${profile.scoring.calibrationBatches} training batches`,
    superNetworkTrainConfig: trainConfig,
    fineTuneAndFinalTrainingConfig: fineTuneConfig,
  };
  const goals: Record<string, unknown> = {};

  // (a) MCD vs SCD on the same CBC super-network.
  if (parts.has('a')) {
    log(`\n(a) MCD vs SCD: ${CBC_NETWORK} super-network, MACs to ${pct(profile.a.target)}`);
    const net = await trained(cbcSpec, true);
    const scorer = supernetScorer(net.weights, dataset, profile);
    const runs: (SearchRun & { testTop1: number })[] = [];
    const settings: { setting: OptimizerSetting; seeds: number[] }[] = [
      // SCD has no random choice: one run.
      ...profile.a.scd.map((setting) => ({ setting, seeds: [1] })),
      ...profile.a.mcd.map((setting) => ({ setting, seeds: profile.a.mcdSeeds })),
    ];
    for (const { setting, seeds } of settings) {
      for (const seed of seeds) {
        const run = await runSearch(cbcSpec, { evaluator: scorer }, setting, profile.a.target, seed);
        const testTop1 = await scoreSubnet(net.weights, dataset, run.best, 'test', profile.scoring);
        runs.push({ ...run, testTop1 });
        log(
          `  ${run.setting.padEnd(22)} seed ${seed}: ${run.status} after ${run.iterations} iterations, ${run.samples} samples, ` +
            `${pct(run.finalMacsFraction)} MACs, held-out ${pct(run.heldoutTop1)}, test ${pct(testTop1)}, ${run.searchSeconds.toFixed(0)} s`,
        );
      }
    }
    scorer.dispose();
    const summary = [...new Set(runs.map((r) => r.setting))].map((setting) => {
      const of = runs.filter((r) => r.setting === setting);
      return {
        setting,
        runs: of.length,
        reachedTarget: of.filter((r) => r.status === 'done').length,
        medianSamples: median(of.map((r) => r.samples)),
        medianIterations: median(of.map((r) => r.iterations)),
        medianHeldoutTop1: median(of.map((r) => r.heldoutTop1)),
        medianTestTop1: median(of.map((r) => r.testTop1)),
        medianFinalMacsFraction: median(of.map((r) => r.finalMacsFraction)),
        medianSearchSeconds: median(of.map((r) => r.searchSeconds)),
      };
    });
    const scdRow = summary[0] as (typeof summary)[number];
    // The rule fixed before running: the MCD setting that reached the target with the fewest samples (median) is
    // compared with the first SCD setting; its accuracy is then what it is (the cheapest is not picked for accuracy).
    const mcdRows = summary.slice(profile.a.scd.length).filter((row) => row.reachedTarget === row.runs);
    const mcdRow = [...(mcdRows.length ? mcdRows : summary.slice(profile.a.scd.length))].sort((x, y) => x.medianSamples - y.medianSamples)[0] as (typeof summary)[number];
    goals['a_mcdSamplesAtMost60PercentOfScd'] = {
      compared: `${mcdRow.setting} (median of ${mcdRow.runs} seeds; the MCD setting with the fewest samples) vs ${scdRow.setting}`,
      mcdSamples: mcdRow.medianSamples,
      scdSamples: scdRow.medianSamples,
      ratio: mcdRow.medianSamples / scdRow.medianSamples,
      met: mcdRow.medianSamples <= 0.6 * scdRow.medianSamples && mcdRow.reachedTarget === mcdRow.runs,
    };
    goals['a_mcdHeldoutTop1AtLeastScd'] = {
      mcdHeldoutTop1: mcdRow.medianHeldoutTop1,
      scdHeldoutTop1: scdRow.medianHeldoutTop1,
      mcdTestTop1: mcdRow.medianTestTop1,
      scdTestTop1: scdRow.medianTestTop1,
      met: mcdRow.medianHeldoutTop1 >= scdRow.medianHeldoutTop1,
    };
    log(`  ${'setting'.padEnd(22)} reached  samples  iterations  held-out  test    MACs    search`);
    for (const s of summary) {
      log(
        `  ${s.setting.padEnd(22)} ${`${s.reachedTarget}/${s.runs}`.padStart(7)}  ${String(s.medianSamples).padStart(7)}  ${String(s.medianIterations).padStart(10)}  ` +
          `${pct(s.medianHeldoutTop1).padStart(8)}  ${pct(s.medianTestTop1).padStart(6)}  ${pct(s.medianFinalMacsFraction).padStart(6)}  ${s.medianSearchSeconds.toFixed(0)} s`,
      );
    }
    log(`  (medians over seeds; SCD = one sample per layer per iteration that can meet the target alone, ${searchSpace(cbcSpec).layers.length} layers)`);
    log(
      `  goal: ${mcdRow.setting} used ${pct(mcdRow.medianSamples / scdRow.medianSamples)} of ${scdRow.setting}'s samples (≤ 60%), ` +
        `held-out ${pct(mcdRow.medianHeldoutTop1)} vs ${pct(scdRow.medianHeldoutTop1)}, test ${pct(mcdRow.medianTestTop1)} vs ${pct(scdRow.medianTestTop1)}`,
    );
    out['a_mcdVsScd'] = { network: CBC_NETWORK, targetMacsFraction: profile.a.target, runs: runs.map(({ best, ...r }) => ({ ...r, best: subnetToJson(searchSpace(cbcSpec), best) })), summary };
  }

  // (b) CBC vs no CBC.
  if (parts.has('b')) {
    const metricName = options.cbcMetric ?? 'macs';
    const resourceLabel = metricName === 'latency' ? 'of the host latency' : 'MACs';
    log(
      `\n(b) CBC vs no CBC: ${describeSetting(profile.b.mcd)} to ${pct(profile.b.target)} ${resourceLabel}, search seeds ${profile.b.seeds.join(', ')}, ` +
        `then ${profile.b.finalSteps} identical training steps of each discovered network`,
    );
    const rows: CbcRow[] = [];
    const unreachable: { network: string; cbc: boolean; message: string }[] = [];
    const latency = metricName === 'latency' ? await hostLatency() : undefined;
    const pair = CBC_PAIRS[options.cbcPair ?? 'demo'];
    // The super-network recipe without ordered dropout, its learning rate halved four times over the run (no EMA in a
    // fixed sub-network's training, so it has to end on a small rate).
    const standaloneConfig: Partial<SupernetTrainConfig> = { ...trainConfig, orderedDropout: false, lrDecayEpochs: profile.b.standaloneEpochs / 4 };
    const standaloneTraining = (spec: NetworkSpec, subnet: SubnetConfig, seed: number): Promise<FinalTrainingResult> => {
      const stepsPerEpoch = Math.floor(profile.data.trainSize / (standaloneConfig.batchSize as number));
      const steps = Math.max(1, Math.round(profile.b.standaloneEpochs * stepsPerEpoch));
      return trainAndScore(SupernetWeights.init(spec, 1000 + seed), subnet, dataset, steps, { ...standaloneConfig, seed }, profile);
    };
    for (const [cbc, spec] of [[true, loadNetwork(pair.cbc)], [false, loadNetwork(pair.plain)]] as const) {
      const net = await trained(spec, true);
      const scorer = supernetScorer(net.weights, dataset, profile);
      const metric = latency ? await latency.metricFor(spec) : new MacsMetric(spec);
      for (const seed of profile.b.seeds) {
        let run: SearchRun;
        try {
          run = await runSearch(spec, { evaluator: scorer }, profile.b.mcd, profile.b.target, seed, metric);
        } catch (error) {
          if (!(error instanceof TargetUnreachableError)) throw error;
          // Same table and target for every seed: record it once and go on with the other network.
          log(`  ${spec.name}: ${error.message}`);
          unreachable.push({ network: spec.name, cbc, message: error.message });
          break;
        }
        const supernetTestTop1 = await scoreSubnet(net.weights, dataset, run.best, 'test', profile.scoring);
        const removed = removedLayers(spec, run.best);
        const final = await trainAndScore(copyWeights(net.weights), run.best, dataset, profile.b.finalSteps, fineTuneConfig, profile);
        const standalone = profile.b.standaloneEpochs > 0 ? await standaloneTraining(spec, run.best, seed) : undefined;
        log(
          `  ${spec.name.padEnd(29)} seed ${seed} ${run.status} in ${run.samples} samples: ` +
            `${metricName === 'latency' ? `${pct(run.finalResourceFraction)} of the latency, ` : ''}${pct(run.finalMacsFraction)} MACs, ${removed.length} layers removed` +
            `${removed.length ? ` (${removed.join(', ')})` : ''}; super-network held-out ${pct(run.heldoutTop1)} test ${pct(supernetTestTop1)}; ` +
            `after final training held-out ${pct(final.heldoutTop1)} test ${pct(final.testTop1)}` +
            `${standalone ? `; trained alone from scratch held-out ${pct(standalone.heldoutTop1)} test ${pct(standalone.testTop1)}` : ''}`,
        );
        rows.push({
          network: spec.name,
          cbc,
          superNetworkTrainSeconds: net.trainSeconds,
          search: { ...run, best: subnetToJson(searchSpace(spec), run.best) },
          removedLayers: removed,
          removedLayerCount: removed.length,
          superNetworkHeldoutTop1: run.heldoutTop1,
          superNetworkTestTop1: supernetTestTop1,
          afterFinalTraining: final,
          ...(standalone ? { standalone } : {}),
          seed,
        });
      }
      scorer.dispose();
    }
    await latency?.close();
    const bOut: CbcPartResult = {
      pair: options.cbcPair ?? 'demo',
      networks: pair,
      metric: metricName,
      targetFraction: profile.b.target,
      setting: describeSetting(profile.b.mcd),
      seeds: profile.b.seeds,
      finalTrainingSteps: profile.b.finalSteps,
      standaloneEpochs: profile.b.standaloneEpochs,
      standaloneTrainConfig: standaloneConfig,
      unreachable,
      rows,
    };
    const { summary, removesWholeLayers, scoresHigher } = cbcGoals(rows, unreachable, profile.b.standaloneEpochs);
    if (summary) {
      const { cbc: withCbc, noCbc: without } = summary;
      log(
        `  medians over seeds: CBC ${withCbc.medianRemovedLayers} layers removed, test ${pct(withCbc.medianFinalTestTop1)} after the final training; ` +
          `without CBC ${without.medianRemovedLayers} removed, ${pct(without.medianFinalTestTop1)}; CBC higher in ${summary.cbcHigherInSeeds} of ${profile.b.seeds.length} seeds` +
          (summary.cbcStandaloneHigherInSeeds !== undefined
            ? `\n  trained alone from scratch (${profile.b.standaloneEpochs} epochs): CBC test ${pct(withCbc.medianStandaloneTestTop1 as number)}, ` +
              `without ${pct(without.medianStandaloneTestTop1 as number)}; CBC higher in ${summary.cbcStandaloneHigherInSeeds} of ${profile.b.seeds.length} seeds`
            : ''),
      );
    }
    goals['b_cbcRemovesWholeLayers'] = removesWholeLayers;
    goals['b_cbcScoresHigher'] = scoresHigher;
    out['b_cbcVsNoCbc'] = { ...bOut, ...(summary ? { summary } : {}) };
  }

  // (c) OD + super-network search vs NetAdaptV1 mode.
  if (parts.has('c')) {
    const setting = profile.c.setting;
    log(
      `\n(c) OD + super-network vs NetAdaptV1 mode: ${PLAIN_NETWORK}, ${describeSetting(setting)} to ${pct(profile.c.target)} MACs; ` +
        `V1 fine-tunes every sample ${profile.c.fineTuneSteps} steps; both discovered networks then trained ${profile.c.finalSteps} steps`,
    );
    const od = await trained(plainSpec, true);
    const odScorer = supernetScorer(od.weights, dataset, profile);
    const odRun = await runSearch(plainSpec, { evaluator: odScorer }, setting, profile.c.target, 1);
    odScorer.dispose();
    const odFinal = await trainAndScore(copyWeights(od.weights), odRun.best, dataset, profile.c.finalSteps, fineTuneConfig, profile);
    const plain = await trained(plainSpec, false);
    // The product's NetAdaptV1 mode (core/search/supernet-finetuner.ts, its default fine-tuning settings).
    const fineTuner = new SupernetFineTuner({
      weights: plain.weights,
      dataset,
      fineTuneSteps: profile.c.fineTuneSteps,
      ...(profile.scoring.limit === undefined ? {} : { limit: profile.scoring.limit }),
    });
    const v1Run = await runSearch(plainSpec, { fineTuner, fineTuneSteps: profile.c.fineTuneSteps }, setting, profile.c.target, 1);
    fineTuner.dispose();
    // Like `finalTraining: { mode: "supernet" }` of a NetAdaptV1 run: the discovered network starts from the run's
    // checkpoint (the plain-trained full network), as the OD side starts from its super-network.
    const v1Final = await trainAndScore(copyWeights(plain.weights), v1Run.best, dataset, profile.c.finalSteps, fineTuneConfig, profile);
    const breakdown = (train: number, search: number, final: number) => ({
      trainSeconds: train,
      searchSeconds: search,
      finalTrainingSeconds: final,
      totalSeconds: train + search + final,
    });
    // Images through a training forward-backward pass: a load-independent view of the same cost (evaluation excluded).
    const trainImages = (net: TrainedSupernet) => net.steps * (net.config.batchSize);
    const finalImages = profile.c.finalSteps * (fineTuneConfig.batchSize as number);
    const v1SearchImages = v1Run.samples * profile.c.fineTuneSteps * (fineTuneConfig.batchSize as number);
    const v2 = {
      ...breakdown(od.trainSeconds, odRun.searchSeconds, odFinal.trainSeconds),
      trainingImages: { superNetwork: trainImages(od), search: 0, finalTraining: finalImages, total: trainImages(od) + finalImages },
      search: odRun,
      final: odFinal,
    };
    const v1 = {
      ...breakdown(plain.trainSeconds, v1Run.searchSeconds, v1Final.trainSeconds),
      trainingImages: {
        fullNetwork: trainImages(plain),
        search: v1SearchImages,
        finalTraining: finalImages,
        total: trainImages(plain) + v1SearchImages + finalImages,
      },
      fineTuneSteps: profile.c.fineTuneSteps,
      search: v1Run,
      final: v1Final,
    };
    for (const [name, r] of [['OD + super-network', v2], ['NetAdaptV1 mode', v1]] as const) {
      log(
        `  ${name.padEnd(20)} total ${r.totalSeconds.toFixed(0)} s (train ${r.trainSeconds.toFixed(0)} + search ${r.searchSeconds.toFixed(0)} ` +
          `[${r.search.samples} samples] + final ${r.finalTrainingSeconds.toFixed(0)}): ${pct(r.search.finalMacsFraction)} MACs, ` +
          `search score ${pct(r.search.heldoutTop1)}, after final training held-out ${pct(r.final.heldoutTop1)} test ${pct(r.final.testTop1)}`,
      );
    }
    const speedup = v1.totalSeconds / v2.totalSeconds;
    const imagesRatio = v1.trainingImages.total / v2.trainingImages.total;
    const testDiff = v2.final.testTop1 - v1.final.testTop1;
    log(
      `  speed-up ${speedup.toFixed(2)}× (training + search only: ${((v1.trainSeconds + v1.searchSeconds) / (v2.trainSeconds + v2.searchSeconds)).toFixed(2)}×; ` +
        `training images ${imagesRatio.toFixed(2)}×); test top-1 OD − V1 = ${(100 * testDiff).toFixed(1)} points`,
    );
    goals['c_odAtLeast3xFaster'] = {
      speedupTotal: speedup,
      speedupTrainPlusSearch: (v1.trainSeconds + v1.searchSeconds) / (v2.trainSeconds + v2.searchSeconds),
      trainingImagesRatio: imagesRatio,
      met: speedup >= 3,
    };
    goals['c_odSimilarAccuracy'] = { odTestTop1: v2.final.testTop1, v1TestTop1: v1.final.testTop1, differencePoints: 100 * testDiff, criterion: 'OD at most 2 points below V1', met: testDiff >= -0.02 };
    const strip = (r: SearchRun) => ({ ...r, best: subnetToJson(searchSpace(plainSpec), r.best) });
    out['c_odVsNetAdaptV1'] = {
      network: PLAIN_NETWORK,
      targetMacsFraction: profile.c.target,
      setting: describeSetting(setting),
      odSuperNetwork: { ...v2, search: strip(v2.search) },
      netAdaptV1: { ...v1, search: strip(v1.search) },
    };
  }

  out['superNetworks'] = trainingSummary();
  out['goals'] = goals;
  out['benchSeconds'] = (performance.now() - benchStarted) / 1000;
  for (const s of supernets.values()) s.weights.dispose();
  log(`\ngoals: ${Object.entries(goals).map(([k, v]) => `${k} ${(v as { met: boolean }).met ? 'met' : 'NOT met'}`).join('; ')}`);
  log(`ablation bench: ${(out['benchSeconds'] as number).toFixed(0)} s`);
  const outFile = options.outFile === undefined ? DEFAULT_OUT : options.outFile;
  if (outFile !== null) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote ${outFile}`);
  }
  return out;
}

const numberOrUndefined = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));

/** The value after `flag` (undefined without the flag); a missing value, or another flag in its place, is an error. */
function flagValue(argv: readonly string[], flag: string, takes: string): string | undefined {
  const at = argv.indexOf(flag);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} takes ${takes}`);
  return value;
}

export function parseAblationArgs(argv: readonly string[]): AblationBenchOptions {
  const only = flagValue(argv, '--only', 'parts a, b, c')?.split(',').filter(Boolean);
  for (const part of only ?? []) {
    if (!['a', 'b', 'c'].includes(part)) throw new Error(`--only takes parts a, b, c (got "${part}")`);
  }
  const cbcTarget = numberOrUndefined(flagValue(argv, '--cbc-target', 'a fraction between 0 and 1 (e.g. 0.2)'));
  if (cbcTarget !== undefined && !(cbcTarget > 0 && cbcTarget < 1)) throw new Error('--cbc-target takes a fraction between 0 and 1 (e.g. 0.2)');
  const removalShare = numberOrUndefined(flagValue(argv, '--removal-share', 'a fraction in (0, 1] (e.g. 0.25)'));
  if (removalShare !== undefined && !(removalShare > 0 && removalShare <= 1)) throw new Error('--removal-share takes a fraction in (0, 1] (e.g. 0.25)');
  const cbcMetric = flagValue(argv, '--cbc-metric', 'macs or latency');
  if (cbcMetric !== undefined && cbcMetric !== 'macs' && cbcMetric !== 'latency') throw new Error(`--cbc-metric takes macs or latency (got "${cbcMetric}")`);
  const pairs = Object.keys(CBC_PAIRS).join(' or ');
  const cbcPair = flagValue(argv, '--cbc-pair', pairs);
  if (cbcPair !== undefined && !(cbcPair in CBC_PAIRS)) throw new Error(`--cbc-pair takes ${pairs} (got "${cbcPair}")`);
  const depthSampling = flagValue(argv, '--depth-sampling', `one of ${DEPTH_SAMPLINGS.join(', ')}`);
  if (depthSampling !== undefined && !DEPTH_SAMPLINGS.includes(depthSampling as DepthSampling)) {
    throw new Error(`--depth-sampling takes one of ${DEPTH_SAMPLINGS.join(', ')} (got "${depthSampling}")`);
  }
  const seedsHelp = 'integers separated by commas (e.g. 1,2,3,4,5)';
  const cbcSeeds = flagValue(argv, '--cbc-seeds', seedsHelp)?.split(',').map(Number);
  if (cbcSeeds !== undefined && !cbcSeeds.every(Number.isInteger)) throw new Error(`--cbc-seeds takes ${seedsHelp}`);
  const epochsHelp = 'a number of epochs ≥ 0 (0 skips the stand-alone training)';
  const standaloneEpochs = numberOrUndefined(flagValue(argv, '--standalone-epochs', epochsHelp));
  if (standaloneEpochs !== undefined && !(standaloneEpochs >= 0)) throw new Error(`--standalone-epochs takes ${epochsHelp}`);
  const outFile = flagValue(argv, '--out', 'a file name');
  const supernetDir = flagValue(argv, '--supernet-dir', 'a directory');
  return {
    ...(cbcSeeds !== undefined ? { cbcSeeds } : {}),
    ...(standaloneEpochs !== undefined ? { standaloneEpochs } : {}),
    ...(supernetDir !== undefined ? { supernetDir } : {}),
    ...(outFile !== undefined ? { outFile } : {}),
    ...(depthSampling !== undefined ? { depthSampling: depthSampling as DepthSampling } : {}),
    ...(cbcMetric !== undefined ? { cbcMetric: cbcMetric as 'macs' | 'latency' } : {}),
    ...(cbcPair !== undefined ? { cbcPair: cbcPair as CbcPair } : {}),
    ...(removalShare !== undefined ? { removalShare } : {}),
    quick: argv.includes('--quick'),
    synthetic: argv.includes('--synthetic'),
    ...(only ? { only: only as AblationPart[] } : {}),
    ...(cbcTarget !== undefined ? { cbcTarget } : {}),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let options: AblationBenchOptions;
  try {
    options = parseAblationArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`ablation: ${(error as Error).message}`);
    process.exit(2);
  }
  // A quick run's numbers mean nothing: keep them out of bench/results.
  await runAblationBench(options.quick ? { ...options, outFile: join(os.tmpdir(), 'ablation-quick.json') } : options);
}

