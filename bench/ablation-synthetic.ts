import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fullSubnet, loadNetwork, searchSpace } from '../core/arch/index.ts';
import type { NetworkSpec } from '../core/arch/index.ts';
import { MacsMetric } from '../core/metrics/index.ts';
import { DEFAULT_PARAMS, SearchOptimizer } from '../core/search/optimizer.ts';
import { SqliteRunStore } from '../core/search/run-store.ts';
import { SyntheticEvaluator } from '../core/search/synthetic-evaluator.ts';
import type { Evaluator, SearchAlgorithm, SearchParams } from '../core/search/types.ts';
import { openWorkspace } from '../core/store/workspace.ts';

/**
 * SYNTHETIC PROXY MODE of the ablation bench (`bench/ablation.ts --synthetic`): a quick check of the optimizers only,
 * NOT an accuracy. The real ablations (trained super-networks, held-out accuracy) are in bench/ablation.ts.
 *
 * MCD vs SCD (paper Sec. 4.1.4 and App. D.2) at small scale: the same network, metric, final target and evaluator;
 * for each optimizer setting, how many samples it evaluates to reach the target and the score it ends with.
 * Default setting as in App. D: MobileNetV1 (here the 32×32 variant, 27 searchable layers), J = 27 samples per
 * iteration (= the number of layers, as SCD makes one per layer), L = 4, decay 0.98; each optimizer at several
 * initial reductions, since MCD's advantage is that it can take larger steps.
 *
 * The evaluator defaults to the synthetic proxy (core/search/synthetic-evaluator.ts), so the scores compare the
 * optimizers on a made-up utility, not an accuracy; pass `makeEvaluator` (e.g. the super-network evaluator of a
 * trained checkpoint) to measure the real thing.
 */
export interface SyntheticAblationOptions {
  readonly network?: string;
  /** Final target as a fraction of the initial MACs. Default 0.5. */
  readonly targetFraction?: number;
  readonly seeds?: readonly number[];
  readonly settings?: readonly SyntheticAblationSetting[];
  readonly makeEvaluator?: (spec: NetworkSpec, seed: number) => Evaluator | Promise<Evaluator>;
  readonly evaluatorLabel?: string;
  /** Where to write the JSON result; null to skip writing. */
  readonly outFile?: string | null;
  readonly quiet?: boolean;
}

export interface SyntheticAblationSetting {
  readonly algorithm: SearchAlgorithm;
  readonly reduction: number;
  readonly samplesPerIteration?: number;
  readonly layersPerSample?: number;
}

export interface SyntheticAblationRun {
  readonly setting: string;
  readonly algorithm: SearchAlgorithm;
  readonly reduction: number;
  readonly seed: number;
  readonly status: string;
  readonly iterations: number;
  readonly samples: number;
  readonly finalResource: number;
  readonly finalScore: number;
  readonly wallMs: number;
}

export interface SyntheticAblationSummary {
  readonly setting: string;
  readonly runs: number;
  readonly reached: number;
  readonly meanSamples: number;
  readonly meanIterations: number;
  readonly meanFinalScore: number;
  readonly meanFinalResourceFraction: number;
  readonly meanWallMs: number;
}

export interface SyntheticAblationResult {
  readonly benchmark: 'ablation-synthetic-proxy';
  readonly measuredAt: string;
  readonly node: string;
  readonly cpu: string;
  readonly network: string;
  readonly metric: 'macs';
  readonly initialResource: number;
  readonly targetFraction: number;
  readonly evaluator: string;
  readonly runs: readonly SyntheticAblationRun[];
  readonly summary: readonly SyntheticAblationSummary[];
}

const DEFAULT_OUT = fileURLToPath(new URL('./results/ablation-synthetic-proxy.json', import.meta.url));

export const DEFAULT_SETTINGS: readonly SyntheticAblationSetting[] = [
  { algorithm: 'scd', reduction: 0.015 },
  { algorithm: 'scd', reduction: 0.03 },
  { algorithm: 'mcd', reduction: 0.015 },
  { algorithm: 'mcd', reduction: 0.03 },
  { algorithm: 'mcd', reduction: 0.06 },
];

function label(setting: SyntheticAblationSetting, j: number, l: number): string {
  const r = `r=${+(setting.reduction * 100).toFixed(2)}%`;
  return setting.algorithm === 'mcd' ? `MCD J=${j} L=${l} ${r}` : `SCD ${r}`;
}

const mean = (values: readonly number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN);

