/** App-wide reactive state: the API client, the current screen, the connection and the running jobs. */
import type { JobEvent, ProgressEvent } from '../../../app/api/contract/types.ts';
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
  status: 'running' | 'done' | 'failed' | 'cancelled';
  progress?: ProgressEvent;
  message: string;
}

export const api = new Api(pickTransport(window));

export const nav = $state<{ screen: Screen; runId: string | null; network: string | null }>({
  screen: 'devices',
  runId: null,
  network: null,
});

export const connection = $state<{ state: ConnectionState; reason: string }>({ state: 'connecting', reason: '' });

export const jobs = $state<{ list: JobView[] }>({ list: [] });

api.onState((state, reason) => {
  connection.state = state;
  connection.reason = reason;
});

api.onAnyEvent(({ jobId, event }) => {
  let job = jobs.list.find((j) => j.jobId === jobId);
  if (!job && event.kind === 'started') {
    jobs.list.push({ jobId, method: event.method, status: 'running', message: '' });
    job = jobs.list.at(-1);
  }
  if (job) applyJobEvent(job, event);
  // Keep the bar short: finished jobs beyond the last five go.
  const finished = jobs.list.filter((j) => j.status !== 'running');
  if (finished.length > 5) jobs.list = jobs.list.filter((j) => j.status === 'running' || finished.slice(-5).includes(j));
});

function applyJobEvent(job: JobView, event: JobEvent): void {
  switch (event.kind) {
    case 'progress':
      job.progress = event;
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

export function openScreen(screen: Screen, options: { runId?: string | null; network?: string | null } = {}): void {
  nav.screen = screen;
  if (options.runId !== undefined) nav.runId = options.runId;
  if (options.network !== undefined) nav.network = options.network;
}
