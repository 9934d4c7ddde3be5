export { SupernetWeights, paramLayout, BN_EPSILON, type ParamInfo } from './weights.ts';
export { planBatch, resolveCached, type BatchPlan, type LayerPlan } from './plan.ts';
export { maskedForward, type MaskedForwardOptions } from './forward.ts';
export { sampleBatchSubnets, type KernelSampling, type SamplingOptions } from './sampling.ts';
export { materialize, foldedWeights, SlimNetwork, type SlimParams } from './materialize.ts';
export { saveCheckpoint, loadCheckpoint, checkpointExists, checkTensorsMatch } from './checkpoint.ts';
export {
  SupernetTrainer,
  trainSupernet,
  learningRate,
  DEFAULT_TRAIN_CONFIG,
  type SupernetTrainConfig,
  type TrainEvent,
  type TrainerOptions,
} from './train.ts';
export {
  createSupernetEvaluator,
  loadSupernetEvaluator,
  loadSupernetWeights,
  type Evaluation,
  type EvaluatorOptions,
  type SupernetEvaluator,
} from './evaluate.ts';
