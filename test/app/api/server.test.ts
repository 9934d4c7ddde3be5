import { describe, expect, it } from 'vitest';
import { createApiServer } from '../../../app/api/server.ts';
import type { ErrorMessage, EventMessage, ResultMessage, ServerMessage } from '../../../app/api/contract/protocol.ts';
import { createFakeEngine } from './fake-engine.ts';

const until = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('createApiServer: request validation', () => {
  const server = createApiServer(createFakeEngine());

  it('answers a malformed JSON string with invalid_request and a null id', async () => {
    const response = (await server.handle('{not json')) as ErrorMessage;
    expect(response.id).toBeNull();
    expect(response.error.code).toBe('invalid_request');
    expect(response.error.message).toMatch(/not valid JSON/);
  });

  it.each([[null], [42], ['"text"'], [[1, 2]]])('rejects a non-object request %j', async (raw) => {
    const response = (await server.handle(raw)) as ErrorMessage;
    expect(response.error.code).toBe('invalid_request');
  });

  it('names the id field when it is missing', async () => {
    const response = (await server.handle({ method: 'listNetworks' })) as ErrorMessage;
    expect(response.error).toMatchObject({ code: 'invalid_request' });
    expect(response.error.message).toContain('"id"');
  });

  it('answers an unknown method with unknown_method, keeping the id and listing the methods', async () => {
    const response = (await server.handle({ id: 7, method: 'rm -rf' })) as ErrorMessage;
    expect(response.id).toBe(7);
    expect(response.error.code).toBe('unknown_method');
    expect(response.error.details.join()).toContain('startSearch');
  });

  it('does not treat Object.prototype names as methods', async () => {
    const response = (await server.handle({ id: 1, method: 'constructor' })) as ErrorMessage;
    expect(response.error.code).toBe('unknown_method');
  });

  it('names the invalid field of the params', async () => {
    const response = (await server.handle({ id: 'a', method: 'startSearch', params: { network: 'x', target: '150%' } })) as ErrorMessage;
    expect(response.id).toBe('a');
    expect(response.error.code).toBe('invalid_request');
    expect(response.error.message).toContain('params.target');
    expect(response.error.message).toMatch(/below 100%/);
  });

  it('reports unknown fields', async () => {
    const response = (await server.handle({ id: 1, method: 'getArchitecture', params: { network: 'a', bogus: 1 } })) as ErrorMessage;
    expect(response.error.message).toContain('"bogus"');
  });

  it('applies schema defaults before calling the engine', async () => {
    const engine = createFakeEngine();
    const local = createApiServer(engine);
    const response = (await local.handle({ id: 1, method: 'startSearch', params: { network: 'mobilenet-v1-32', evaluator: 'synthetic', finalTraining: { mode: 'none' } } })) as ResultMessage;
    expect(response.result).toMatchObject({ method: 'startSearch' });
    await until(() => engine.calls.length > 0);
    // The demo's search: MCD, J = 8, L = 3, 6% decaying ×0.98, to 50% of the host latency.
    expect(engine.calls[0]?.params).toMatchObject({ algorithm: 'mcd', samplesPerIteration: 8, layersPerSample: 3, reduction: '6%', target: '50%', metric: 'latency', deviceId: 'host', seed: 1 });
    await local.close();
  });

  it('refuses a final training after a dry run, naming the field', async () => {
    const response = (await server.handle({ id: 1, method: 'startSearch', params: { network: 'n', evaluator: 'synthetic' } })) as ErrorMessage;
    expect(response.error.message).toContain('params.finalTraining.mode');
    expect(response.error.message).toMatch(/nothing to train/);
  });

  it('maps engine errors: NotAvailableError -> not_available, bugs -> internal', async () => {
    const na = (await server.handle({ id: 1, method: 'trainSupernet', params: { network: 'n' } })) as ResultMessage;
    expect(na.result).toHaveProperty('jobId'); // jobs fail through their events, checked below
    const bug = (await server.handle({ id: 2, method: 'getArchitecture', params: { network: 'boom' } })) as ErrorMessage;
    expect(bug.error.code).toBe('internal');
    expect(bug.error.message).toContain('something broke inside');
    const call = (await server.handle({ id: 3, method: 'exportResult', params: { runId: 'r', format: 'json' } })) as ErrorMessage;
    expect(call.error.code).toBe('not_available');
  });

  it('routes openResult to getRun', async () => {
    const engine = createFakeEngine();
    const response = (await createApiServer(engine).handle({ id: 1, method: 'openResult', params: { runId: 'r9' } })) as ResultMessage;
    expect(response.result).toEqual({ runId: 'r9' });
    expect(engine.calls).toEqual([{ method: 'getRun', params: { runId: 'r9' } }]);
  });
});

