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

/** The scalar loop of `iterations` square roots on one thread, then on each of `threads` threads at once. */
export function parallelHeadroom(threads: number, iterations = 5e7): Promise<ParallelHeadroom> {
  return headroom(threads, () => new Worker(LOOP, { eval: true }), 1e6, iterations);
}

/** simdHeadroom's worker: bench/simd-control-worker.mjs (plain JavaScript, no tsx needed). */
const SIMD_WORKER = new URL('./simd-control-worker.mjs', import.meta.url);

/** The same `matmuls` tfjs-wasm matMuls of size² on one thread, then on each of `threads` threads at once. */
export function simdHeadroom(threads: number, size = 256, matmuls = 150): Promise<ParallelHeadroom> {
  // The warm-up also starts the backend and XNNPACK's operator of this size.
  return headroom(threads, () => new Worker(SIMD_WORKER), { size, n: 10 }, { size, n: matmuls });
}

/** Times `work` on one of `threads` fresh workers, then on all of them at once (after `warmUp` on each). */
async function headroom(threads: number, start: () => Worker, warmUp: unknown, work: unknown): Promise<ParallelHeadroom> {
  const workers = Array.from({ length: threads }, start);
  const run = (w: Worker, message: unknown) => new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.postMessage(message);
  });
  try {
    await Promise.all(workers.map((w) => run(w, warmUp)));
    let t0 = performance.now();
    await run(workers[0] as Worker, work);
    const oneThreadMs = performance.now() - t0;
    t0 = performance.now();
    await Promise.all(workers.map((w) => run(w, work)));
    const parallelMs = performance.now() - t0;
    return { threads, speedup: (threads * oneThreadMs) / parallelMs, oneThreadMs, parallelMs };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
