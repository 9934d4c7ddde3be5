/** Named training recipes: the demo's super-network recipe and the defaults of the short trainings. */
import type { SupernetTrainConfig } from './config.ts';
import { DEFAULT_TRAIN_CONFIG } from './config.ts';

/**
 * Training defaults for the demo network (mobilenet-v3-demo-32 on synthetic 32×32 data, batch 32, SGD lr 0.1):
 * 2 epochs of the full network alone, then 10 epochs of ordered dropout with coherent width sampling, per-width-group
 * BN statistics and width-weighted loss. Measured (Nov 2026, 8,000 images, 2 shared cores), full-network held-out
 * top-1: 12 epochs with the warm start 96.8% (seed 2; 8 epochs: 89.7%); without it 95.0% (seed 1) but 67.2% (seed 2) —
 * ordered dropout from scratch sat near chance for several epochs, for a random number of them; 4 epochs 53%.
 * Plain training of the full network alone: 93% after 4 epochs. Depth sampling 'single' (one random one-layer removal
 * per image, sampling.ts): removing one layer from a wide network is what the search tries each iteration; with
 * 'coherent' such sub-networks were never trained and a third of a random set collapsed to chance (Kendall τ against
 * stand-alone training 0.51 → 0.69 with 'single', full network 97.6% → 97.0%). At most a quarter of a batch's images
 * lose a layer that way (removalShare): the same for this network (7 removable layers, 30 free images), but on the CBC
 * network (19 removable layers) sharing 19 of 30 images cost its other sub-networks 3–7 points (bench/ablation.ts).
 */
export const DEMO_NETWORK = 'mobilenet-v3-demo-32';
export const DEMO_TRAIN_CONFIG: SupernetTrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  epochs: 12,
  fullNetworkEpochs: 2,
  batchSize: 32,
  optimizer: 'sgd',
  lr: 0.1,
  weightDecay: 4e-5,
  lrDecayRate: 0.5,
  lrDecayEpochs: 6,
  warmupEpochs: 0.2,
  labelSmoothing: 0.1,
  emaDecay: 0.99,
  widthSampling: 'coherent',
  bnGroups: 4,
  widthLossPower: 1,
};

/** The demo recipe for another number of epochs: the full-network warm start and the LR decay scale alike. */
export function demoTrainConfig(epochs: number = DEMO_TRAIN_CONFIG.epochs): SupernetTrainConfig {
  const scale = epochs / DEMO_TRAIN_CONFIG.epochs;
  return {
    ...DEMO_TRAIN_CONFIG,
    epochs,
    fullNetworkEpochs: DEMO_TRAIN_CONFIG.fullNetworkEpochs * scale,
    lrDecayEpochs: DEMO_TRAIN_CONFIG.lrDecayEpochs * scale,
  };
}

/**
 * Defaults of the short trainings of one sub-network (final training, NetAdaptV1 fine-tuning) on small inputs: SGD
 * moved the loss fastest in our short runs.
 */
export const FINAL_TRAIN_DEFAULTS: Partial<SupernetTrainConfig> = {
  optimizer: 'sgd',
  lr: 0.02,
  batchSize: 64,
  weightDecay: 4e-5,
  warmupEpochs: 0.1,
  lrDecayRate: 0.5,
  lrDecayEpochs: 2,
  labelSmoothing: 0.1,
};
