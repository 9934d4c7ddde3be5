/**
 * Fast sample scoring: the held-out evaluator (evaluate.ts: slim sub-network, BN recalibrated on the same
 * calibration batches, top-1 or δ1 on the same held-out images) run in ONNX Runtime (onnx-evaluator.ts), and spread
 * over worker threads so that MCD's J samples of an iteration are scored side by side (`concurrency`; the optimizer
 * starts that many at once). Each worker holds its own copy of the weights and of the images, sent once; a sample's
 * score does not depend on which worker scores it or what runs beside it.
 *
 * Where onnxruntime-node cannot be loaded, createFastSupernetEvaluator falls back to the tfjs evaluator.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import type { Batch, Dataset } from '../data/dataset.ts';
import { UserError } from '../errors.ts';
import { OnnxRuntimeUnavailableError, loadOnnxRuntime } from '../export/runtime/onnxruntime.ts';
import type { BackendPreference } from '../tensor/backend.ts';
import { checkDatasetFits } from './dataset-fit.ts';
import { createSupernetEvaluator, evaluationImages, loadSupernetWeights, type Evaluation, type EvaluationImages, type EvaluatorOptions, type SupernetEvaluator } from './evaluate.ts';
import type { FromEvaluationWorker, ToEvaluationWorker } from './evaluation-worker.ts';
import { onnxEvaluatorOfImages } from './onnx-evaluator.ts';
import type { SupernetWeights } from './weights.ts';

export interface FastEvaluatorOptions extends EvaluatorOptions {
  /** Worker threads scoring sub-networks side by side (default: $NETADAPT_EVAL_WORKERS, else the cores; 1: here). */
  workers?: number;
  /** ONNX Runtime intra-op threads per evaluator (default 1). */
  threads?: number;
  /** Told which runtime scores (e.g. the fallback to tfjs and why). */
  log?: (line: string) => void;
}

export interface FastSupernetEvaluator extends SupernetEvaluator {
  /** Sub-networks that may be scored at once (the search's Evaluator.concurrency). */
  readonly concurrency: number;
  /** 'onnxruntime' (in this thread or in `concurrency` workers) or 'tfjs' (the fallback). */
  readonly runtime: 'onnxruntime' | 'tfjs';
}

export const EVAL_WORKERS_ENV_VAR = 'NETADAPT_EVAL_WORKERS';

