/**
 * A control for scaling measurements on a shared machine: the same CPU-bound loop (no memory traffic) on one worker
 * thread, then on `threads` threads at once, each doing the same work; returns how much more work per second the
 * threads got done. On an idle machine with `threads` cores this is ≈ threads; on a machine the other jobs keep busy
 * it shows how much parallel CPU there was to gain at that moment.
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
