/** A typed client over a Transport: calls answer with results, jobs with a handle whose events and end you await. */
import type { CallMethod, JobMethod, JobResultOf, MethodName, ParamsOf, ResultOf } from '../../../app/api/contract/methods.ts';
import type { EventMessage } from '../../../app/api/contract/protocol.ts';
import type { JobEvent, JobStarted } from '../../../app/api/contract/types.ts';
import { ApiError, type Transport } from './transport.ts';

export interface JobHandle<Result> {
  jobId: string;
  /** Resolves with the job's result; rejects with an ApiError when it fails or is cancelled (code 'cancelled'). */
  done: Promise<Result>;
  cancel(): Promise<void>;
}

/** Events that arrive before their job's start answer (possible over Electron IPC) wait here, briefly. */
const EARLY_EVENT_LIMIT = 500;

export class Api {
  private readonly transport: Transport;
  private readonly jobListeners = new Map<string, (event: JobEvent) => void>();
  private readonly early: EventMessage[] = [];
  private readonly globalListeners = new Set<(message: EventMessage) => void>();

  constructor(transport: Transport) {
    this.transport = transport;
    transport.onEvent((message) => {
      for (const listener of this.globalListeners) listener(message);
      const listener = this.jobListeners.get(message.jobId);
      if (listener) listener(message.event);
      else {
        this.early.push(message);
        if (this.early.length > EARLY_EVENT_LIMIT) this.early.shift();
      }
    });
  }

  get kind(): Transport['kind'] {
    return this.transport.kind;
  }

  /** Takes an export away: a Save dialog (Electron) or a browser download; the saved path / file name, or null. */
  saveExport(downloadId: string, fileName: string): Promise<string | null> {
    return this.transport.saveExport(downloadId, fileName);
  }

  /** A native folder picker (Electron), or undefined where the user types the path (browser). */
  get pickFolder(): ((title: string) => Promise<string | null>) | undefined {
    return this.transport.pickFolder;
  }

  call<M extends CallMethod>(method: M, ...params: keyof ParamsOf<M> extends never ? [ParamsOf<M>?] : [ParamsOf<M>]): Promise<ResultOf<M>> {
    return this.transport.request(method, params[0] ?? {}) as Promise<ResultOf<M>>;
  }

  async startJob<M extends JobMethod>(
    method: M,
    params: ParamsOf<M>,
    onEvent: (event: JobEvent) => void = () => {},
  ): Promise<JobHandle<NonNullable<JobResultOf<M>>>> {
    const started = (await this.transport.request(method, params)) as JobStarted;
    return this.attachJob<NonNullable<JobResultOf<M>>>(started.jobId, onEvent);
  }

  /** Follows a job that is already running (e.g. after a reload: listJobs names it). */
  attachJob<Result>(jobId: string, onEvent: (event: JobEvent) => void = () => {}): JobHandle<Result> {
    const done = new Promise<Result>((resolve, reject) => {
      const listener = (event: JobEvent) => {
        onEvent(event);
        if (event.kind === 'done') {
          this.jobListeners.delete(jobId);
          resolve(event.result as Result);
        } else if (event.kind === 'failed') {
          this.jobListeners.delete(jobId);
          reject(new ApiError(event.error));
        } else if (event.kind === 'cancelled') {
          this.jobListeners.delete(jobId);
          reject(new ApiError({ code: 'cancelled', message: event.reason }));
        }
      };
      this.jobListeners.set(jobId, listener);
      const waiting = this.early.filter((m) => m.jobId === jobId);
      this.early.splice(0, this.early.length, ...this.early.filter((m) => m.jobId !== jobId));
      for (const message of waiting) listener(message.event);
    });
    // A caller that only cares about events must not trigger an unhandled rejection.
    done.catch(() => {});
    return {
      jobId,
      done,
      cancel: async () => {
        await this.transport.request('cancelJob', { jobId }).catch(() => {});
      },
    };
  }

  /** Every job event (e.g. for the global jobs bar). */
  onAnyEvent(listener: (message: EventMessage) => void): () => void {
    this.globalListeners.add(listener);
    return () => this.globalListeners.delete(listener);
  }

  onState(listener: Parameters<Transport['onState']>[0]): () => void {
    return this.transport.onState(listener);
  }
}

export type { MethodName };

/** A readable one-line message for an error thrown by the API (or anything else). */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.details.length > 0 ? `${error.message} — ${error.details.join('; ')}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
