/**
 * Where the time of one plain training step goes: mobilenet-v3-demo-32, batch 32, 32×32×3, SGD with momentum, label
 * smoothing 0.1, the super-network trainer's step with ordered dropout off (SupernetTrainer.trainStep: plan, masked
 * forward, tfjs gradients, host optimizer, BN moving averages, EMA).
 *
 * Every tfjs kernel of the backend is wrapped with a timer that keeps a stack, so each kernel's SELF time excludes the
 * kernels it calls (our gradient kernels are built from forward kernels). What is left of the step's wall time after
 * all kernel time is JavaScript: tfjs's engine (tape, scopes, tensor bookkeeping), gradient functions, the host-side
 * optimizer and our own code. Medians over timed steps; per-kernel totals from the same steps.
 *
 *   npx tsx bench/train-step-profile.ts [--steps 30] [--warmup 5]
 * Writes bench/results/train-step-profile.json.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG } from '../core/supernet/training/recipes.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { numberFlags, runAsScript, writeBenchResult } from './cli.ts';

interface KernelStats {
  calls: number;
  selfMs: number;
}

/** Wraps every kernel registered for `backend` with a self-time timer; returns the live statistics. */
function instrumentKernels(backend: string): Map<string, KernelStats> {
  const stats = new Map<string, KernelStats>();
  const stack: number[] = [];
  const configs = tf.getKernelsForBackend(backend) as KernelConfig[];
  for (const config of configs) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    const timed: KernelFunc = (args) => {
      stack.push(0);
      const start = performance.now();
      try {
        return inner(args);
      } finally {
        const total = performance.now() - start;
        const children = stack.pop() as number;
        if (stack.length > 0) stack[stack.length - 1] = (stack[stack.length - 1] as number) + total;
        const entry = stats.get(name) ?? { calls: 0, selfMs: 0 };
        entry.calls++;
        entry.selfMs += total - children;
        stats.set(name, entry);
      }
    };
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  return stats;
}

export async function runTrainStepProfile(opts: { steps?: number; warmup?: number; log?: (line: string) => void } = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const steps = opts.steps ?? 30;
  const warmup = opts.warmup ?? 5;
  const backend = await initBackend({ prefer: 'wasm' });
  const spec = loadNetwork(DEMO_NETWORK);
  const dataset = syntheticClassification({ trainSize: 32 * (steps + warmup + 2) * 2, heldoutSize: 32, testSize: 0, seed: 1 });
  const config = { ...DEMO_TRAIN_CONFIG, orderedDropout: false, epochs: 2, batchSize: 32, workers: 1 };
  const trainer = SupernetTrainer.create({ spec, dataset, config });
  for (let i = 0; i < warmup; i++) await trainer.trainStep();
  const plainTimes: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await trainer.trainStep();
    plainTimes.push(performance.now() - t0);
  }
  const stats = instrumentKernels(tf.getBackend());
  const wall: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await trainer.trainStep();
    wall.push(performance.now() - t0);
  }
  const kernelMs = [...stats.values()].reduce((s, k) => s + k.selfMs, 0) / steps;
  const calls = [...stats.values()].reduce((s, k) => s + k.calls, 0) / steps;
  const stepMs = median(wall);
  const meanWall = wall.reduce((a, b) => a + b, 0) / steps;
  const kernels = [...stats.entries()]
    .map(([name, k]) => ({ kernel: name, callsPerStep: k.calls / steps, selfMsPerStep: k.selfMs / steps, shareOfStep: k.selfMs / steps / meanWall }))
    .sort((a, b) => b.selfMsPerStep - a.selfMsPerStep);
  const macs = resolveNetwork(spec).macs;
  const results = {
    network: DEMO_NETWORK,
    backend: backend.description,
    cores: os.cpus().length,
    loadAverageAtStart: os.loadavg()[0],
    batch: config.batchSize,
    optimizer: config.optimizer,
    labelSmoothing: config.labelSmoothing,
    timedSteps: steps,
    stepMsMedianUninstrumented: median(plainTimes),
    imagesPerSecUninstrumented: (config.batchSize * 1000) / median(plainTimes),
    stepMsMedianInstrumented: stepMs,
    kernelCallsPerStep: calls,
    kernelSelfMsPerStep: kernelMs,
    javascriptMsPerStep: meanWall - kernelMs,
    javascriptShareOfStep: (meanWall - kernelMs) / meanWall,
    trainingGflopPerStep: (macs * 2 * 3 * config.batchSize) / 1e9,
    kernels,
    measuredAt: new Date().toISOString(),
  };
  log(`plain step ${results.stepMsMedianUninstrumented.toFixed(1)} ms (${results.imagesPerSecUninstrumented.toFixed(0)} img/s); instrumented ${stepMs.toFixed(1)} ms: ` +
    `${calls.toFixed(0)} kernel calls, kernels ${kernelMs.toFixed(1)} ms, JavaScript ${results.javascriptMsPerStep.toFixed(1)} ms (${(results.javascriptShareOfStep * 100).toFixed(0)}%)`);
  for (const k of kernels.slice(0, 15)) log(`  ${k.kernel.padEnd(38)} ${k.callsPerStep.toFixed(0).padStart(4)} calls ${k.selfMsPerStep.toFixed(2).padStart(7)} ms ${(k.shareOfStep * 100).toFixed(1).padStart(5)}%`);
  trainer.dispose();
  return results;
}

if (runAsScript(import.meta.url)) {
  writeBenchResult('train-step-profile', await runTrainStepProfile(numberFlags({ steps: 'steps', warmup: 'warmup' })));
}
