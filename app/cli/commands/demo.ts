/**
 * `netadapt demo` (`npm run demo`): the whole NetAdaptV2 pipeline on embedded defaults — synthetic classification
 * data, a small-input MobileNet, a short super-network training (ordered dropout + CBC + superkernel), a latency
 * table built lazily with the host profiler, an MCD search to 50% of the initial latency, a short final training of
 * the discovered network (from the super-network's weights, distilled from the full network), the discovered network
 * scored on the test split before and after it, and the report. Every stage persists in the workspace folder: run it again after an
 * interruption (even kill -9) and it continues where it stopped.
 */
import { mkdirSync } from 'node:fs';
import { withFileErrors } from '../../../core/fs-errors.ts';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadNetwork, resolveNetwork } from '../../../core/arch/index.ts';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { demoTrainConfig } from '../../../core/supernet/training/recipes.ts';
import { parseSearchConfig } from '../../../pipeline/config.ts';
import { openJobDataset } from '../../../pipeline/dataset.ts';
import { testScoreStep } from '../../../pipeline/steps/test-score.ts';
import { trainSupernetStep } from '../../../pipeline/steps/train-supernet.ts';
import { ProgressLine } from '../progress.ts';
import { runSearchFromConfig } from './search.ts';

const FINAL_TRAINING_STEPS = 150;

interface DemoOptions {
  dir: string;
  network: string;
  epochs: string;
  trainSize: string;
  target: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the whole pipeline on embedded defaults: super-network training, lazy host latency table, MCD search, report')
    .option('--dir <folder>', 'where the workspace, checkpoint and report go', 'workspace/demo')
    .option('--network <network>', 'zoo network', 'mobilenet-v3-demo-32')
    .option('--epochs <n>', 'super-network training epochs (the first 2 train the full network alone)', '12')
    .option('--train-size <n>', 'synthetic training images', '6000')
    .option('--target <percent>', 'final latency target, as a percentage of the initial network', '50%')
    .action(async (options: DemoOptions) => runDemo(options));
}

function count(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ValidationError(`${name} must be a whole number ≥ 1 (got "${text}")`);
  return value;
}