export async function runSyntheticAblation(options: SyntheticAblationOptions = {}): Promise<SyntheticAblationResult> {
  const spec = loadNetwork(options.network ?? 'mobilenet-v1-32');
  const metric = new MacsMetric(spec);
  const targetFraction = options.targetFraction ?? 0.5;
  const seeds = options.seeds ?? [1, 2, 3];
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const makeEvaluator = options.makeEvaluator ?? ((s: NetworkSpec, seed: number) => new SyntheticEvaluator(s, { seed: 100 + seed, noise: 0.05 }));
  const evaluatorLabel = options.evaluatorLabel ?? 'synthetic proxy score (core/search/synthetic-evaluator.ts, noise 0.05): not an accuracy';
  const log = options.quiet ? () => {} : (line: string) => console.log(line);
  const space = searchSpace(spec);
  const layers = space.layers.length;
  const initialResource = metric.measureSync(fullSubnet(space));

  const runs: SyntheticAblationRun[] = [];
  for (const setting of settings) {
    const j = setting.samplesPerIteration ?? layers;
    const l = setting.layersPerSample ?? 4;
    const name = label(setting, j, l);
    for (const seed of seeds) {
      const params: SearchParams = {
        ...DEFAULT_PARAMS,
        algorithm: setting.algorithm,
        target: { kind: 'fraction', value: targetFraction },
        samplesPerIteration: j,
        layersPerSample: l,
        reduction: setting.reduction,
        decay: 0.98,
        seed,
      };
      const workspace = openWorkspace(':memory:');
      const store = new SqliteRunStore(workspace);
      // Same evaluator seed for every optimizer: the scored landscape is identical, only the optimizer differs.
      const evaluator = await makeEvaluator(spec, seed);
      const started = performance.now();
      const result = await new SearchOptimizer({ spec, metric, evaluator, store }).start(params);
      const wallMs = performance.now() - started;
      workspace.close();
      const run: SyntheticAblationRun = {
        setting: name,
        algorithm: setting.algorithm,
        reduction: setting.reduction,
        seed,
        status: result.status,
        iterations: result.iterations,
        samples: result.samplesEvaluated - 1, // without the initial network
        finalResource: result.best.resource,
        finalScore: result.best.score,
        wallMs,
      };
      runs.push(run);
      log(
        `${name.padEnd(26)} seed ${seed}: ${run.status.padEnd(11)} ${String(run.iterations).padStart(3)} iterations ` +
          `${String(run.samples).padStart(5)} samples  score ${run.finalScore.toFixed(3)}  ` +
          `${((100 * run.finalResource) / initialResource).toFixed(1)}% MACs  ${(wallMs / 1000).toFixed(1)} s`,
      );
    }
  }

  const summary: SyntheticAblationSummary[] = [...new Set(runs.map((r) => r.setting))].map((setting) => {
    const of = runs.filter((r) => r.setting === setting);
    return {
      setting,
      runs: of.length,
      reached: of.filter((r) => r.status === 'done').length,
      meanSamples: mean(of.map((r) => r.samples)),
      meanIterations: mean(of.map((r) => r.iterations)),
      meanFinalScore: mean(of.map((r) => r.finalScore)),
      meanFinalResourceFraction: mean(of.map((r) => r.finalResource / initialResource)),
      meanWallMs: mean(of.map((r) => r.wallMs)),
    };
  });
  log('');
  log(`${'setting'.padEnd(26)} reached  samples  iterations  final score  MACs left  wall`);
  for (const s of summary) {
    log(
      `${s.setting.padEnd(26)} ${`${s.reached}/${s.runs}`.padStart(7)}  ${s.meanSamples.toFixed(0).padStart(7)}  ${s.meanIterations.toFixed(1).padStart(10)}  ` +
        `${s.meanFinalScore.toFixed(3).padStart(11)}  ${(100 * s.meanFinalResourceFraction).toFixed(1).padStart(8)}%  ${(s.meanWallMs / 1000).toFixed(1)} s`,
    );
  }
  log(`(${spec.name}, MACs target ${targetFraction * 100}% of ${initialResource}, ${seeds.length} seeds; scores: ${evaluatorLabel})`);

  const result: SyntheticAblationResult = {
    benchmark: 'ablation-synthetic-proxy',
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    network: spec.name,
    metric: 'macs',
    initialResource,
    targetFraction,
    evaluator: evaluatorLabel,
    runs,
    summary,
  };
  const outFile = options.outFile === undefined ? DEFAULT_OUT : options.outFile;
  if (outFile !== null) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${outFile}`);
  }
  return result;
}
