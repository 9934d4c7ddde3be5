/**
 * The transport-independent API server: parses `{id, method, params}`, validates params with the method's schema,
 * dispatches to the Engine and answers `{id, result}` or `{id, error}`. Job methods answer `{jobId}` at once and
 * stream `{type:'event', jobId, event}` to every connected client. A malformed request gets an error, never a crash.
 */
import type { z } from 'zod';
import type { Engine, JobContext } from './engine.ts';
import { RequestError, toErrorBody } from './errors.ts';
import { JobManager } from './jobs.ts';
import { METHOD_NAMES, METHODS, isMethodName, type MethodName } from './contract/methods.ts';
import type { EventMessage, RequestId, ResponseMessage, ServerMessage } from './contract/protocol.ts';
import type { JobEvent } from './contract/types.ts';
import { jobTitle } from './contract/titles.ts';

export interface ApiConnection {
  /** Handles one incoming message (a JSON string or an already parsed value) and sends the response. */
  receive(raw: unknown): Promise<void>;
  close(): void;
}

export interface ApiServer {
  /** A client: gets its responses and every job event through `send`. */
  connect(send: (message: ServerMessage) => void): ApiConnection;
  /** Handles one request and returns its response (events still go to connected clients). */
  handle(raw: unknown): Promise<ResponseMessage>;
  /** Cancels running jobs and waits for them; the engine itself is disposed by its owner. */
  close(): Promise<void>;
}

export function createApiServer(engine: Engine): ApiServer {
  const clients = new Set<(message: ServerMessage) => void>();
  const jobs = new JobManager((jobId: string, event: JobEvent) => {
    const message: EventMessage = { type: 'event', jobId, event };
    for (const send of clients) safeSend(send, message);
  });

  async function handle(raw: unknown): Promise<ResponseMessage> {
    let id: RequestId | null = null;
    try {
      const request = parseObject(raw);
      id = parseId(request);
      const result = await dispatch(parseMethod(request), request.params);
      return { id, result: result ?? null };
    } catch (error) {
      return { id, error: toErrorBody(error) };
    }
  }

  async function dispatch(method: MethodName, rawParams: unknown): Promise<unknown> {
    const params = validateParams(method, rawParams);
    switch (method) {
      case 'listJobs':
        return jobs.list();
      case 'cancelJob':
        return jobs.cancel((params as { jobId: string }).jobId);
      case 'dismissJob':
        jobs.dismiss((params as { jobId: string }).jobId);
        return jobs.list();
      default:
        break;
    }
    const entry = METHODS[method];
    if (entry.kind === 'job') {
      const run = engine[method as keyof Engine] as (p: unknown, ctx: JobContext) => Promise<unknown>;
      const info = jobs.start(method, (ctx) => run.call(engine, params, ctx), jobTitle(method, params));
      return { jobId: info.jobId, method };
    }
    const target = method === 'openResult' ? 'getRun' : method;
    const call = engine[target as keyof Engine] as (p: unknown) => Promise<unknown>;
    return call.call(engine, params);
  }

  return {
    handle,
    connect(send) {
      clients.add(send);
      let open = true;
      return {
        async receive(raw) {
          const response = await handle(raw);
          if (open) safeSend(send, response);
        },
        close() {
          open = false;
          clients.delete(send);
        },
      };
    },
    async close() {
      await jobs.cancelAll('the app is closing');
      clients.clear();
    },
  };
}

function parseObject(raw: unknown): Record<string, unknown> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch (error) {
      throw new RequestError('invalid_request', `request is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError('invalid_request', 'request must be a JSON object like {"id": 1, "method": "listNetworks", "params": {}}');
  }
  return value as Record<string, unknown>;
}

function parseId(request: Record<string, unknown>): RequestId {
  const { id } = request;
  if (typeof id === 'string' && id.length > 0 && id.length <= 200) return id;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  throw new RequestError('invalid_request', 'request field "id" must be a non-empty string or a number');
}

function parseMethod(request: Record<string, unknown>): MethodName {
  const { method } = request;
  if (typeof method !== 'string' || method === '') {
    throw new RequestError('invalid_request', 'request field "method" must be the name of an operation');
  }
  if (!isMethodName(method)) {
    throw new RequestError('unknown_method', `unknown method "${method.slice(0, 100)}"`, [`methods: ${METHOD_NAMES.join(', ')}`]);
  }
  return method;
}

function validateParams(method: MethodName, raw: unknown): unknown {
  const schema: z.ZodType = METHODS[method].schema;
  const result = schema.safeParse(raw === undefined || raw === null ? {} : raw);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => `${fieldPath(issue.path)}: ${describeIssue(issue)}`);
  const first = details[0] ?? 'params: invalid';
  throw new RequestError('invalid_request', `invalid parameters for ${method}: ${first}`, details);
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = 'params';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

function safeSend(send: (message: ServerMessage) => void, message: ServerMessage): void {
  try {
    send(message);
  } catch {
    // A client that went away must not break the server or other clients.
  }
}