/** $NETADAPT_EVAL_WORKERS, else the machine's cores. */
export function defaultEvaluationWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[EVAL_WORKERS_ENV_VAR]?.trim();
  if (fromEnv) {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${EVAL_WORKERS_ENV_VAR}='${fromEnv}' must be a whole number ≥ 1`);
    return n;
  }
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * The fastest evaluator available with createSupernetEvaluator's scores: ONNX Runtime in `workers` threads (or in
 * this thread for 1), else the tfjs evaluator itself. The caller keeps owning `opts.weights`.
 */
export async function createFastSupernetEvaluator(opts: FastEvaluatorOptions): Promise<FastSupernetEvaluator> {
  const workers = opts.workers ?? defaultEvaluationWorkers();
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`evaluation workers must be a whole number ≥ 1 (got ${workers})`);
  checkDatasetFits(opts.weights.spec, opts.dataset);
  try {
    await loadOnnxRuntime();
  } catch (error) {
    if (!(error instanceof OnnxRuntimeUnavailableError)) throw error;
    opts.log?.(`${error.message}; scoring sub-networks with tfjs`);
    const tfjs = createSupernetEvaluator(opts);
    return { task: tfjs.task, concurrency: 1, runtime: 'tfjs', evaluate: (c) => tfjs.evaluate(c), dispose: () => tfjs.dispose() };
  }
  const images = evaluationImages(opts);
  const threads = opts.threads ?? 1;
  if (workers === 1) {
    const here = await onnxEvaluatorOfImages(opts.weights, images, threads);
    return { task: here.task, concurrency: 1, runtime: 'onnxruntime', evaluate: (c) => here.evaluate(c), dispose: () => here.dispose() };
  }
  return EvaluationPool.start(opts.weights, images, workers, threads);
}

/** createFastSupernetEvaluator on a checkpoint's weights (as loadSupernetEvaluator), which it disposes with itself. */
export async function loadFastSupernetEvaluator(
  dir: string,
  spec: NetworkSpec,
  dataset: Dataset,
  options: Omit<FastEvaluatorOptions, 'weights' | 'dataset'> & { ema?: boolean } = {},
): Promise<FastSupernetEvaluator> {
  const weights = loadSupernetWeights(dir, spec, options.ema === undefined ? {} : { ema: options.ema });
  try {
    const evaluator = await createFastSupernetEvaluator({ ...options, weights, dataset });
    return {
      task: evaluator.task,
      concurrency: evaluator.concurrency,
      runtime: evaluator.runtime,
      evaluate: (config) => evaluator.evaluate(config),
      dispose: () => {
        evaluator.dispose();
        weights.dispose();
      },
    };
  } catch (error) {
    weights.dispose();
    throw error;
  }
}

export function evaluationWorkerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './evaluation-worker-boot.mjs' : './evaluation-worker.js', import.meta.url);
}

interface Job {
  id: number;
  config?: SubnetConfig;
  resolve(e: Evaluation): void;
  reject(e: Error): void;
}

/** Worker threads with an ONNX Runtime evaluator each; a sub-network goes to the next idle one. */
class EvaluationPool implements FastSupernetEvaluator {
  readonly runtime = 'onnxruntime';
  private readonly idle: Worker[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private failure: Error | undefined;
  private nextId = 0;

  private constructor(readonly task: SupernetEvaluator['task'], private readonly threads: Worker[]) {}

  get concurrency(): number {
    return this.threads.length;
  }

  static async start(weights: SupernetWeights, images: EvaluationImages, workers: number, threads: number): Promise<EvaluationPool> {
    const values = Object.fromEntries(weights.snapshot());
    const plain: EvaluationImages = { calibration: images.calibration.map(plainBatch), heldOut: images.heldOut.map(plainBatch), total: images.total };
    const name = tf.getBackend();
    const backend: BackendPreference = name === 'tensorflow' ? 'node' : name === 'wasm' || name === 'cpu' ? name : 'auto';
    const started: Worker[] = [];
    const pool = new EvaluationPool(weights.spec.task, started);
    try {
      await Promise.all(Array.from({ length: workers }, (_, k) => new Promise<void>((resolve, reject) => {
        const worker = new Worker(evaluationWorkerUrl());
        worker.unref();
        started.push(worker);
        worker.once('message', (m: FromEvaluationWorker) => (m.type === 'ready' ? resolve() : reject(new Error(`evaluation worker ${k + 1} failed to start: ${m.type === 'error' ? m.message : m.type}`))));
        worker.on('error', (error) => pool.fail(worker, new Error(`evaluation worker ${k + 1} crashed: ${error.message}`), reject));
        worker.on('exit', (code) => pool.fail(worker, new Error(`evaluation worker ${k + 1} stopped (exit code ${code})`), reject));
        worker.postMessage({ type: 'init', spec: weights.spec, values, images: plain, threads, backend } satisfies ToEvaluationWorker);
      })));
    } catch (error) {
      pool.dispose();
      throw error;
    }
    for (const worker of started) {
      worker.on('message', (m: FromEvaluationWorker) => pool.answer(worker, m));
      pool.idle.push(worker);
    }
    return pool;
  }

  evaluate(config?: SubnetConfig): Promise<Evaluation> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Evaluation>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, ...(config ? { config } : {}), resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.shift() as Worker;
      const job = this.queue.shift() as Job;
      this.running.set(worker, job);
      worker.postMessage({ type: 'evaluate', id: job.id, ...(job.config ? { config: job.config } : {}) } satisfies ToEvaluationWorker);
    }
  }

  private answer(worker: Worker, m: FromEvaluationWorker): void {
    const job = this.running.get(worker);
    if (!job || m.type === 'ready') return;
    this.running.delete(worker);
    this.idle.push(worker);
    if (m.type === 'result') job.resolve(m.evaluation);
    else job.reject(new Error(`scoring a sub-network failed: ${m.message}`));
    this.dispatch();
  }

  private fail(worker: Worker, error: Error, reject?: (e: Error) => void): void {
    this.failure ??= error;
    reject?.(error);
    this.running.get(worker)?.reject(error);
    this.running.delete(worker);
    for (const job of this.queue.splice(0)) job.reject(error);
  }

  dispose(): void {
    this.failure ??= new Error('the evaluator was closed');
    for (const w of this.threads) {
      w.removeAllListeners('exit');
      void w.terminate();
    }
    for (const job of [...this.running.values(), ...this.queue.splice(0)]) job.reject(this.failure);
    this.running.clear();
  }
}

/** The fields a worker needs, as a plain object (structured clone drops class getters). */
function plainBatch(b: Batch): Batch {
  return {
    size: b.size,
    height: b.height,
    width: b.width,
    images: b.images,
    indices: b.indices,
    ...(b.labels ? { labels: b.labels } : {}),
    ...(b.depth ? { depth: b.depth } : {}),
  };
}
