/** Entry of a job worker thread: runs one WorkerTask and reports events, the result or the error to the parent. */
import { parentPort } from 'node:worker_threads';
import { CancelledError, toErrorBody } from './errors.ts';
import { WORKER_JOBS } from './job-registry.ts';
import type { FromWorker, ToWorker, WorkerJob, WorkerTask } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('job-worker.ts must run in a worker thread');

const controller = new AbortController();
const post = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') controller.abort(new CancelledError(message.reason));
  else void run(message.task);
});

async function run(task: WorkerTask): Promise<void> {
  try {
    const job = await loadJob(task);
    const result = await job(task.params, { signal: controller.signal, emit: (event) => post({ type: 'event', event }) });
    post({ type: 'done', result: result ?? null });
  } catch (error) {
    post({ type: 'error', error: toErrorBody(error) });
  }
}

async function loadJob(task: WorkerTask): Promise<WorkerJob> {
  if (task.moduleUrl !== undefined) {
    // eslint-disable-next-line layers/imports -- a test fixture's file URL (worker-runner tests), never an engine module
    const module = (await import(task.moduleUrl)) as Record<string, unknown>;
    const job = module[task.job];
    if (typeof job !== 'function') throw new Error(`${task.moduleUrl} has no exported function "${task.job}"`);
    return job as WorkerJob;
  }
  const load = WORKER_JOBS[task.job];
  if (!load) throw new Error(`no worker job named "${task.job}"`);
  return load();
}
