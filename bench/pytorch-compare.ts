/**
 * The project's training step against PyTorch's, same network, batch and step, one thread each:
 * mobilenet-v3-demo-32, batch 32 of 32×32×3, SGD momentum 0.9, lr 0.1, weight decay 4e-5 on kernels, label
 * smoothing 0.1, classifier dropout, BN with batch statistics (the demo recipe's plain step).
 *
 * - The PyTorch network (bench/pytorch/step.py) is built from the project's resolved layers (core/arch), and its
 *   MAC count must equal core/arch's.
 * - Agreement: identical weights and batch, no dropout: loss difference and gradient cosine (all parameters).
 * - Speed: SupernetTrainer.trainStep (ordered dropout off, a fixed in-memory batch so data generation is not timed)
 *   and PyTorch's step (torch.set_num_threads(1)), timed in alternating rounds; medians per step.
 * - Training FLOP/s (MACs × 2 × 3 per image) as a share of one core's wasm-SIMD peak, the best float32 matMul
 *   GFLOP/s of the tfjs wasm backend (XNNPACK, SIMD, one thread) over square sizes 256–1024.
 *
 * Skips with a printed reason when /usr/bin/python3 has no torch.  npx tsx bench/pytorch-compare.ts [--rounds 5]
 * [--steps 10]. Writes bench/results/pytorch-compare.json.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import type { Batch, Dataset, Split } from '../core/data/dataset.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { maskedForward } from '../core/supernet/forward.ts';
import { classificationLoss } from '../core/supernet/losses.ts';
import { planBatch } from '../core/supernet/plan.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG } from '../core/supernet/training/recipes.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { numberFlags, runAsScript, writeBenchResult } from './cli.ts';

const PYTHON = '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));

export function torchMissingReason(): string | undefined {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} does not exist`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${PYTHON} cannot import torch (${(probe.stderr || '').trim().split('\n').pop() ?? 'no output'})`;
}

/** A persistent bench/pytorch/step.py process answering one JSON line per command. */
export class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(threads = 1) {
    this.child = spawn(PYTHON, [path.join(here, 'pytorch', 'step.py')], {
      env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    });
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`[torch] ${d.toString()}`));
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async call(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`the PyTorch process ended before answering ${String(request['cmd'])}`);
    const answer = JSON.parse(next.value) as Record<string, unknown>;
    if (answer['ok'] !== true) throw new Error(`PyTorch: ${String(answer['error'])}`);
    return answer;
  }

  close(): void {
    this.child.stdin.end();
  }
}

