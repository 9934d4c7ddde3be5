/** What every part of the ablation bench shares: the profile, the data set, the recipes and the trained super-networks. */
import os from 'node:os';
import type { NetworkSpec } from '../../core/arch/index.ts';
import { fullSubnet, loadNetwork, searchSpace } from '../../core/arch/index.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import type { SupernetTrainConfig } from '../../core/supernet/training/config.ts';
import { FINAL_TRAIN_DEFAULTS, demoTrainConfig } from '../../core/supernet/training/recipes.ts';
import type { TensorBackend } from '../../core/tensor/backend.ts';
import { benchDataset, scoreSubnet, trainTimedSupernet, type TrainedSupernet } from '../supernet-runs.ts';
import type { AblationBenchOptions } from './options.ts';
import { CBC_NETWORK, FULL, QUICK, supernetCheckpointDir, type Profile } from './profiles.ts';
import { pct } from './runs.ts';

export interface BenchContext {
  options: AblationBenchOptions;
  profile: Profile;
  dataset: Dataset;
  log: (line: string) => void;
  /** The demo's super-network recipe with this profile's epochs (and the options' sampling overrides). */
  trainConfig: Partial<SupernetTrainConfig>;
  /** NetAdaptV1 fine-tuning and the final training of discovered networks: the product's short-training defaults. */
  fineTuneConfig: Partial<SupernetTrainConfig>;
  /** The super-network of `spec` (or its plain-trained full network), trained once and shared by the parts. */
  trained(spec: NetworkSpec, orderedDropout: boolean): Promise<TrainedSupernet>;
  /** Steps and seconds of every network trained so far. */
  trainingSummary(): Record<string, unknown>;
  dispose(): void;
}

/** One part's record in the result file and its goals. */
export interface PartResult {
  out: Record<string, unknown>;
  goals: Record<string, unknown>;
}

export function benchProfile(options: AblationBenchOptions): Profile {
  const base = options.quick ? QUICK : FULL;
  return {
    ...base,
    a: { ...base.a, mcd: base.a.mcd.map((s) => (options.mcdShrink ? { ...s, mcdShrink: options.mcdShrink } : s)) },
    b: {
      ...base.b,
      ...(options.cbcTarget !== undefined ? { target: options.cbcTarget } : {}),
      ...(options.cbcSeeds !== undefined ? { seeds: options.cbcSeeds } : {}),
      ...(options.standaloneEpochs !== undefined ? { standaloneEpochs: options.standaloneEpochs } : {}),
    },
  };
}

export function createBenchContext(options: AblationBenchOptions, backend: TensorBackend): BenchContext {
  const log = options.log ?? ((line: string) => console.log(line));
  const profile = benchProfile(options);
  const dataset = benchDataset(loadNetwork(CBC_NETWORK), profile.data);
  // The training recipe of the demo (re-read at run time: it is being tuned), with this profile's epoch count.
  const trainConfig: Partial<SupernetTrainConfig> = {
    ...demoTrainConfig(profile.epochs),
    ...(options.depthSampling ? { depthSampling: options.depthSampling } : {}),
    ...(options.removalShare !== undefined ? { removalShare: options.removalShare } : {}),
  };
  const fineTuneConfig: Partial<SupernetTrainConfig> = { ...FINAL_TRAIN_DEFAULTS };
  log(
    `ablation bench (${options.quick ? 'QUICK: tiny settings, numbers mean nothing' : 'full'}): synthetic 32×32, ` +
      `${profile.data.trainSize} train / ${profile.data.heldoutSize} held-out / ${profile.data.testSize} test images, ` +
      `${profile.epochs} epochs of ${trainConfig.optimizer} lr ${trainConfig.lr}, backend ${backend.description}, ${os.cpus().length} cores, ` +
      `load ${os.loadavg()[0]?.toFixed(1)}`,
  );
  const supernets = new Map<string, TrainedSupernet>();
  return {
    options,
    profile,
    dataset,
    log,
    trainConfig,
    fineTuneConfig,
    async trained(spec, orderedDropout) {
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
    },
    trainingSummary: () =>
      Object.fromEntries([...supernets].map(([key, s]) => [key, { network: s.spec.name, steps: s.steps, trainSeconds: s.trainSeconds, lastLoss: s.finalLoss }])),
    dispose: () => {
      for (const s of supernets.values()) s.weights.dispose();
    },
  };
}
