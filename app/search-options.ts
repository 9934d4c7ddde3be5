/**
 * The common-case search options (the app's Search screen and `netadapt search --network … --target …`), validated by
 * one schema (app/api/contract/schemas.ts startSearchParams: the same names and defaults in both), in the pipeline's
 * configuration language (pipeline/config.ts) — the same configuration a search.json gives.
 */
import { datasetShorthand, type StartSearchConfig } from './api/contract/schemas.ts';
import type { SearchConfigInput } from '../pipeline/config.ts';

export interface ResolvedSearchPaths {
  /** The checkpoint folder (the app resolves checkpoint ids; the CLI takes folders). */
  checkpoint?: string;
  workspace?: string;
  output?: string;
}

export function searchConfigFromOptions(options: StartSearchConfig, paths: ResolvedSearchPaths = {}): SearchConfigInput {
  const final = options.finalTraining;
  const checkpoint = paths.checkpoint ?? options.checkpoint;
  return {
    network: options.network,
    dataset: datasetShorthand(options.dataset),
    metric: options.metric === 'latency' ? 'latency-lut' : options.metric,
    ...(options.metric === 'latency' ? { latency: { device: options.deviceId, lazyProfiling: options.lazyProfiling } } : {}),
    target: options.target,
    algorithm: options.algorithm,
    J: options.samplesPerIteration,
    L: options.layersPerSample,
    reduction: options.reduction,
    decay: options.decay,
    seed: options.seed,
    budget: { maxIterations: options.maxIterations },
    ...(checkpoint !== undefined && options.evaluator === 'supernet' ? { checkpoint } : {}),
    ...(paths.workspace !== undefined ? { workspace: paths.workspace } : {}),
    ...(paths.output !== undefined ? { output: paths.output } : {}),
    evaluator: options.evaluator === 'synthetic' ? { kind: 'synthetic', seed: options.seed } : { kind: 'supernet', limit: options.evalImages, calibrationBatches: 3 },
    ...(final.mode !== 'none' && options.evaluator === 'supernet'
      ? {
          finalTraining: {
            mode: final.mode,
            ...(final.epochs !== undefined ? { epochs: final.epochs } : { steps: final.steps ?? 150 }),
            distill: final.distill,
            batchSize: final.batchSize,
          },
        }
      : {}),
  };
}
