/**
 * A sample-scoring worker thread (evaluation-pool.ts): its own copy of the super-network weights and of the
 * evaluation images, sent once, and an ONNX Runtime evaluator (onnx-evaluator.ts) that scores one sub-network per
 * request.
 */
import { parentPort } from 'node:worker_threads';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import { initBackend, type BackendPreference } from '../tensor/backend.ts';
import type { Evaluation, EvaluationImages, SupernetEvaluator } from './evaluate.ts';
import { onnxEvaluatorOfImages } from './onnx-evaluator.ts';
import { SupernetWeights } from './weights.ts';

export type ToEvaluationWorker =
  | { type: 'init'; spec: NetworkSpec; values: Record<string, Float32Array>; images: EvaluationImages; threads: number; backend: BackendPreference }
  | { type: 'evaluate'; id: number; config?: SubnetConfig };

export type FromEvaluationWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; evaluation: Evaluation }
  | { type: 'error'; id?: number; message: string };

const port = parentPort;
if (!port) throw new Error('evaluation-worker.ts must run in a worker thread');

let evaluator: SupernetEvaluator | undefined;

port.on('message', (message: ToEvaluationWorker) => {
  void handle(message).catch((error: unknown) => {
    port.postMessage({
      type: 'error',
      ...(message.type === 'evaluate' ? { id: message.id } : {}),
      message: error instanceof Error ? error.message : String(error),
    } satisfies FromEvaluationWorker);
  });
});

async function handle(message: ToEvaluationWorker): Promise<void> {
  if (message.type === 'init') {
    await initBackend({ prefer: message.backend });
    const { values } = message;
    const weights = new SupernetWeights(message.spec, (info) => {
      const v = values[info.name];
      if (!v) throw new Error(`the weights sent to the evaluation worker lack ${info.name}`);
      return v;
    });
    evaluator = await onnxEvaluatorOfImages(weights, message.images, message.threads);
    port?.postMessage({ type: 'ready' } satisfies FromEvaluationWorker);
    return;
  }
  if (!evaluator) throw new Error('evaluation worker: a sub-network before init');
  const evaluation = await evaluator.evaluate(message.config);
  port?.postMessage({ type: 'result', id: message.id, evaluation } satisfies FromEvaluationWorker);
}
