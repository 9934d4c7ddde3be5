/**
 * Ranking quality of the super-network (issue #6): does the held-out accuracy a sub-network gets with the shared
 * super-network weights rank sub-networks like their accuracy when each is trained on its own?
 * Trains an ordered-dropout super-network (the demo recipe), picks sub-networks spread evenly over the MAC range,
 * scores each with the shared weights (BN recalibrated), then trains each one stand-alone from a fresh
 * initialization (SupernetWeights.init, trainSubnetwork, the same steps and recipe for every one) and scores it the
 * same way. Reports Kendall τ between the two (goal ≥ 0.5), and for reference τ of each with MACs.
 * Writes bench/results/ranking.json.
 *
 * `npx tsx bench/ranking.ts [--quick] [--subnets N] [--steps N] [--network NAME]`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { NetworkSpec, SubnetConfig } from '../core/arch/index.ts';
import { fullSubnet, loadNetwork, randomSubnet, resolveNetwork, searchSpace, subnetKey, subnetToJson } from '../core/arch/index.ts';
import { Rng } from '../core/random.ts';
import { kendallTau } from '../core/stats.ts';
import { trainSubnetwork } from '../core/supernet/training/subnet-trainer.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG, demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { type SupernetTrainConfig } from '../core/supernet/training/config.ts';
import { SupernetWeights } from '../core/supernet/weights.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { benchDataset, scoreSubnet, trainTimedSupernet, type BenchDataOptions } from './supernet-runs.ts';

export interface RankingBenchOptions {
  network?: string;
  /** Sub-networks compared (≥ 8 for the goal). */
  subnets?: number;
  /** Stand-alone training steps of every sub-network. Default: two epochs of the training split. */
  standaloneSteps?: number;
  quick?: boolean;
  outFile?: string | null;
  log?: (line: string) => void;
}

interface Profile {
  data: BenchDataOptions;
  epochs: number;
  subnets: number;
  standaloneEpochs: number;
  calibrationBatches: number;
}

const FULL: Profile = { data: { trainSize: 8000, heldoutSize: 1000, testSize: 0 }, epochs: DEMO_TRAIN_CONFIG.epochs, subnets: 10, standaloneEpochs: 2, calibrationBatches: 5 };
const QUICK: Profile = { data: { trainSize: 512, heldoutSize: 128, testSize: 0 }, epochs: 1, subnets: 8, standaloneEpochs: 0.25, calibrationBatches: 1 };
const DEFAULT_OUT = fileURLToPath(new URL('./results/ranking.json', import.meta.url));

/**
 * `count` distinct sub-networks whose MACs are spread evenly between the smallest and the largest of a random pool
 * (the full network is always the last), chosen deterministically from `seed`.
 */
export function subnetsOverMacRange(spec: NetworkSpec, count: number, seed: number, poolSize = 400): { config: SubnetConfig; macs: number }[] {
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`need at least 2 sub-networks (got ${count})`);
  const space = searchSpace(spec);
  const rng = new Rng(seed);
  const pool = new Map<string, { config: SubnetConfig; macs: number }>();
  for (let i = 0; i < poolSize; i++) {
    // Uniform random sub-networks cluster around half the MACs; keeping each layer full with a probability drawn
    // per sub-network fills the upper part of the range too.
    const keepFull = rng.next();
    const random = randomSubnet(space, rng);
    const config: SubnetConfig = {
      levels: random.levels.map((level) => (rng.next() < keepFull ? space.widthLevels - 1 : level)),
      kernels: random.kernels.map((kernel, l) => (rng.next() < keepFull ? space.layers[l]!.fullKernel : kernel)),
    };
    pool.set(subnetKey(config), { config, macs: resolveNetwork(spec, config).macs });
  }
  const full = fullSubnet(space);
  const fullEntry = { config: full, macs: resolveNetwork(spec, full).macs };
  pool.delete(subnetKey(full));
  const sorted = [...pool.values()].sort((a, b) => a.macs - b.macs);
  if (sorted.length < count - 1) throw new RangeError(`the search space of ${spec.name} has too few distinct sub-networks`);
  const lo = (sorted[0] as { macs: number }).macs;
  const hi = fullEntry.macs;
  const picked: { config: SubnetConfig; macs: number }[] = [];
  const used = new Set<string>();
  for (let i = 0; i < count - 1; i++) {
    const target = lo + ((hi - lo) * i) / (count - 1);
    let best: { config: SubnetConfig; macs: number } | undefined;
    for (const entry of sorted) {
      if (used.has(subnetKey(entry.config))) continue;
      if (!best || Math.abs(entry.macs - target) < Math.abs(best.macs - target)) best = entry;
    }
    const chosen = best as { config: SubnetConfig; macs: number };
    used.add(subnetKey(chosen.config));
    picked.push(chosen);
  }
  picked.push(fullEntry);
  return picked.sort((a, b) => a.macs - b.macs);
}

