/** The ablation bench's settings: the full and quick profiles, optimizer settings, the network pairs. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import { filtersOf, searchSpace } from '../../core/arch/index.ts';
import type { McdShrink, SearchAlgorithm } from '../../core/search/types.ts';
import type { SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import { DEMO_TRAIN_CONFIG } from '../../core/supernet/training/recipes.ts';
import type { BenchDataOptions } from '../supernet-runs.ts';

export interface OptimizerSetting {
  algorithm: SearchAlgorithm;
  /** MCD: samples per iteration (J); SCD ignores it. */
  samplesPerIteration: number;
  /** MCD: layers per sample (L). */
  layersPerSample: number;
  /** MCD: how a sample's L layers are shrunk (core/search/mcd.ts; default 'stop-at-target'). */
  mcdShrink?: McdShrink;
  /** Initial per-iteration reduction as a fraction of the initial MACs (decay 0.98). */
  reduction: number;
}

export interface Profile {
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

export const FULL: Profile = {
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

export const QUICK: Profile = {
  data: { trainSize: 512, heldoutSize: 128, testSize: 128 },
  epochs: 1,
  scoring: { calibrationBatches: 1 },
  a: { target: 0.7, scd: [scd(0.1)], mcd: [mcd(6, 4, 0.1), mcd(3, 4, 0.1)], mcdSeeds: [1] },
  b: { target: 0.6, mcd: mcd(4, 4, 0.1), finalSteps: 4, seeds: [1], standaloneEpochs: 0.1 },
  c: { target: 0.7, setting: mcd(3, 4, 0.1), fineTuneSteps: 2, finalSteps: 4 },
};

export const CBC_NETWORK = 'mobilenet-v3-demo-cbc-32';
export const PLAIN_NETWORK = 'mobilenet-v3-demo-32';
export const CBC_PAIRS = {
  demo: { cbc: CBC_NETWORK, plain: PLAIN_NETWORK },
  deep: { cbc: 'mobilenet-v3-demo-deep-cbc-32', plain: 'mobilenet-v3-demo-deep-32' },
  /** App. D's MobileNetV1 ablation at 32×32: the CIFAR form (stride-1 stem) with and without bypass. */
  'mobilenet-v1': { cbc: 'mobilenet-v1-cifar-cbc-32', plain: 'mobilenet-v1-cifar-32' },
} as const;
export type CbcPair = keyof typeof CBC_PAIRS;
export const DEFAULT_OUT = fileURLToPath(new URL('../results/ablation.json', import.meta.url));

/** One checkpoint directory per network, recipe and data set: `<network>-<hash of the three>`. */
export function supernetCheckpointDir(root: string, spec: NetworkSpec, config: Partial<SupernetTrainConfig>, data: Profile['data']): string {
  const hash = createHash('sha256').update(JSON.stringify({ spec, config, data })).digest('hex').slice(0, 12);
  return join(root, `${spec.name}-${hash}`);
}

export function describeSetting(s: OptimizerSetting): string {
  const r = `r=${+(s.reduction * 100).toFixed(2)}%`;
  const shrink = s.mcdShrink === 'every-chosen-layer' ? ' all-L' : '';
  return s.algorithm === 'mcd' ? `MCD J=${s.samplesPerIteration} L=${s.layersPerSample}${shrink} ${r}` : `SCD ${r}`;
}

/** Searchable layers (not SE) that a sub-network removes entirely (0 filters: bypassed or skipped). */
export function removedLayers(spec: NetworkSpec, config: SubnetConfig): string[] {
  const space = searchSpace(spec);
  return space.layers.filter((layer) => layer.role !== 'se' && filtersOf(space, config, layer.index) === 0).map((layer) => layer.id);
}

