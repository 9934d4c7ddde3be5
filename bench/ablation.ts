/**
 * The paper's ablations (Sec. 4.1.4, Table 3, App. D) at small scale, with trained super-networks and held-out
 * accuracy on the synthetic 32×32 classification set (nothing here is a made-up score):
 * (a) MCD vs SCD (ablation/part-a.ts): the same trained super-network (mobilenet-v3-demo-cbc-32), MACs metric; SCD
 *     makes one sample per layer per iteration, MCD J samples of L layers. Goal: MCD needs ≤ 60 % of SCD's samples
 *     with equal or better held-out accuracy.
 * (b) CBC vs no CBC (ablation/part-b.ts): super-networks of a pair of networks that differ only in their bypass limits
 *     (same training budget), MCD to a low target (MACs or host latency), one search per seed; layers the CBC search
 *     removed entirely and both accuracies — from the super-network, after an identical short training, and trained
 *     alone from scratch — medians over the seeds.
 * (c) OD + super-network search (NetAdaptV2) vs NetAdaptV1 mode (ablation/part-c.ts): total wall time and final accuracy.
 * Every search runs through the pipeline's search job (pipeline/job.ts). Writes bench/results/ablation.json (or
 * `--out FILE`); `--quick` runs tiny settings (minutes, numbers meaningless), `--synthetic` the optimizer-only check
 * on a synthetic proxy score (bench/ablation-synthetic.ts, not an accuracy).
 *
 * `npx tsx bench/ablation.ts [--quick] [--synthetic] [--only a,b,c] [--cbc-target 0.2] [--depth-sampling single] [--removal-share 0.25] [--cbc-metric latency] [--cbc-pair deep] [--cbc-seeds 1,2,3] [--standalone-epochs 12] [--supernet-dir DIR] [--out FILE]`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend } from '../core/tensor/backend.ts';
import { createBenchContext } from './ablation/context.ts';
import { parseAblationArgs, type AblationBenchOptions, type AblationPart } from './ablation/options.ts';
import { runPartA } from './ablation/part-a.ts';
import { runPartB } from './ablation/part-b.ts';
import { runPartC } from './ablation/part-c.ts';
import { DEFAULT_OUT } from './ablation/profiles.ts';

export { parseAblationArgs, type AblationBenchOptions, type AblationPart } from './ablation/options.ts';
export { CBC_PAIRS, describeSetting, removedLayers, supernetCheckpointDir, type CbcPair, type OptimizerSetting } from './ablation/profiles.ts';
export { cbcGoals, summarizeCbcRows, type CbcPartResult, type CbcRow, type FinalTrainingResult, type SearchRun } from './ablation/results.ts';

export async function runAblationBench(options: AblationBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.synthetic) {
    const { runSyntheticAblation } = await import('./ablation-synthetic.ts');
    return { ...(await runSyntheticAblation(options.outFile === undefined ? {} : { outFile: options.outFile })) };
  }
  const parts = new Set<AblationPart>(options.only ?? ['a', 'b', 'c']);
  const backend = await initBackend();
  const benchStarted = performance.now();
  const ctx = createBenchContext({ ...options, log }, backend);
  const { profile, trainConfig, fineTuneConfig } = ctx;
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

  const runners: [AblationPart, typeof runPartA][] = [['a', runPartA], ['b', runPartB], ['c', runPartC]];
  try {
    for (const [name, run] of runners) {
      if (!parts.has(name)) continue;
      const part = await run(ctx);
      Object.assign(out, part.out);
      Object.assign(goals, part.goals);
    }
    out['superNetworks'] = ctx.trainingSummary();
  } finally {
    ctx.dispose();
  }
  out['goals'] = goals;
  out['benchSeconds'] = (performance.now() - benchStarted) / 1000;
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
