/**
 * Does the super-network rank sub-networks like their size? Scores sub-networks spread over the MAC range with the
 * shared weights (BN recalibrated, held-out split) and reports the Spearman correlation of score with MACs, for two
 * populations:
 * - 'training': drawn by the training sampler itself (sampling.ts with the run's settings and an unused seed), i.e.
 *   the sub-networks ordered dropout actually trained (8 steps' batches, duplicates removed);
 * - 'uniform': every layer's width level and kernel drawn independently and uniformly (core/arch randomSubnet);
 * - 'shrink': what the search explores — the full network with random layers shrunk one width level (or one kernel
 *   size) at a time until a random MAC fraction between 20% and 95% is reached.
 */
import type { NetworkSpec, SearchSpace, SubnetConfig } from '../arch/index.ts';
import { fullSubnet, randomSubnet, resolveNetwork, searchSpace, subnetKey } from '../arch/index.ts';
import { Rng } from '../random.ts';
import { spearman } from '../stats.ts';
import type { SupernetEvaluator } from './evaluate.ts';
import { sampleBatchSubnets } from './sampling.ts';
import { samplingOptions, type SamplingConfig } from './training/config.ts';

export type RankingPopulation = 'training' | 'uniform' | 'shrink';

export interface RankedSubnet {
  config: SubnetConfig;
  macs: number;
  macsFraction: number;
  score: number;
}

export interface RankingResult {
  population: RankingPopulation;
  subnets: RankedSubnet[];
  spearmanScoreVsMacs: number;
}

/** `count` distinct sub-networks of the population, spread evenly over their MAC range (full network excluded). */
export function pickSubnetsOverMacs(
  spec: NetworkSpec,
  population: RankingPopulation,
  count: number,
  train: SamplingConfig,
  seed: number,
): { config: SubnetConfig; macs: number }[] {
  const space = searchSpace(spec);
  const fullMacs = resolveNetwork(spec).macs;
  const rng = new Rng(seed);
  const pool =
    population === 'training'
      ? Array.from({ length: 8 }, (_, step) =>
          sampleBatchSubnets(space, 64, seed, step, samplingOptions(train)),
        ).flat()
      : population === 'shrink'
        ? Array.from({ length: 64 }, () => shrunkFromFull(spec, space, fullMacs * (0.2 + 0.75 * rng.next()), rng))
        : Array.from({ length: 256 }, () => randomSubnet(space, rng));
  const distinct = [...new Map(pool.map((config) => [subnetKey(config), config])).values()];
  const candidates = distinct
    .map((config) => ({ config, macs: resolveNetwork(spec, config).macs }))
    .filter((c) => c.macs < fullMacs)
    .sort((a, b) => a.macs - b.macs);
  if (candidates.length < count) throw new RangeError(`only ${candidates.length} distinct sub-networks to rank, ${count} wanted`);
  return Array.from({ length: count }, (_, i) => candidates[Math.round((i * (candidates.length - 1)) / (count - 1))]!);
}

function shrunkFromFull(spec: NetworkSpec, space: SearchSpace, macsLimit: number, rng: Rng): SubnetConfig {
  const config = fullSubnet(space);
  for (;;) {
    const shrinkable = space.layers.flatMap((layer, i) =>
      (config.levels[i] as number) > layer.minLevel || (config.kernels[i] as number) > (layer.kernels[0] as number) ? [i] : []);
    if (shrinkable.length === 0 || resolveNetwork(spec, config).macs <= macsLimit) return config;
    const i = rng.pick(shrinkable);
    const layer = space.layers[i]!;
    const kernelIndex = layer.kernels.indexOf(config.kernels[i] as number);
    const level = config.levels[i] as number;
    if (kernelIndex > 0 && (level === layer.minLevel || rng.next() < 0.5)) config.kernels[i] = layer.kernels[kernelIndex - 1] as number;
    else config.levels[i] = level - 1;
  }
}

export async function rankSubnetworks(
  evaluator: SupernetEvaluator,
  spec: NetworkSpec,
  population: RankingPopulation,
  options: { count: number; seed: number; train: Parameters<typeof pickSubnetsOverMacs>[3] },
): Promise<RankingResult> {
  const fullMacs = resolveNetwork(spec).macs;
  const subnets: RankedSubnet[] = [];
  for (const picked of pickSubnetsOverMacs(spec, population, options.count, options.train, options.seed)) {
    const { score } = await evaluator.evaluate(picked.config);
    subnets.push({ ...picked, macsFraction: picked.macs / fullMacs, score });
  }
  return {
    population,
    subnets,
    spearmanScoreVsMacs: spearman(subnets.map((s) => s.macs), subnets.map((s) => s.score)),
  };
}
