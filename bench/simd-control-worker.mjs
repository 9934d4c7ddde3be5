// A worker of bench/parallel-control.ts's SIMD control: tfjs-wasm (XNNPACK, SIMD, 1 thread) float32 matMuls of a
// fixed size, `n` at a time; answers with the milliseconds they took.
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

await tf.setBackend('wasm');
await tf.ready();
let operands;
parentPort.on('message', ({ size, n }) => {
  if (!operands || operands[0].shape[0] !== size) {
    operands?.forEach((t) => t.dispose());
    operands = [tf.randomUniform([size, size], -1, 1, 'float32', 1), tf.randomUniform([size, size], -1, 1, 'float32', 2)];
  }
  const [a, b] = operands;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(() => void tf.matMul(a, b).dataSync());
  parentPort.postMessage(performance.now() - t0);
});
