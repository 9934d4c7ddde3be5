/**
 * Runs a job in a worker thread so the thread that answers requests stays responsive. Cancellation asks the job to
 * stop (its signal aborts); a job that ignores it is terminated after a grace period. A worker that crashes or
 * exits without answering fails the job with a message instead of leaving it waiting forever.
 */
import { Worker } from 'node:worker_threads';
import type { JobContext } from './engine.ts';
import { CancelledError, fromErrorBody } from './errors.ts';
import type { FromWorker, ToWorker, WorkerTask } from './worker-protocol.ts';

export interface WorkerRunnerOptions {
  /** The worker entry; default: job-worker-boot.mjs from source, job-worker.js next to a bundle. */
  workerUrl?: URL;
  /** How long a cancelled job may take to stop before its thread is terminated (ms). */
  cancelGraceMs?: number;
}

export function defaultWorkerUrl(): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? './job-worker-boot.mjs' : './job-worker.js', import.meta.url);
}

export function runJobInWorker(task: WorkerTask, ctx: Pick<JobContext, 'signal' | 'emit'>, options: WorkerRunnerOptions = {}): Promise<unknown> {
  const grace = options.cancelGraceMs ?? 5_000;
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) {
      reject(new CancelledError(reasonOf(ctx.signal)));
      return;
    }
    const worker = new Worker(options.workerUrl ?? defaultWorkerUrl());
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      action();
      void worker.terminate();
    };
    const onAbort = () => {
      const reason = reasonOf(ctx.signal);
      worker.postMessage({ type: 'cancel', reason } satisfies ToWorker);
      killTimer = setTimeout(() => settle(() => reject(new CancelledError(`${reason} (the job did not stop in ${grace} ms and was terminated)`))), grace);
      killTimer.unref();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'event') ctx.emit(message.event);
      else if (message.type === 'done') settle(() => resolve(message.result));
      else settle(() => reject(ctx.signal.aborted && message.error.code === 'cancelled' ? new CancelledError(message.error.message) : fromErrorBody(message.error)));
    });
    worker.on('error', (error: Error) => {
      settle(() => reject(new Error(`the ${task.job} worker crashed: ${error.message}`, { cause: error })));
    });
    worker.on('exit', (code) => {
      settle(() => reject(new Error(`the ${task.job} worker stopped (exit code ${code}) before it finished`)));
    });
    worker.postMessage({ type: 'start', task } satisfies ToWorker);
  });
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
}