/** A dataset whose training split returns one fixed batch for every step (the timing excludes data generation). */
export function fixedBatchDataset(base: Dataset, batch: Batch): Dataset {
  const train = base.split('train');
  const fixedTrain = new Proxy(train, {
    get(target, prop) {
      if (prop === 'batch') return () => batch;
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Split;
  return new Proxy(base, {
    get(target, prop) {
      if (prop === 'split') return (name: string) => (name === 'train' ? fixedTrain : target.split(name as never));
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Writes what step.py loads: the resolved layers, trainable parameters (layout order) and the batch. */
export function writeTorchInputs(dir: string, trainer: SupernetTrainer, batch: Batch): { name: string; shape: number[] }[] {
  const layers = resolveNetwork(trainer.spec).layers;
  const params: { name: string; op: string; shape: number[]; offset: number }[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const info of trainer.weights.layout.filter((p) => p.trainable)) {
    const data = trainer.weights.get(info.name).dataSync() as Float32Array;
    params.push({ name: info.name, op: info.op, shape: info.shape, offset });
    chunks.push(new Float32Array(data));
    offset += data.length;
  }
  const flat = new Float32Array(offset);
  let at = 0;
  for (const c of chunks) {
    flat.set(c, at);
    at += c.length;
  }
  const c = trainer.config;
  fs.writeFileSync(path.join(dir, 'net.json'), JSON.stringify({
    layers, params, batchShape: [batch.size, batch.height, batch.width, 3],
    lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay, labelSmoothing: c.labelSmoothing,
  }));
  fs.writeFileSync(path.join(dir, 'params.bin'), Buffer.from(flat.buffer));
  fs.writeFileSync(path.join(dir, 'images.bin'), Buffer.from(batch.images.buffer, batch.images.byteOffset, batch.images.byteLength));
  const labels = batch.labels as Int32Array;
  fs.writeFileSync(path.join(dir, 'labels.bin'), Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
  return params;
}

/** The project's loss and gradients (no dropout) on the trainer's current weights, concatenated in layout order. */
function projectGradients(trainer: SupernetTrainer, batch: Batch, smoothing: number): { loss: number; grads: Float32Array } {
  const plan = planBatch(trainer.spec, batch.size);
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(batch.images, [batch.size, batch.height, batch.width, 3]);
      const labels = tf.tensor1d(batch.labels as Int32Array, 'int32');
      const vars = trainer.weights.trainable();
      const { value, grads } = tf.variableGrads(
        () => classificationLoss(maskedForward(trainer.weights, x, { training: true, plan }) as tf.Tensor2D, labels, smoothing),
        vars,
      );
      const parts = vars.map((v) => (grads[v.name] ? (grads[v.name]?.dataSync() as Float32Array) : new Float32Array(v.size)));
      const flat = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) {
        flat.set(p, at);
        at += p.length;
      }
      return { loss: value.dataSync()[0] as number, grads: flat };
    });
  } finally {
    plan.dispose();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Best float32 matMul GFLOP/s of the active tfjs backend over square sizes (the one-core wasm-SIMD peak). */
export function matMulPeakGflops(sizes: readonly number[] = [256, 512, 1024]): { gflops: number; size: number } {
  let best = { gflops: 0, size: 0 };
  for (const n of sizes) {
    const a = tf.randomNormal([n, n]) as tf.Tensor2D;
    const b = tf.randomNormal([n, n]) as tf.Tensor2D;
    for (let i = 0; i < 2; i++) tf.tidy(() => void tf.matMul(a, b).dataSync());
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      tf.tidy(() => void tf.matMul(a, b).dataSync());
      times.push(performance.now() - t0);
    }
    const gflops = (2 * n ** 3) / (median(times) / 1000) / 1e9;
    if (gflops > best.gflops) best = { gflops, size: n };
    tf.dispose([a, b]);
  }
  return best;
}

export async function runPytorchCompare(opts: { rounds?: number; steps?: number; log?: (line: string) => void } = {}): Promise<Record<string, unknown> | undefined> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const missing = torchMissingReason();
  if (missing) {
    log(`pytorch-compare skipped: ${missing}`);
    return undefined;
  }
  const rounds = opts.rounds ?? 5;
  const steps = opts.steps ?? 10;
  const backend = await initBackend({ prefer: 'wasm' });
  const spec = loadNetwork(DEMO_NETWORK);
  const base = syntheticClassification({ trainSize: 512, heldoutSize: 32, testSize: 0, seed: 1 });
  const batch = base.split('train').batch(0, 32, { seed: 1, epoch: 0, dropLast: true });
  const config = { ...DEMO_TRAIN_CONFIG, orderedDropout: false, epochs: 1000, batchSize: 32, seed: 1, workers: 1 };
  const trainer = SupernetTrainer.create({ spec, dataset: fixedBatchDataset(base, batch), config });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netadapt-torch-'));
  const torch = new TorchWorker(1);
  try {
    writeTorchInputs(dir, trainer, batch);
    const loaded = await torch.call({ cmd: 'load', dir });
    const macs = resolveNetwork(spec).macs;
    if (loaded['macs'] !== macs) throw new Error(`the PyTorch network has ${String(loaded['macs'])} MACs, core/arch says ${macs}: they are not the same network`);
    const torchAgree = await torch.call({ cmd: 'agree' });
    const ours = projectGradients(trainer, batch, config.labelSmoothing);
    const theirs = new Float32Array(fs.readFileSync(path.join(dir, 'grads.bin')).buffer.slice(0));
    const agreement = { lossProject: ours.loss, lossPytorch: torchAgree['loss'] as number, lossAbsDiff: Math.abs(ours.loss - (torchAgree['loss'] as number)), gradientCosine: cosine(ours.grads, theirs) };
    log(`agreement on identical weights: loss ${ours.loss.toFixed(6)} vs ${(agreement.lossPytorch).toFixed(6)} (|Δ| ${agreement.lossAbsDiff.toExponential(1)}), gradient cosine ${agreement.gradientCosine.toFixed(5)}`);

    for (let i = 0; i < 3; i++) await trainer.trainStep();
    await torch.call({ cmd: 'time', steps: 3, threads: 1 });
    const projectTimes: number[] = [];
    const torchTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        await trainer.trainStep();
        projectTimes.push((performance.now() - t0) / 1000);
      }
      torchTimes.push(...((await torch.call({ cmd: 'time', steps, threads: 1 }))['times'] as number[]));
      log(`  round ${r + 1}/${rounds}: project ${(32 / median(projectTimes.slice(-steps))).toFixed(0)} img/s, PyTorch ${(32 / median(torchTimes.slice(-steps))).toFixed(0)} img/s`);
    }
    const projectRate = 32 / median(projectTimes);
    const torchRate = 32 / median(torchTimes);
    const peak = matMulPeakGflops();
    const trainingGflops = (macs * 2 * 3 * projectRate) / 1e9;
    const results = {
      network: DEMO_NETWORK,
      macs,
      backend: backend.description,
      torch: loaded['torch'],
      cores: os.cpus().length,
      loadAverageAtStart: os.loadavg()[0],
      batch: 32,
      rounds,
      stepsPerRound: steps,
      agreement,
      oneThread: { projectImagesPerSec: projectRate, pytorchImagesPerSec: torchRate, ratio: projectRate / torchRate, goal: 0.6 },
      trainingGflopPerSec: trainingGflops,
      wasmSimdPeakGflopPerSec: peak.gflops,
      wasmSimdPeakMeasuredWith: `tfjs wasm (XNNPACK, SIMD, 1 thread) float32 matMul ${peak.size}×${peak.size}, median of 7`,
      shareOfPeak: trainingGflops / peak.gflops,
      measuredAt: new Date().toISOString(),
    };
    log(`one thread: project ${projectRate.toFixed(0)} img/s, PyTorch ${torchRate.toFixed(0)} img/s, ratio ${(projectRate / torchRate).toFixed(2)} (goal ≥ 0.6); ` +
      `${trainingGflops.toFixed(2)} GFLOP/s = ${(results.shareOfPeak * 100).toFixed(0)}% of the ${peak.gflops.toFixed(1)} GFLOP/s wasm-SIMD matMul peak`);
    return results;
  } finally {
    torch.close();
    trainer.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (runAsScript(import.meta.url)) {
  const results = await runPytorchCompare(numberFlags({ rounds: 'rounds', steps: 'steps' }));
  if (results) writeBenchResult('pytorch-compare', results);
}
