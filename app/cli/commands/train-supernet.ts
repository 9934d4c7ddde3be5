/**
 * `netadapt train-supernet`: trains a super-network with ordered dropout and channel-level bypass connections,
 * checkpointing every epoch and on Ctrl-C; `--resume` continues exactly where it stopped.
 */
import type { Command } from 'commander';
import { loadNetwork } from '../../../core/arch/index.ts';
import { openDataset } from '../../../core/data/open.ts';
import { ValidationError } from '../../../core/errors.ts';
import { DEPTH_SAMPLINGS, type DepthSampling } from '../../../core/supernet/sampling.ts';
import type { SupernetTrainConfig } from '../../../core/supernet/training/config.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG, demoTrainConfig } from '../../../core/supernet/training/recipes.ts';
import { initBackend, type BackendPreference } from '../../../core/tensor/backend.ts';
import type { PipelineEvent } from '../../../pipeline/events.ts';
import { trainSupernetStep } from '../../../pipeline/steps/train-supernet.ts';

interface Options {
  network: string;
  data?: string;
  dataset: string;
  recipe: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  optimizer?: string;
  seed?: string;
  out: string;
  resume?: boolean;
  od: boolean;
  emaDecay?: string;
  checkpointEvery?: string;
  workers?: string;
  fullNetworkEpochs?: string;
  depthSampling?: string;
  gradClip?: string;
  removalShare?: string;
  backend: string;
  evalImages: string;
  evalEveryEpoch?: boolean;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function num(name: string, value: string | undefined, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new ValidationError(`--${name} must be a${integer ? ' whole' : ''} number (got "${value}")`);
  }
  return n;
}

function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

