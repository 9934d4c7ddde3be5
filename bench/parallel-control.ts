/**
 * Controls for scaling measurements on a shared machine: the same work on one worker thread, then on `threads`
 * threads at once, each doing the same work; each returns how much more work per second the threads got done.
 *
 * - parallelHeadroom: a scalar CPU-bound loop (no memory traffic). On an idle machine with `threads` cores this is
 *   ≈ threads; on a machine the other jobs keep busy it shows how much parallel CPU there was at that moment.
 * - simdHeadroom: tfjs-wasm float32 matMuls (XNNPACK, SIMD, one thread each), the arithmetic a training step is made
 *   of. Where the virtual cores share SIMD units or memory bandwidth (e.g. SMT siblings on the host), this stays
 *   below the scalar loop's figure: it is the most the same SIMD work can gain from more threads on this machine.
 */
import { Worker } from 'node:worker_threads';

const LOOP = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (n) => {
  let x = 0;
  for (let i = 0; i < n; i++) x += Math.sqrt(i);
  parentPort.postMessage(x);
});`;

export interface ParallelHeadroom {
  threads: number;
  /** Work per second on `threads` threads / on one thread. */
  speedup: number;
  oneThreadMs: number;
  parallelMs: number;
}

export async function parallelHeadroom(threads: number, iterations = 5e7): Promise<ParallelHeadroom> {
  const workers = Array.from({ length: threads }, () => new Worker(LOOP, { eval: true }));
  const run = (w: Worker, n: number) => new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage(n);
  });
  try {
    await Promise.all(workers.map((w) => run(w, 1e6)));
    let t0 = performance.now();
    await run(workers[0] as Worker, iterations);
    const oneThreadMs = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(workers.map((w) => run(w, iterations)));
    const parallelMs = performance.now() - t0;
    return { threads, speedup: (threads * oneThreadMs) / parallelMs, oneThreadMs, parallelMs };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** simdHeadroom's worker: bench/simd-control-worker.mjs (plain JavaScript, no tsx needed). */
const SIMD_WORKER = new URL('./simd-control-worker.mjs', import.meta.url);

/** The same `matmuls` tfjs-wasm matMuls of size² on one thread, then on each of `threads` threads at once. */
export async function simdHeadroom(threads: number, size = 256, matmuls = 150): Promise<ParallelHeadroom> {
  const workers = Array.from({ length: threads }, () => new Worker(SIMD_WORKER));
  const run = (w: Worker, n: number) => new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage({ size, n });
  });
  try {
    // Warm-up: the backend's start and XNNPACK's first operator of this size.
    await Promise.all(workers.map((w) => run(w, 10)));
    let t0 = performance.now();
    await run(workers[0] as Worker, matmuls);
    const oneThreadMs = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(workers.map((w) => run(w, matmuls)));
    const parallelMs = performance.now() - t0;
    return { threads, speedup: (threads * oneThreadMs) / parallelMs, oneThreadMs, parallelMs };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
