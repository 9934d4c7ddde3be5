/**
 * Training throughput of a small MobileNet-style conv net on the tfjs wasm backend (with our gradient kernels)
 * versus the tfjs cpu backend, in one process, same model and data.
 *
 *   npx tsx bench/tensor-backends.ts
 *
 * Model (32×32×3 input): stem conv 3×3/2 → 4 depthwise-separable blocks (dw 3×3/1, 3×3/2, 5×5/1, 5×5/2, each with
 * batch norm from batch moments, ReLU or hard-swish, pointwise conv + batch norm) → global average pool → dense 10,
 * softmax cross-entropy, SGD with momentum. Reports the median of several timed steps after warm-up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../core/tensor/backend.ts';
import { Rng } from '../core/random.ts';
import { median } from '../core/stats.ts';

const INPUT_SIZE = 32;
const CLASSES = 10;
const RESULT_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'tensor-backends.json');

export interface TensorBackendBenchOptions {
  batch?: number;
  warmupSteps?: number;
  wasmTimedSteps?: number;
  /** The cpu backend takes seconds per step; a few steps give a stable median. */
  cpuTimedSteps?: number;
  log?: (msg: string) => void;
}

interface BlockSpec {
  kernel: number;
  stride: number;
  outChannels: number;
  activation: 'relu' | 'hswish';
}

const STEM_CHANNELS = 16;
const BLOCKS: readonly BlockSpec[] = [
  { kernel: 3, stride: 1, outChannels: 24, activation: 'relu' },
  { kernel: 3, stride: 2, outChannels: 40, activation: 'relu' },
  { kernel: 5, stride: 1, outChannels: 48, activation: 'hswish' },
  { kernel: 5, stride: 2, outChannels: 96, activation: 'hswish' },
];

export interface Params {
  variables: tf.Variable[];
  forward: (x: tf.Tensor4D) => tf.Tensor2D;
}

export function buildModel(rng: Rng): Params {
  const variables: tf.Variable[] = [];
  const weight = (shape: number[], fanIn: number): tf.Variable => {
    const scale = Math.sqrt(2 / fanIn);
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale);
    const v = tf.variable(tf.tensor(values, shape));
    variables.push(v);
    return v;
  };
  const batchNorm = (channels: number): ((x: tf.Tensor4D) => tf.Tensor4D) => {
    const gamma = tf.variable(tf.ones([channels]));
    const beta = tf.variable(tf.zeros([channels]));
    variables.push(gamma, beta);
    return (x) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3))), gamma), beta);
    };
  };
  const activate = (x: tf.Tensor4D, kind: 'relu' | 'hswish'): tf.Tensor4D =>
    kind === 'relu' ? tf.relu(x) : tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6));

  const stem = weight([3, 3, 3, STEM_CHANNELS], 27);
  const stemBn = batchNorm(STEM_CHANNELS);
  let channels = STEM_CHANNELS;
  const blocks = BLOCKS.map((b) => {
    const dw = weight([b.kernel, b.kernel, channels, 1], b.kernel * b.kernel);
    const dwBn = batchNorm(channels);
    const pw = weight([1, 1, channels, b.outChannels], channels);
    const pwBn = batchNorm(b.outChannels);
    channels = b.outChannels;
    return (x: tf.Tensor4D): tf.Tensor4D => {
      const h = activate(dwBn(tf.depthwiseConv2d(x, dw as tf.Variable<tf.Rank.R4>, b.stride, 'same')), b.activation);
      return pwBn(tf.conv2d(h, pw as tf.Variable<tf.Rank.R4>, 1, 'same'));
    };
  });
  const dense = weight([channels, CLASSES], channels);
  const denseBias = tf.variable(tf.zeros([CLASSES]));
  variables.push(denseBias);
  return {
    variables,
    forward: (x) => {
      let h = activate(stemBn(tf.conv2d(x, stem as tf.Variable<tf.Rank.R4>, 2, 'same')), 'hswish');
      for (const block of blocks) h = block(h);
      return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, dense), denseBias);
    },
  };
}

interface StepTimes {
  /** Wall-clock milliseconds per step. */
  wall: number[];
  /** CPU milliseconds this process spent per step (less sensitive to other processes on a busy machine). */
  cpu: number[];
}