export async function runRankingBench(options: RankingBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const profile = options.quick ? QUICK : FULL;
  const backend = await initBackend();
  const started = performance.now();
  const spec = loadNetwork(options.network ?? DEMO_NETWORK);
  const dataset = benchDataset(spec, profile.data);
  const trainConfig: Partial<SupernetTrainConfig> = demoTrainConfig(profile.epochs);
  const stepsPerEpoch = Math.floor(profile.data.trainSize / (trainConfig.batchSize ?? DEMO_TRAIN_CONFIG.batchSize));
  const standaloneSteps = options.standaloneSteps ?? Math.max(1, Math.round(profile.standaloneEpochs * stepsPerEpoch));
  const count = options.subnets ?? profile.subnets;
  const scoring = { calibrationBatches: profile.calibrationBatches };
  log(
    `ranking bench (${options.quick ? 'QUICK: tiny settings, numbers mean nothing' : 'full'}): ${spec.name}, ${count} sub-networks, ` +
      `super-network ${profile.epochs} epochs of ${profile.data.trainSize} images, stand-alone ${standaloneSteps} steps each, backend ${backend.description}, ` +
      `load ${os.loadavg()[0]?.toFixed(1)}`,
  );

  log('  training the super-network (ordered dropout)...');
  const supernet = await trainTimedSupernet(spec, dataset, { ...trainConfig, orderedDropout: true }, log);
  log(`    ${supernet.steps} steps in ${supernet.trainSeconds.toFixed(0)} s, last loss ${supernet.finalLoss.toFixed(3)}`);
  const fullMacs = resolveNetwork(spec).macs;
  const picked = subnetsOverMacRange(spec, count, 7);
  const rows: { macs: number; macsFraction: number; superNetworkTop1: number; standaloneTop1: number; standaloneSeconds: number; lastLoss: number; subnet: unknown }[] = [];
  for (const [i, p] of picked.entries()) {
    const superNetworkTop1 = await scoreSubnet(supernet.weights, dataset, p.config, 'heldout', scoring);
    const weights = SupernetWeights.init(spec, 1000 + i);
    const t0 = performance.now();
    const { losses } = await trainSubnetwork({ weights, subnet: p.config, dataset, steps: standaloneSteps, config: { ...trainConfig, seed: 1 } });
    const standaloneSeconds = (performance.now() - t0) / 1000;
    const standaloneTop1 = await scoreSubnet(weights, dataset, p.config, 'heldout', scoring);
    weights.dispose();
    const tail = losses.slice(-10);
    rows.push({
      macs: p.macs,
      macsFraction: p.macs / fullMacs,
      superNetworkTop1,
      standaloneTop1,
      standaloneSeconds,
      lastLoss: tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length),
      subnet: subnetToJson(searchSpace(spec), p.config),
    });
    log(
      `  ${String(i + 1).padStart(2)}/${picked.length} ${(p.macs / 1e6).toFixed(3)}M MACs (${((100 * p.macs) / fullMacs).toFixed(0)}%): ` +
        `super-network ${(100 * superNetworkTop1).toFixed(1)}%, stand-alone ${(100 * standaloneTop1).toFixed(1)}% (${standaloneSeconds.toFixed(0)} s)`,
    );
  }
  supernet.weights.dispose();
  const superNetwork = rows.map((r) => r.superNetworkTop1);
  const standalone = rows.map((r) => r.standaloneTop1);
  const macs = rows.map((r) => r.macs);
  const tau = kendallTau(superNetwork, standalone);
  const tauStandaloneVsMacs = kendallTau(macs, standalone);
  const tauSupernetVsMacs = kendallTau(macs, superNetwork);
  const benchSeconds = (performance.now() - started) / 1000;
  log(
    `Kendall τ(super-network, stand-alone) = ${tau.toFixed(2)} over ${rows.length} sub-networks (goal ≥ 0.5: ${tau >= 0.5 ? 'met' : 'NOT met'}); ` +
      `for reference τ(MACs, stand-alone) = ${tauStandaloneVsMacs.toFixed(2)}, τ(MACs, super-network) = ${tauSupernetVsMacs.toFixed(2)}; ${benchSeconds.toFixed(0)} s`,
  );
  const out = {
    benchmark: 'ranking',
    mode: options.quick ? 'quick (tiny settings; not meaningful)' : 'full',
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    backend: backend.description,
    network: spec.name,
    dataset: { kind: 'synthetic classification', ...profile.data },
    superNetworkTrainConfig: supernet.config,
    superNetworkTrainSeconds: supernet.trainSeconds,
    superNetworkLastLoss: supernet.finalLoss,
    standaloneSteps,
    standaloneTrainConfig: { ...trainConfig, seed: 1 },
    score: `held-out top-1 (${profile.data.heldoutSize} images), BN recalibrated on ${profile.calibrationBatches} training batches`,
    subnetworks: rows,
    kendallTauSuperNetworkVsStandalone: tau,
    goalTauAtLeast0_5Met: tau >= 0.5,
    kendallTauMacsVsStandalone: tauStandaloneVsMacs,
    kendallTauMacsVsSuperNetwork: tauSupernetVsMacs,
    benchSeconds,
  };
  const outFile = options.outFile === undefined ? (options.quick ? join(os.tmpdir(), 'ranking-quick.json') : DEFAULT_OUT) : options.outFile;
  if (outFile !== null) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(out, null, 2)}\n`);
    log(`wrote ${outFile}`);
  }
  return out;
}

function numberArg(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive whole number`);
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const subnets = numberArg(argv, '--subnets');
  const standaloneSteps = numberArg(argv, '--steps');
  const network = argv.includes('--network') ? argv[argv.indexOf('--network') + 1] : undefined;
  await runRankingBench({
    quick: argv.includes('--quick'),
    ...(subnets === undefined ? {} : { subnets }),
    ...(standaloneSteps === undefined ? {} : { standaloneSteps }),
    ...(network === undefined ? {} : { network }),
  });
}
