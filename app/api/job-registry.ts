/**
 * The jobs a worker thread can run by name. Heavy engine work (super-network training, search, host-side latency
 * measurement) belongs here so it never blocks the thread that answers the UI. Each entry imports its module
 * lazily, so a worker only loads what its job needs.
 */
import type { WorkerJob } from './worker-protocol.ts';

export const WORKER_JOBS: Record<string, () => Promise<WorkerJob>> = {
  /** Resolves every sub-network of a random sample of the search space; a CPU-bound job with real progress. */
  sampleSearchSpace: async () => (await import('./jobs/sample-search-space.ts')).sampleSearchSpace,
  /** Super-network training (core/supernet) into a checkpoint folder. */
  trainSupernet: async () => (await import('./jobs/train-supernet.ts')).trainSupernetJob as WorkerJob,
  /** A search run (core/search) over the workspace's run store. */
  runSearch: async () => (await import('./jobs/run-search.ts')).runSearch as WorkerJob,
  /** Measures the missing entries of a latency table (latency/lut/build.ts). */
  buildLatencyTable: async () => (await import('./jobs/latency-table.ts')).buildLatencyTableJob as WorkerJob,
  /** Predicted vs measured latency of random sub-networks (latency/lut/validate.ts). */
  validateLatencyTable: async () => (await import('./jobs/latency-table.ts')).validateLatencyTableJob as WorkerJob,
};