export function register(program: Command): void {
  program
    .command('train-supernet')
    .description('train a NetAdaptV2 super-network (ordered dropout + channel-level bypass) and checkpoint it')
    .option('--network <name|file>', 'zoo network name or network .json', DEMO_NETWORK)
    .option('--dataset <spec>', 'dataset: synthetic | synthetic-depth | cifar10:<dir> | folder:<dir> | depth-pairs:<dir> (with ?key=value options)', 'synthetic')
    .option('--data <spec>', 'the same as --dataset (older name)')
    .option('--recipe <name>', 'demo: the demo\'s recipe, the app\'s defaults (12 epochs, the first 2 of the full network alone, SGD lr 0.1, batch 32) | base: the engine\'s base defaults (RMSProp lr 0.004, batch 64)', 'demo')
    .option('--epochs <n>', 'epochs to train (with --resume: the new total; default 12 with the demo recipe)')
    .option('--batch <n>', 'images per step (each image trains its own sub-network)')
    .option('--lr <rate>', 'peak learning rate')
    .option('--optimizer <name>', 'rmsprop | sgd')
    .option('--seed <n>', 'seed of initialization, data order and sub-network sampling')
    .requiredOption('--out <dir>', 'checkpoint folder')
    .option('--resume', 'continue the run checkpointed in --out')
    .option('--no-od', 'train only the full network (no ordered dropout; a baseline)')
    .option('--full-network-epochs <n>', 'train only the full network for this many epochs first, then ordered dropout (warm start; fractions allowed)')
    .option('--depth-sampling <mode>', 'who trains removed layers: single (one random removal per image; default) | multi (several per image) | random | coherent')
    .option('--removal-share <f>', 'with --depth-sampling single or multi: the largest share of a batch\'s images that loses layers (default 0.25)')
    .option('--grad-clip <norm>', 'clip each step\'s gradients to this global L2 norm (0: off)')
    .option('--ema-decay <d>', 'EMA decay of the weights (default 0.99 for short runs; the paper uses 0.9998)')
    .option('--checkpoint-every <steps>', 'also checkpoint every this many steps')
    .option('--workers <n>', 'data-parallel training threads, each on a shard of every batch (default: 1, or $NETADAPT_TRAIN_WORKERS)')
    .option('--backend <name>', 'tensor backend: auto | node | wasm | cpu', 'auto')
    .option('--eval-images <n>', 'held-out images for the held-out scores', '2000')
    .option('--eval-every-epoch', 'score the full network and the smallest sub-network on the held-out split after every epoch')
    .action(async (options: Options) => {
      const backend = await initBackend({ prefer: options.backend as BackendPreference });
      const spec = loadNetwork(options.network);
      const data = options.data ?? options.dataset;
      const dataset = await openDataset(data);
      if (options.recipe !== 'demo' && options.recipe !== 'base') throw new ValidationError(`--recipe must be demo or base (got "${options.recipe}")`);
      // A resumed run keeps its checkpoint's recipe: only the flags given are checked against it.
      const epochs = num('epochs', options.epochs, true);
      const config: Partial<SupernetTrainConfig> = options.recipe === 'demo' && !options.resume ? demoTrainConfig(epochs ?? DEMO_TRAIN_CONFIG.epochs) : {};
      const set = <K extends keyof SupernetTrainConfig>(key: K, value: SupernetTrainConfig[K] | undefined) => {
        if (value !== undefined) config[key] = value;
      };
      set('epochs', epochs);
      set('batchSize', num('batch', options.batch, true));
      set('lr', num('lr', options.lr));
      set('seed', num('seed', options.seed, true));
      set('emaDecay', num('ema-decay', options.emaDecay));
      set('checkpointEverySteps', num('checkpoint-every', options.checkpointEvery, true));
      set('workers', num('workers', options.workers, true));
      set('fullNetworkEpochs', num('full-network-epochs', options.fullNetworkEpochs));
      set('gradClipNorm', num('grad-clip', options.gradClip));
      set('removalShare', num('removal-share', options.removalShare));
      if (options.depthSampling !== undefined) {
        if (!DEPTH_SAMPLINGS.includes(options.depthSampling as DepthSampling)) {
          throw new ValidationError(`--depth-sampling must be one of ${DEPTH_SAMPLINGS.join(', ')} (got "${options.depthSampling}")`);
        }
        set('depthSampling', options.depthSampling as DepthSampling);
      }
      if (options.optimizer !== undefined) {
        if (options.optimizer !== 'rmsprop' && options.optimizer !== 'sgd') throw new ValidationError('--optimizer must be rmsprop or sgd');
        set('optimizer', options.optimizer);
      }
      if (!options.od) set('orderedDropout', false);
      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          process.stderr.write('\ninterrupted: saving a checkpoint after this step (Ctrl-C again to quit without saving)\n');
          controller.abort();
        } else {
          process.exit(130);
        }
      };
      process.on('SIGINT', onSigint);
      const isTty = process.stderr.isTTY === true;
      let lastDraw = 0;
      const onEvent = (event: PipelineEvent) => {
        if (event.type === 'phase' && event.status === 'started') {
          console.error(`${spec.name} on ${dataset.name}: ${event.message ?? ''}, backend ${backend.description}`);
          return;
        }
        if (event.type === 'supernet-heldout') {
          process.stderr.write(`  held-out after epoch ${event.epoch + 1}: full ${pct(event.full.score)}, smallest ${pct(event.smallest.score)}\n`);
          return;
        }
        if (event.type !== 'supernet') return;
        const e = event.event;
        if (e.type === 'step') {
          const now = Date.now();
          if (now - lastDraw < 250 && e.step !== e.totalSteps) return;
          lastDraw = now;
          const line = `epoch ${e.epoch + 1}  step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(4)}  ${e.imagesPerSec.toFixed(0)} img/s  ETA ${formatDuration(e.etaSec)}`;
          process.stderr.write(isTty ? `\r${line.padEnd(90)}` : '');
        } else if (e.type === 'epoch') {
          process.stderr.write(`${isTty ? '\r' : ''}epoch ${e.epoch + 1} done: mean loss ${e.loss.toFixed(4)}, ${e.imagesPerSec.toFixed(0)} img/s, ETA ${formatDuration(e.etaSec)}`.padEnd(90) + '\n');
        } else if (e.type === 'checkpoint' && e.reason === 'interrupt') {
          process.stderr.write(`checkpoint saved at step ${e.step}: ${e.path}\n`);
        }
      };
      let result;
      try {
        result = await trainSupernetStep({
          spec,
          dataset,
          config,
          outDir: options.out,
          resume: options.resume === true,
          evaluate: options.evalEveryEpoch ? 'epoch' : 'end',
          evalImages: num('eval-images', options.evalImages, true) ?? 2000,
          signal: controller.signal,
          onEvent,
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
      if (result.interrupted) {
        console.error(`stopped at step ${result.steps}/${result.totalSteps}; continue with: netadapt train-supernet --network ${options.network} --dataset ${data} --out ${options.out} --resume`);
        return;
      }
      const label = spec.task === 'classification' ? 'held-out top-1' : 'held-out δ1';
      const chance = spec.task === 'classification' && dataset.numClasses ? ` (chance ${pct(1 / dataset.numClasses)})` : '';
      console.log(`trained ${spec.name}: ${result.steps} steps, final loss ${result.lastLoss.toFixed(4)}`);
      const heldout = result.heldout;
      if (heldout) {
        console.log(`  full network     ${label} ${pct(heldout.full.score)}${chance}, ${(heldout.full.metrics['macs']! / 1e6).toFixed(1)}M MACs`);
        console.log(`  smallest subnet  ${label} ${pct(heldout.smallest.score)}, ${(heldout.smallest.metrics['macs']! / 1e6).toFixed(1)}M MACs`);
        if (spec.task === 'depth') console.log(`  full network RMSE ${heldout.full.metrics['rmse']?.toFixed(3)} m`);
      }
      console.log(`  checkpoint: ${options.out}`);
    });
}
