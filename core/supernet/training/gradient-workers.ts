/**
 * Data-parallel gradients over worker threads: the batch is split into one shard per worker (splitShard), the
 * calling thread computes shard 0 and each worker thread one other, all with identical weights (copied into shared
 * memory before every step), and the gradients are reduced through shared memory (a SharedArrayBuffer holding the
 * weights and one gradient slot per worker thread), summed in shard order — so a result is deterministic for a
 * given number of workers. Batch norm is synchronized across the shards (shared-reduce.ts, one all-reduce per BN
 * pass): each shard normalizes with its whole batch's statistics, so N workers compute the one-thread step up to
 * the order of float additions. The BN moving statistics (the whole batch's, of image 0's group) come from shard 0.
 *
 * One engine per (network, worker count) serves every training of a process in turn (super-network training, final
 * training, each fine-tuning of the NetAdaptV1 search), so threads start once. A distillation teacher's weights are
 * sent to the workers when a step brings a teacher they do not hold yet.
 *
 * A worker that crashes or reports an error fails the step with its message instead of leaving it waiting.
 */
import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import type { NetworkSpec } from '../../arch/index.ts';
import { UserError } from '../../errors.ts';
import type { BackendPreference } from '../../tensor/backend.ts';
import { layersNobodyRuns } from '../plan.ts';
import { paramLayout, type SupernetWeights } from '../weights.ts';
import type { FromGradientWorker, ToGradientWorker } from './gradient-worker.ts';
import { shardGradients, splitShard, trainableSizes, type BatchStatistics, type GradientShard } from './shard.ts';
import { SharedReducer } from './shared-reduce.ts';

export interface BatchGradients {
  loss: number;
  /** Flat, trainable layout order (valid until the engine's next step); one view per parameter in `perParam`. */
  grads: Float32Array;
  perParam: Float32Array[];
  stats: BatchStatistics[];
}

/** Overrides the default worker count (e.g. 1 for test runs that start many trainings side by side). */
export const TRAIN_WORKERS_ENV_VAR = 'NETADAPT_TRAIN_WORKERS';

/**
 * The default number of data-parallel workers: $NETADAPT_TRAIN_WORKERS, else 1. Not the machine's cores: on the
 * 2-core machine this was measured on, 2 workers stepped only 1.08× faster than 1 on a quiet machine (0.69× under
 * load) and the demo trained slower and to a lower accuracy with them (docs/results.md, engine speed).
 */
