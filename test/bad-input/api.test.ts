/**
 * Bad inputs through the API (the protocol the renderer speaks over WebSocket or Electron IPC): every field's range
 * in the error, jobs that fail on a bad device or network say why, and nothing is written to the workspace.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDefaultEngine } from '../../app/api/engine-default.ts';
import type { ApiErrorBody, JobEvent } from '../../app/api/contract/types.ts';
import type { EventMessage, ServerMessage } from '../../app/api/contract/protocol.ts';
import { createApiServer } from '../../app/api/server.ts';
import { workspaceHash } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-api-'));
const unusedPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
const workspace = join(dir, 'ws.sqlite');
// No adb server on that port and no adb binary to start one.
const engine = createDefaultEngine({ workspacePath: workspace, adbPort: unusedPort, adbBin: join(dir, 'no-adb-here'), exportDir: join(dir, 'exports') });
const server = createApiServer(engine);
afterAll(async () => {
  await server.close();
  await engine.dispose();
});

async function refusal(method: string, params: unknown): Promise<ApiErrorBody> {
  const response = await server.handle({ id: 1, method, params });
  if (!('error' in response)) throw new Error(`${method} was accepted: ${JSON.stringify(response)}`);
  expect(response.error.code).not.toBe('internal');
  expect(response.error.message).not.toMatch(/internal error/);
  return response.error;
}

/** Starts a job and returns the message of its 'failed' event. */
async function jobFailure(method: string, params: unknown): Promise<string> {
  const received: ServerMessage[] = [];
  const connection = server.connect((m) => received.push(m));
  await connection.receive({ id: 1, method, params });
  const started = received[0] as { result?: { jobId: string }; error?: ApiErrorBody };
  if (started.error) return started.error.message;
  const events = () => received.filter((m): m is EventMessage => 'type' in m && m.jobId === started.result?.jobId).map((m) => m.event);
  const deadline = Date.now() + 30_000;
  while (!events().some((e) => e.kind === 'done' || e.kind === 'failed' || e.kind === 'cancelled')) {
    if (Date.now() > deadline) throw new Error(`${method} did not finish`);
    await new Promise((r) => setTimeout(r, 10));
  }
  connection.close();
  const failed = events().find((e): e is Extract<JobEvent, { kind: 'failed' }> => e.kind === 'failed');
  if (!failed) throw new Error(`${method} did not fail: ${JSON.stringify(events())}`);
  const text = JSON.stringify(failed);
  expect(text).not.toMatch(/internal error/);
  return text;
}

const details = (error: ApiErrorBody) => `${error.message}\n${error.details.join('\n')}`;

describe('API parameters name their allowed range or values', () => {
  it.each([
    ['startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', samplesPerIteration: 1e12 }, /samplesPerIteration: must be a whole number from 1 to 10,000/],
    ['startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', target: '150%' }, /target: a percentage must be above 0% and below 100%/],
    ['startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', reduction: 0.9 }, /reduction: must be above 0 and at most 0\.5/],
    ['startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', seed: 2 ** 40 }, /seed: must be a whole number from 0 to 4,294,967,295 \(a seed must be < 2\^32\)/],
    ['startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', algorithm: 'ga' }, /algorithm: must be mcd or scd/],
    ['trainSupernet', { network: 'mobilenet-v1-32', batchSize: 1e6 }, /batchSize: must be a whole number from 2 to 1,024/],
    ['buildLatencyTable', { network: 'mobilenet-v1-32', deviceId: 'host', kernels: [4] }, /kernels\[0\]: kernel sizes are odd \(1, 3, 5, … 15\)/],
    ['buildLatencyTable', { network: 'mobilenet-v1-32', deviceId: 'host', runtime: { threads: 64 } }, /runtime\.threads: must be a whole number from 1 to 16/],
    ['listRuns', { limit: 0 }, /limit: must be a whole number from 1 to 1,000/],
  ])('%s %j', async (method, params, problem) => {
    expect(details(await refusal(method, params))).toMatch(problem);
  });

  it('a network that is not in the zoo lists the zoo', async () => {
    const error = await refusal('getArchitecture', { network: 'mobilenet-v9' });
    expect(error.code).toBe('not_found');
    expect(details(error)).toMatch(/unknown network "mobilenet-v9"[\s\S]*zoo networks: mobilenet-v1, /);
  });

  it('unknown runs are not found', async () => {
    const error = await refusal('exportResult', { runId: 'nope', format: 'json' });
    expect(error.code).toBe('not_found');
  });
});

describe('API jobs that cannot run say why', () => {
  it('a latency table for a device that is not attached', async () => {
    const message = await jobFailure('buildLatencyTable', { network: 'mobilenet-v1-32', deviceId: 'nonexistent-device' });
    expect(message).toMatch(/no device \(nonexistent-device\) is attached to the adb server at 127\.0\.0\.1:\d+.*run `netadapt device list` to see the attached devices/);
  });

  it('leaves the workspace as it was', async () => {
    await engine.listRuns({ limit: 10 });
    const before = workspaceHash(workspace);
    await refusal('startSearch', { network: 'mobilenet-v1-32', evaluator: 'synthetic', samplesPerIteration: 1e12 });
    expect(workspaceHash(workspace)).toBe(before);
  });
});
