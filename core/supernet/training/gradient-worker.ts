/**
 * A data-parallel training worker thread (gradient-workers.ts): its own tfjs backend and copy of the weights; per
 * step it takes the weights from shared memory, computes its shard's gradient into its slot of shared memory and
 * answers with the shard's loss and BN statistics.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { NetworkSpec } from '../../arch/index.ts';
import { initBackend, type BackendPreference } from '../../tensor/backend.ts';
import { SupernetWeights } from '../weights.ts';
import { shardGradients, trainableSizes, type BatchStatistics, type GradientShard } from './shard.ts';
import { SharedReducer } from './shared-reduce.ts';

export type ToGradientWorker =
  | { type: 'init'; spec: NetworkSpec; backend: BackendPreference; shared: SharedArrayBuffer; slot: number }
  /** The distillation teacher's values (every parameter and BN statistic by name). */
  | { type: 'teacher'; values: Record<string, Float32Array> }
  /** `reduce`: the step's BN synchronization (SharedReducer) when the batch is split. */
  | { type: 'step'; shard: GradientShard; reduce?: { buffer: SharedArrayBuffer; parties: number; rank: number; timeoutMs: number } };

export type FromGradientWorker =
  | { type: 'ready'; backend: string }
  | { type: 'teacher-ready' }
  | { type: 'done'; loss: number; stats: BatchStatistics[] }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('gradient-worker.ts must run in a worker thread');

interface WorkerState {
  weights: SupernetWeights;
  teacher?: SupernetWeights;
  shared: Float32Array;
  total: number;
  slot: number;
}

let state: WorkerState | undefined;

port.on('message', (message: ToGradientWorker) => {
  void handle(message).catch((error: unknown) => {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies FromGradientWorker);
  });
});

async function handle(message: ToGradientWorker): Promise<void> {
  if (message.type === 'init') {
    const backend = await initBackend({ prefer: message.backend });
    const weights = SupernetWeights.init(message.spec, 0);
    const total = trainableSizes(weights).reduce((a, b) => a + b, 0);
    state = { weights, shared: new Float32Array(message.shared), total, slot: message.slot };
    port?.postMessage({ type: 'ready', backend: backend.description } satisfies FromGradientWorker);
    return;
  }
  if (!state) throw new Error('gradient worker: a step before init');
  if (message.type === 'teacher') {
    state.teacher?.dispose();
    const { values } = message;
    state.teacher = new SupernetWeights(state.weights.spec, (info) => {
      const v = values[info.name];
      if (!v) throw new Error(`the teacher's weights lack ${info.name}`);
      return v;
    });
    port?.postMessage({ type: 'teacher-ready' } satisfies FromGradientWorker);
    return;
  }
  const { weights, shared, total, slot } = state;
  let offset = 0;
  for (const v of weights.trainable()) {
    const t = tf.tensor(shared.slice(offset, offset + v.size), v.shape, 'float32');
    v.assign(t);
    t.dispose();
    offset += v.size;
  }
  const r = message.reduce;
  const reducer = r ? new SharedReducer(r.buffer, r.parties, r.rank, r.timeoutMs) : undefined;
  const result = shardGradients(weights, message.shard, shared.subarray(total * (1 + slot), total * (2 + slot)), state.teacher, reducer);
  port?.postMessage({ type: 'done', loss: result.loss, stats: result.stats } satisfies FromGradientWorker);
}
