/** App-wide reactive state: the API client, the current screen, the connection and the jobs bar. */
import type { JobEvent, JobInfo, ProgressEvent } from '../../../app/api/contract/types.ts';
import { jobTitle } from '../../../app/api/contract/titles.ts';
import { Api } from './api.ts';
import { pickTransport, type ConnectionState } from './transport.ts';

export type Screen = 'devices' | 'latency' | 'supernet' | 'search' | 'result' | 'history';

export const SCREENS: { id: Screen; label: string }[] = [
  { id: 'devices', label: 'Devices' },
  { id: 'latency', label: 'Latency tables' },
  { id: 'supernet', label: 'Super-network' },
  { id: 'search', label: 'Search' },
  { id: 'result', label: 'Result' },
  { id: 'history', label: 'History' },
];

export interface JobView {
  jobId: string;
  method: string;
  title: string;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  progress?: ProgressEvent;
  /** The search run it works on, once known. */
  runId?: string;
  message: string;
}

/** Jobs the user does not start and the bar does not show. */
const HIDDEN_JOBS = new Set(['watchDevices']);

export const api = new Api(pickTransport(window));

export const nav = $state<{ screen: Screen; runId: string | null; network: string | null; checkpoint: string | null }>({
  screen: 'devices',
  runId: null,
  network: null,
  checkpoint: null,
});

export const connection = $state<{ state: ConnectionState; reason: string }>({ state: 'connecting', reason: '' });

export const jobs = $state<{ list: JobView[] }>({ list: [] });

function viewOf(info: JobInfo): JobView {
  const message = info.status === 'failed' ? (info.error?.message ?? '') : info.status === 'done' ? 'finished' : '';
  return { jobId: info.jobId, method: info.method, title: info.title || jobTitle(info.method, {}), status: info.status, ...(info.lastProgress ? { progress: info.lastProgress } : {}), ...(info.runId ? { runId: info.runId } : {}), message };
}

/** The server's job list: after a reload the bar shows what is still running and what ended, as before. */
async function restoreJobs(): Promise<void> {
  try {
    const listed = await api.call('listJobs', {});
    const known = new Set(jobs.list.map((j) => j.jobId));
    for (const info of listed) if (!HIDDEN_JOBS.has(info.method) && !known.has(info.jobId)) jobs.list.push(viewOf(info));
  } catch {
    // The connection error is shown by the top bar.
  }
}

api.onState((state, reason) => {
  connection.state = state;
  connection.reason = reason;
  if (state === 'open') void restoreJobs();
});

api.onAnyEvent(({ jobId, event }) => {
  let job = jobs.list.find((j) => j.jobId === jobId);
  if (!job && event.kind === 'started' && !HIDDEN_JOBS.has(event.method)) {
    jobs.list.push({ jobId, method: event.method, title: event.title ?? jobTitle(event.method, {}), status: 'running', message: '' });
    job = jobs.list.at(-1);
  }
  if (job) applyJobEvent(job, event);
});

function applyJobEvent(job: JobView, event: JobEvent): void {
  switch (event.kind) {
    case 'progress':
      job.progress = event;
      break;
    case 'run-created':
      job.runId = event.runId;
      break;
    case 'done':
      job.status = 'done';
      job.message = 'finished';
      break;
    case 'failed':
      job.status = 'failed';
      job.message = event.error.message;
      break;
    case 'cancelled':
      job.status = 'cancelled';
      job.message = event.reason;
      break;
    default:
      break;
  }
}

/** Removes a finished job from the bar (and from the server's list, so every window agrees). */
export async function dismissJob(jobId: string): Promise<void> {
  jobs.list = jobs.list.filter((j) => j.jobId !== jobId);
  await api.call('dismissJob', { jobId }).catch(() => {});
}

/** The running job of a method, for a screen that reopens while its job runs. */
export function runningJob(method: string): JobView | undefined {
  return jobs.list.find((j) => j.method === method && j.status === 'running');
}

export function openScreen(screen: Screen, options: { runId?: string | null; network?: string | null; checkpoint?: string | null } = {}): void {
  nav.screen = screen;
  if (options.runId !== undefined) nav.runId = options.runId;
  if (options.network !== undefined) nav.network = options.network;
  if (options.checkpoint !== undefined) nav.checkpoint = options.checkpoint;
}