/** Timings of each timed training step on `backend` (fresh model and data, same seed for every backend). */
async function timeTraining(
  backend: 'wasm' | 'cpu', batch: number, warmup: number, timed: number, log: (msg: string) => void,
): Promise<StepTimes> {
  await tf.setBackend(backend);
  const rng = new Rng(7);
  const images = tf.tensor4d(
    Float32Array.from({ length: batch * INPUT_SIZE * INPUT_SIZE * 3 }, () => rng.normal()),
    [batch, INPUT_SIZE, INPUT_SIZE, 3],
  );
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, () => rng.int(CLASSES)), 'int32'), CLASSES);
  const model = buildModel(rng);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = (): number => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.forward(images)), true, model.variables);
    const value = loss?.dataSync()[0] ?? Number.NaN; // dataSync waits for the step to finish
    loss?.dispose();
    return value;
  };
  for (let i = 0; i < warmup; i++) step();
  const tensorsBefore = tf.memory().numTensors;
  const times: StepTimes = { wall: [], cpu: [] };
  for (let i = 0; i < timed; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const loss = step();
    const cpu = process.cpuUsage(cpuStart);
    const wall = performance.now() - start;
    times.wall.push(wall);
    times.cpu.push((cpu.user + cpu.system) / 1000);
    log(`  ${backend} step ${i + 1}/${timed}: ${wall.toFixed(1)} ms wall, ${times.cpu[i]?.toFixed(1)} ms cpu, loss ${loss.toFixed(4)}`);
  }
  if (tf.memory().numTensors !== tensorsBefore) {
    throw new Error(`${backend}: training leaked ${tf.memory().numTensors - tensorsBefore} tensors over ${timed} steps`);
  }
  tf.dispose([images, labels, ...model.variables]);
  optimizer.dispose();
  return times;
}

export async function runTensorBackendBench(
  opts: TensorBackendBenchOptions = {},
): Promise<Record<string, number | string>> {
  const batch = opts.batch ?? 32;
  const warmup = opts.warmupSteps ?? 2;
  const wasmSteps = opts.wasmTimedSteps ?? 10;
  const cpuSteps = opts.cpuTimedSteps ?? 3;
  const log = opts.log ?? (() => undefined);
  const backend = await initBackend({ prefer: 'wasm', log });
  if (backend.name !== 'wasm') throw new Error(`the wasm backend did not initialize (got ${backend.description})`);
  const previous = tf.getBackend();

  const wasmTimes = await timeTraining('wasm', batch, warmup, wasmSteps, log);
  const cpuTimes = await timeTraining('cpu', batch, Math.min(warmup, 1), cpuSteps, log);
  await tf.setBackend(previous);

  const wasmMs = median(wasmTimes.wall);
  const cpuMs = median(cpuTimes.wall);
  const wasmCpuMs = median(wasmTimes.cpu);
  const cpuCpuMs = median(cpuTimes.cpu);
  const wasmImagesPerS = (batch * 1000) / wasmMs;
  const cpuImagesPerS = (batch * 1000) / cpuMs;
  return {
    wasm_train_images_per_s: round(wasmImagesPerS, 1),
    cpu_train_images_per_s: round(cpuImagesPerS, 2),
    ratio_wasm_over_cpu: round(wasmImagesPerS / cpuImagesPerS, 1),
    wasm_step_ms_median: round(wasmMs, 1),
    cpu_step_ms_median: round(cpuMs, 1),
    wasm_train_images_per_cpu_s: round((batch * 1000) / wasmCpuMs, 1),
    cpu_train_images_per_cpu_s: round((batch * 1000) / cpuCpuMs, 2),
    ratio_wasm_over_cpu_by_process_cpu_time: round(cpuCpuMs / wasmCpuMs, 1),
    load_average_1m_at_end: round(loadavg()[0] ?? 0, 2),
    cores: cpus().length,
    steps_timed_wasm: wasmSteps,
    steps_timed_cpu: cpuSteps,
    warmup_steps: warmup,
    batch,
    input: `${INPUT_SIZE}x${INPUT_SIZE}x3`,
    model: 'stem conv3x3/2 (16) + 4 dw-separable blocks (24, 40, 48, 96; BN, relu/hswish) + GAP + dense 10',
    wasm_backend: backend.description,
    measured_at: new Date().toISOString(),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

async function main(): Promise<void> {
  const results = await runTensorBackendBench({ log: (m) => console.log(m) });
  console.log(`wasm: ${results['wasm_train_images_per_s']} images/s (${results['wasm_step_ms_median']} ms/step)`);
  console.log(`cpu:  ${results['cpu_train_images_per_s']} images/s (${results['cpu_step_ms_median']} ms/step)`);
  console.log(`ratio wasm/cpu: ${results['ratio_wasm_over_cpu']}× wall-clock, ` +
    `${results['ratio_wasm_over_cpu_by_process_cpu_time']}× by process CPU time ` +
    `(1-min load average ${results['load_average_1m_at_end']} on ${results['cores']} cores)`);
  mkdirSync(path.dirname(RESULT_FILE), { recursive: true });
  writeFileSync(RESULT_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), RESULT_FILE)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
