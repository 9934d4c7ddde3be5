/**
 * `netadapt search --network … --target … --checkpoint …`: the common case without a JSON file. The flags are the
 * app's Search screen fields (app/api/contract/schemas.ts startSearchParams) in kebab case, with the same defaults,
 * validated by the same schema and turned into the same pipeline configuration (app/search-options.ts).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../../core/errors.ts';
import { DEFAULT_FINAL_TRAINING, parseDatasetChoice, startSearchParams } from '../../api/contract/schemas.ts';
import type { SearchConfigInput } from '../../../pipeline/config.ts';
import { searchConfigFromOptions, type ResolvedSearchPaths } from '../../search-options.ts';

export interface SearchFlagOptions {
  network?: string;
  target?: string;
  checkpoint?: string;
  dataset?: string;
  evaluator?: string;
  metric?: string;
  device?: string;
  lazyProfiling?: boolean;
  algorithm?: string;
  samplesPerIteration?: string;
  layersPerSample?: string;
  reduction?: string;
  decay?: string;
  evalImages?: string;
  maxIterations?: string;
  seed?: string;
  finalTraining?: string;
  finalSteps?: string;
  finalEpochs?: string;
  distill?: boolean;
  finalBatchSize?: string;
}

const defaults = startSearchParams.parse({ evaluator: 'synthetic', finalTraining: { mode: 'none' } });

export function addSearchFlags(command: Command): void {
  command
    .option('--network <name>', 'a new search of this zoo network from flags (instead of --config)')
    .option('--target <value>', `final target: a percentage of the initial network or a value in the metric's unit (default ${defaults.target})`)
    .option('--checkpoint <dir>', 'the trained super-network (netadapt train-supernet --out)')
    .option('--dataset <spec>', 'the data sub-networks are scored on (the super-network\'s): synthetic[?trainSize=…&heldoutSize=…&testSize=…] | cifar10:<dir> | folder:<dir> | depth-pairs:<dir>')
    .option('--evaluator <kind>', 'supernet (held-out accuracy with shared weights; default) | synthetic (a dry run of the optimizer)')
    .option('--metric <name>', `latency (a device's latency table) | macs | params (default ${defaults.metric})`)
    .option('--device <id>', `latency: host (this computer) or an adb serial (default ${defaults.deviceId})`)
    .option('--no-lazy-profiling', 'latency: only use layers already in the table (default: measure missing ones while searching)')
    .option('--algorithm <name>', `mcd (NetAdaptV2) | scd (NetAdaptV1) (default ${defaults.algorithm})`)
    .option('--samples-per-iteration <J>', `MCD: samples per iteration (default ${defaults.samplesPerIteration})`)
    .option('--layers-per-sample <L>', `MCD: layers shrunk per sample (default ${defaults.layersPerSample})`)
    .option('--reduction <r>', `first iteration's resource reduction, e.g. 6% (default ${defaults.reduction})`)
    .option('--decay <d>', `reduction multiplier per iteration (default ${defaults.decay})`)
    .option('--eval-images <n>', `held-out images per sample (default ${defaults.evalImages})`)
    .option('--seed <n>', `seed (default ${defaults.seed})`)
    .option('--final-training <mode>', `after the search: supernet | scratch | trajectory | none (default ${DEFAULT_FINAL_TRAINING.mode})`)
    .option('--final-steps <n>', `final training length in batches (default ${DEFAULT_FINAL_TRAINING.steps})`)
    .option('--final-epochs <n>', 'final training length in epochs (instead of --final-steps)')
    .option('--no-distill', 'final training without distillation from the full network')
    .option('--final-batch-size <n>', `final training batch (default ${DEFAULT_FINAL_TRAINING.batchSize})`);
}

const FLAG_OF: Record<string, string> = {
  samplesPerIteration: '--samples-per-iteration',
  layersPerSample: '--layers-per-sample',
  evalImages: '--eval-images',
  maxIterations: '--max-iterations',
  deviceId: '--device',
  'finalTraining.mode': '--final-training',
  'finalTraining.steps': '--final-steps',
  'finalTraining.epochs': '--final-epochs',
  'finalTraining.batchSize': '--final-batch-size',
  checkpoint: '--checkpoint',
};

/** A number when the text is one (the schema reports the rest in words). */
function numeric(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? value : text;
}

export function searchConfigFromFlags(flags: SearchFlagOptions, paths: ResolvedSearchPaths): SearchConfigInput {
  let dataset: unknown;
  try {
    dataset = flags.dataset === undefined ? undefined : parseDatasetChoice(flags.dataset);
  } catch (error) {
    throw new ValidationError(`--dataset: ${(error as Error).message}`);
  }
  const evaluator = flags.evaluator ?? 'supernet';
  const mode = flags.finalTraining ?? (evaluator === 'synthetic' ? 'none' : DEFAULT_FINAL_TRAINING.mode);
  const raw: Record<string, unknown> = {
    network: flags.network,
    evaluator,
    ...(flags.checkpoint !== undefined ? { checkpoint: resolve(flags.checkpoint) } : {}),
    ...(dataset !== undefined ? { dataset } : {}),
    ...(flags.metric !== undefined ? { metric: flags.metric } : {}),
    ...(flags.device !== undefined ? { deviceId: flags.device } : {}),
    ...(flags.lazyProfiling === false ? { lazyProfiling: false } : {}),
    ...(flags.target !== undefined ? { target: numeric(flags.target) } : {}),
    ...(flags.algorithm !== undefined ? { algorithm: flags.algorithm } : {}),
    samplesPerIteration: numeric(flags.samplesPerIteration),
    layersPerSample: numeric(flags.layersPerSample),
    reduction: numeric(flags.reduction),
    decay: numeric(flags.decay),
    evalImages: numeric(flags.evalImages),
    maxIterations: numeric(flags.maxIterations),
    seed: numeric(flags.seed),
    finalTraining: {
      mode,
      ...(flags.finalSteps !== undefined ? { steps: numeric(flags.finalSteps) } : {}),
      ...(flags.finalEpochs !== undefined ? { epochs: numeric(flags.finalEpochs) } : {}),
      ...(flags.distill === false ? { distill: false } : {}),
      ...(flags.finalBatchSize !== undefined ? { batchSize: numeric(flags.finalBatchSize) } : {}),
    },
  };
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  const parsed = startSearchParams.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.');
      return `${FLAG_OF[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`}: ${issue.message}`;
    });
    throw new ValidationError(`the search flags are not valid: ${problems[0] ?? ''}`, problems);
  }
  return searchConfigFromOptions(parsed.data, paths);
}