export function defaultTrainingWorkers(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[TRAIN_WORKERS_ENV_VAR]?.trim();
  if (fromEnv) {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${TRAIN_WORKERS_ENV_VAR}='${fromEnv}' must be a whole number ≥ 1`);
    return n;
  }
  return 1;
}

/** The worker count a training runs with: the configured one, or the default for 0 / none. */
export function resolveTrainingWorkers(configured: number | undefined): number {
  if (configured === undefined || configured === 0) return defaultTrainingWorkers();
  if (!Number.isInteger(configured) || configured < 1) throw new UserError(`training workers must be a whole number ≥ 0 (0 = the default, $NETADAPT_TRAIN_WORKERS or 1; got ${configured})`);
  return configured;
}

/** The worker's module: from source under tsx (a boot file registers it), or the bundle's compiled entry. */
export function gradientWorkerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './gradient-worker-boot.mjs' : './gradient-worker.js', import.meta.url);
}

/** The tfjs backend the workers use: the calling thread's. */
function backendPreference(): BackendPreference {
  const name = tf.getBackend();
  return name === 'tensorflow' ? 'node' : name === 'wasm' || name === 'cpu' ? name : 'auto';
}

/** Computes a batch's gradients on `workers` threads (1: in the calling thread, no workers started). */
export class GradientEngine {
  private readonly sizes: number[];
  private readonly total: number;
  private readonly local: Float32Array;
  private readonly shared: Float32Array | undefined;
  private readonly threads: Worker[] = [];
  private failure: Error | undefined;
  private waiting: ((m: FromGradientWorker) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private teacherSent: SupernetWeights | undefined;
  private reduceBuffer: SharedArrayBuffer | undefined;
  /** Widest BN layer (channels): the all-reduce's vectors are at most 3 × groups × this (forward moments). */
  private readonly bnChannels: number;

  private constructor(readonly spec: NetworkSpec, readonly workers: number, sizes: number[]) {
    this.sizes = sizes;
    this.total = sizes.reduce((a, b) => a + b, 0);
    this.local = new Float32Array(this.total);
    this.shared = workers > 1 ? new Float32Array(new SharedArrayBuffer(4 * this.total * workers)) : undefined;
    this.bnChannels = Math.max(1, ...paramLayout(spec).filter((p) => p.name.endsWith('.gamma')).map((p) => p.shape[0] as number));
  }

  /** Starts `workers − 1` threads for the network of `weights` (which only lends its layout). */
  static async start(weights: SupernetWeights, workers: number): Promise<GradientEngine> {
    if (!Number.isInteger(workers) || workers < 1) throw new UserError(`training workers must be a whole number ≥ 1 (got ${workers})`);
    const engine = new GradientEngine(weights.spec, workers, trainableSizes(weights));
    if (workers > 1) {
      try {
        await engine.spawn(backendPreference());
      } catch (error) {
        engine.dispose();
        throw error;
      }
    }
    return engine;
  }

  private async spawn(backend: BackendPreference): Promise<void> {
    const shared = (this.shared as Float32Array).buffer as SharedArrayBuffer;
    await Promise.all(Array.from({ length: this.workers - 1 }, (_, slot) => new Promise<void>((resolve, reject) => {
      const worker = new Worker(gradientWorkerUrl());
      worker.unref();
      this.threads.push(worker);
      worker.once('message', (m: FromGradientWorker) => (m.type === 'ready' ? resolve() : reject(new Error(`gradient worker ${slot + 1} failed to start: ${m.type === 'error' ? m.message : m.type}`))));
      worker.on('error', (error) => this.fail(new Error(`gradient worker ${slot + 1} crashed: ${error.message}`), reject));
      worker.on('exit', (code) => this.fail(new Error(`gradient worker ${slot + 1} stopped (exit code ${code})`), reject));
      worker.postMessage({ type: 'init', spec: this.spec, backend, shared, slot } satisfies ToGradientWorker);
    })));
  }

  /** True once a worker failed or the engine was closed (its steps then fail). */
  get broken(): boolean {
    return this.failure !== undefined;
  }

  private fail(error: Error, reject?: (e: Error) => void): void {
    this.failure ??= error;
    reject?.(error);
    for (const w of this.waiting.splice(0)) w({ type: 'error', message: error.message });
  }

  /**
   * The whole batch's loss, gradient and (shard 0's) BN statistics for `weights` (a network of this engine's
   * layout). `teacher`: the distillation teacher's weights when `whole.teacher` asks for one. Steps of several
   * callers run one after another.
   */
  compute(weights: SupernetWeights, whole: GradientShard, teacher?: SupernetWeights): Promise<BatchGradients> {
    const run = this.queue.then(() => this.computeNow(weights, whole, teacher));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async computeNow(weights: SupernetWeights, whole: GradientShard, teacher: SupernetWeights | undefined): Promise<BatchGradients> {
    if (this.failure) throw this.failure;
    const shards = splitShard(whole, this.workers);
    const parties = shards.length;
    let reduceBuffer: SharedArrayBuffer | undefined;
    if (parties > 1) {
      const skipLayers = [...layersNobodyRuns(this.spec, whole.n, whole.subnets)];
      for (const s of shards) s.skipLayers = skipLayers;
      const capacity = 3 * (shards[0]?.bnSync?.groups ?? 1) * this.bnChannels;
      if (!this.reduceBuffer || this.reduceBuffer.byteLength < SharedReducer.bytes(parties, capacity)) this.reduceBuffer = SharedReducer.allocate(parties, capacity);
      // A fresh header every step: the barrier's count starts at 0 for this step's parties.
      reduceBuffer = this.reduceBuffer;
      new Int32Array(reduceBuffer, 0, 16).fill(0);
    }
    const reducerOf = (rank: number) => (reduceBuffer ? new SharedReducer(reduceBuffer, parties, rank, REDUCE_TIMEOUT_MS) : undefined);
    const shared = this.shared;
    if (shared && shards.length > 1) {
      let offset = 0;
      for (const v of weights.trainable()) {
        shared.set(v.dataSync() as Float32Array, offset);
        offset += v.size;
      }
      if (teacher && whole.teacher && this.teacherSent !== teacher) {
        const values = Object.fromEntries([...teacher.snapshot()]);
        await Promise.all(this.threads.map((_, k) => this.ask(k, { type: 'teacher', values })));
        this.teacherSent = teacher;
      }
    }
    const answers = shards.slice(1).map((shard, k) => this.ask(k, {
      type: 'step',
      shard,
      ...(reduceBuffer ? { reduce: { buffer: reduceBuffer, parties, rank: k + 1, timeoutMs: REDUCE_TIMEOUT_MS } } : {}),
    }));
    // Shard 0 runs here while the workers run theirs (meeting them at every BN layer).
    let first: ReturnType<typeof shardGradients>;
    try {
      first = shardGradients(weights, shards[0] as GradientShard, this.local, teacher, reducerOf(0));
    } catch (error) {
      await Promise.allSettled(answers);
      this.failure ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    }
    const settled = await Promise.allSettled(answers);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // The step's synchronization is broken: later steps need a new engine.
      this.failure ??= failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
      throw failed.reason;
    }
    const results = settled.map((r) => (r as PromiseFulfilledResult<FromGradientWorker>).value);
    let loss = first.loss;
    const grads = this.local;
    results.forEach((m, k) => {
      if (m.type !== 'done') throw new Error(`gradient worker ${k + 1}: ${m.type === 'error' ? m.message : 'unexpected answer'}`);
      loss += m.loss;
      const slot = (shared as Float32Array).subarray(this.total * (1 + k), this.total * (2 + k));
      for (let i = 0; i < grads.length; i++) grads[i] = (grads[i] as number) + (slot[i] as number);
    });
    const perParam: Float32Array[] = [];
    let offset = 0;
    for (const size of this.sizes) {
      perParam.push(grads.subarray(offset, offset + size));
      offset += size;
    }
    return { loss, grads, perParam, stats: first.stats };
  }

  /** Sends worker `k` a message; resolves with its answer (an error answer when it fails meanwhile). */
  private ask(k: number, message: ToGradientWorker): Promise<FromGradientWorker> {
    return new Promise<FromGradientWorker>((resolve) => {
      if (this.failure) {
        resolve({ type: 'error', message: this.failure.message });
        return;
      }
      const worker = this.threads[k] as Worker;
      const settle = (m: FromGradientWorker) => {
        this.waiting = this.waiting.filter((w) => w !== settle);
        worker.off('message', settle);
        resolve(m);
      };
      this.waiting.push(settle);
      worker.once('message', settle);
      worker.postMessage(message);
    }).then((m) => {
      if (m.type === 'error') throw new Error(`gradient worker ${k + 1}: ${m.message}`);
      return m;
    });
  }

  dispose(): void {
    for (const w of this.threads) {
      w.removeAllListeners('exit');
      void w.terminate();
    }
    this.threads.length = 0;
    this.failure ??= new Error('the gradient engine was closed');
  }
}

/** A shard that waits longer than this at a BN layer for the others fails the step. */
const REDUCE_TIMEOUT_MS = 120_000;

const engines = new Map<string, Promise<GradientEngine>>();

/**
 * The process's engine for this network and worker count (started on first use, threads kept for the next
 * training); a failed engine is replaced on the next call.
 */
export async function gradientEngine(weights: SupernetWeights, workers: number): Promise<GradientEngine> {
  const key = `${workers}|${JSON.stringify(weights.spec)}`;
  let engine = engines.get(key);
  if (!engine) {
    engine = GradientEngine.start(weights, workers);
    engines.set(key, engine);
    engine.catch(() => engines.delete(key));
  }
  const ready = await engine;
  if (ready.broken) {
    engines.delete(key);
    return gradientEngine(weights, workers);
  }
  return ready;
}

/** Stops every engine's threads (tests; a process exits without it, the threads do not hold it open). */
export function closeGradientEngines(): void {
  for (const engine of engines.values()) void engine.then((e) => e.dispose(), () => undefined);
  engines.clear();
}