async function runDemo(options: DemoOptions): Promise<void> {
  const started = performance.now();
  const dir = resolve(options.dir);
  withFileErrors({ path: dir, what: 'the demo folder', action: 'write' }, () => mkdirSync(dir, { recursive: true }));
  const workspacePath = join(dir, 'netadapt.sqlite');
  const checkpoint = join(dir, 'supernet');
  const output = join(dir, 'result');
  const spec = loadNetwork(options.network);
  const epochs = count(options.epochs, '--epochs');
  const dataset = `synthetic?trainSize=${count(options.trainSize, '--train-size')}&heldoutSize=1000&testSize=1000`;
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

  console.log(`NetAdapt Studio demo — everything goes to ${dir}`);
  const network = resolveNetwork(spec);
  console.log(`network ${spec.name}: ${(network.macs / 1e6).toFixed(2)}M MACs, ${(network.params / 1e6).toFixed(2)}M params, ${network.space.layers.length} searchable layers`);

  // 1. Super-network training (resumes from the last checkpoint of an earlier demo run).
  const data = await openJobDataset(dataset);
  const { initBackend } = await import('../../../core/tensor/backend.ts');
  const backend = await initBackend();
  console.log(`\n[1/4] training the super-network (${epochs} epochs, ordered dropout + channel-level bypass + superkernel) on ${backend.description}`);
  const progress = new ProgressLine();
  const { interrupted } = await trainSupernetStep({
    spec,
    dataset: data,
    config: demoTrainConfig(epochs),
    outDir: checkpoint,
    resume: 'auto',
    // A checkpoint from an earlier version of the demo recipe: resuming would mix two recipes.
    onRecipeMismatch: (error) =>
      new UserError(`${dir} holds a super-network trained with an earlier demo recipe (${error.key} ${String(error.saved)}, now ${String(error.given)})`, [
        `delete ${dir} or pass --dir <another folder> to train with the current recipe`,
      ]),
    onEvent: (event) => {
      if (event.type !== 'supernet') return;
      const e = event.event;
      if (e.type === 'step' || e.type === 'epoch') progress.update(e.step, e.totalSteps, `epoch ${e.epoch + 1}, loss ${e.loss.toFixed(3)}, ${e.imagesPerSec.toFixed(0)} img/s`, e.etaSec);
    },
  });
  progress.done();
  if (interrupted) return;
  console.log(`super-network trained (${elapsed()}); checkpoint ${checkpoint}`);

  // 2. MCD search guided by the host latency table, measured lazily as the search needs entries.
  console.log(`\n[2/4] MCD search to ${options.target} of the initial latency (host TFLite runtime, lazy latency table)`);
  const config = parseSearchConfig(
    {
      network: options.network,
      dataset,
      metric: 'latency-lut',
      latency: { device: 'host', lazyProfiling: true },
      target: options.target,
      algorithm: 'mcd',
      J: 8,
      L: 3,
      reduction: '6%',
      decay: 0.98,
      seed: 1,
      workspace: workspacePath,
      checkpoint,
      output,
      evaluator: { kind: 'supernet', calibrationBatches: 3, limit: 500 },
      // ~1 minute on 2 cores (≈ 150–300 images/s with the teacher's forward pass).
      finalTraining: { mode: 'supernet', steps: FINAL_TRAINING_STEPS, distill: true, batchSize: 64 },
    },
    'demo search configuration',
  );
  const workspace = openWorkspace(workspacePath);
  let resumeRunId: string | undefined;
  try {
    // A finished search is "resumed" too: that returns its stored result and continues (or re-reads) the final training.
    const previous = new SqliteRunStore(workspace).listRuns().find((run) => run.network === spec.name);
    resumeRunId = previous?.id;
    if (previous) console.log(previous.status === 'done' ? `search ${previous.id} already finished in an earlier demo run` : `resuming search ${previous.id}`);
  } finally {
    workspace.close();
  }
  console.log(`[3/4] after it, a short final training of the discovered network (${FINAL_TRAINING_STEPS} steps from the super-network weights, distilled from the full network)`);
  const outcome = await runSearchFromConfig(config, { workspace: workspacePath, output }, resumeRunId);
  console.log(`search and final training finished (${elapsed()})`);
  if (outcome.result.status !== 'done') return;

  // 4. The discovered network on data the search never saw.
  console.log('\n[4/4] scoring the discovered network on the test split (shared weights, BN recalibrated)');
  const subnet = outcome.result.best.config;
  const { full, discovered } = await testScoreStep({ spec, checkpoint, dataset: data, subnet });
  const net = resolveNetwork(spec, subnet);
  console.log(`full network:       test top-1 ${(full.score * 100).toFixed(1)}%  ${(network.macs / 1e6).toFixed(2)}M MACs`);
  console.log(`(chance: ${(100 / (data.numClasses ?? 10)).toFixed(1)}%)`);
  console.log(`discovered network: test top-1 ${(discovered.score * 100).toFixed(1)}%  ${(net.macs / 1e6).toFixed(2)}M MACs (shared weights, before the final training)`);
  const trained = outcome.finalTraining;
  if (trained?.test) {
    console.log(
      `after final training: test top-1 ${(trained.test.score * 100).toFixed(1)}%  ` +
        `(held-out ${((trained.before ?? NaN) * 100).toFixed(1)}% → ${(trained.heldout.score * 100).toFixed(1)}%, ${trained.steps} steps, ${trained.seconds.toFixed(0)} s)`,
    );
    if (trained.tflite) console.log(`trained network: ${trained.tflite}`);
  }
  console.log(`\ndone in ${elapsed()}. Report: ${join(output, 'report.html')} (also report.md, samples.svg, network.json)`);
}