describe('createApiServer: jobs and events', () => {
  it('answers with the job id before the first event, streams events, ends with done', async () => {
    const engine = createFakeEngine();
    const server = createApiServer(engine);
    const received: ServerMessage[] = [];
    const connection = server.connect((message) => received.push(message));
    await connection.receive(JSON.stringify({ id: 1, method: 'startSearch', params: { network: 'n', evaluator: 'synthetic', finalTraining: { mode: 'none' } } }));
    const first = received[0] as ResultMessage;
    const jobId = (first.result as { jobId: string }).jobId;
    expect(jobId).toMatch(/[0-9a-f-]{36}/);
    await until(() => engine.finishSearch !== undefined);
    engine.finishSearch?.({ runId: 'r1' } as never);
    await until(() => received.some((m) => 'type' in m && m.event.kind === 'done'));
    const kinds = received.filter((m): m is EventMessage => 'type' in m).map((m) => m.event.kind);
    expect(kinds).toEqual(['started', 'run-created', 'progress', 'done']);
    expect(received.filter((m): m is EventMessage => 'type' in m).every((m) => m.jobId === jobId)).toBe(true);
    const jobs = (await server.handle({ id: 2, method: 'listJobs' })) as ResultMessage;
    // The run id stays on the job, so a screen that attaches later (after a reload) can pause or open the run.
    expect(jobs.result).toEqual([expect.objectContaining({ jobId, status: 'done', runId: 'r1', result: { runId: 'r1' } })]);
  });

  it('cancels a job: the engine sees the abort and clients get a cancelled event', async () => {
    const engine = createFakeEngine();
    const server = createApiServer(engine);
    const received: ServerMessage[] = [];
    server.connect((message) => received.push(message));
    const started = (await server.handle({ id: 1, method: 'startSearch', params: { network: 'n', evaluator: 'synthetic', finalTraining: { mode: 'none' } } })) as ResultMessage;
    const { jobId } = started.result as { jobId: string };
    await until(() => engine.finishSearch !== undefined);
    const cancel = (await server.handle({ id: 2, method: 'cancelJob', params: { jobId } })) as ResultMessage;
    expect(cancel.result).toMatchObject({ jobId });
    await until(() => received.some((m) => 'type' in m && m.event.kind === 'cancelled'));
    const jobs = (await server.handle({ id: 3, method: 'listJobs' })) as ResultMessage;
    expect(jobs.result).toEqual([expect.objectContaining({ status: 'cancelled' })]);
  });

  it('a failing job ends with a failed event carrying the error code', async () => {
    const server = createApiServer(createFakeEngine());
    const received: ServerMessage[] = [];
    server.connect((message) => received.push(message));
    await server.handle({ id: 1, method: 'trainSupernet', params: { network: 'n' } });
    await until(() => received.some((m) => 'type' in m && m.event.kind === 'failed'));
    const failed = received.find((m): m is EventMessage => 'type' in m && m.event.kind === 'failed');
    expect(failed?.event).toMatchObject({ kind: 'failed', error: { code: 'not_available' } });
  });

  it('cancelJob of an unknown id is not_found', async () => {
    const response = (await createApiServer(createFakeEngine()).handle({ id: 1, method: 'cancelJob', params: { jobId: 'nope' } })) as ErrorMessage;
    expect(response.error.code).toBe('not_found');
  });

  it('a client whose send throws does not break other clients', async () => {
    const server = createApiServer(createFakeEngine());
    server.connect(() => {
      throw new Error('socket closed');
    });
    const good: ServerMessage[] = [];
    server.connect((m) => good.push(m));
    await server.handle({ id: 1, method: 'trainSupernet', params: { network: 'n' } });
    await until(() => good.some((m) => 'type' in m && m.event.kind === 'failed'));
  });

  it('close() cancels running jobs and waits for them', async () => {
    const engine = createFakeEngine();
    const server = createApiServer(engine);
    await server.handle({ id: 1, method: 'watchDevices' });
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    const jobs = (await server.handle({ id: 2, method: 'listJobs' })) as ResultMessage;
    expect(jobs.result).toEqual([expect.objectContaining({ method: 'watchDevices', status: 'cancelled' })]);
  });
});
