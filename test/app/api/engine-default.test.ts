import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createDefaultEngine } from '../../../app/api/engine-default.ts';
import { createApiServer } from '../../../app/api/server.ts';
import type { ErrorMessage, EventMessage, ResultMessage, ServerMessage } from '../../../app/api/contract/protocol.ts';
import type {
  ArchitectureView,
  CheckpointCheck,
  CheckpointInfo,
  RunSummary,
  DeviceListing,
  ExportResult,
  JobEvent,
  LatencyCoverage,
  LatencyTableBuild,
  LatencyValidationSummary,
  NetworkSummary,
  ProgressEvent,
  SearchSpaceSampling,
} from '../../../app/api/contract/types.ts';
import { readTfliteModel } from '../../../core/export/tflite/reader.ts';
import { loadNetwork, resolveNetwork, searchSpace, zooNames } from '../../../core/arch/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'netadapt-api-'));
/** A port nobody listens on (taken and released at once). */
const unusedPort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  });
});
// No adb server on that port and no adb binary to start one: device listing must degrade, not fail.
const engine = createDefaultEngine({
  workspacePath: join(dir, 'ws.sqlite'),
  adbPort: unusedPort,
  adbBin: join(dir, 'no-adb-here'),
  exportDir: join(dir, 'exports'),
});
const server = createApiServer(engine);
afterAll(async () => {
  await server.close();
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const TINY_TABLE = { network: 'mobilenet-v2-32', deviceId: 'host', runs: 2, warmupRuns: 0 };

/** Runs a job to its end (optionally cancelling it once `cancelWhen` holds) and returns its events. */
async function runJob(method: string, params: unknown, cancelWhen?: (events: JobEvent[]) => boolean): Promise<JobEvent[]> {
  const received: ServerMessage[] = [];
  const connection = server.connect((m) => received.push(m));
  await connection.receive({ id: 1, method, params });
  const started = received[0] as ResultMessage | ErrorMessage;
  if ('error' in started) throw new Error(`${started.error.code}: ${started.error.message}`);
  const { jobId } = started.result as { jobId: string };
  const events = () => received.filter((m): m is EventMessage => 'type' in m && m.jobId === jobId).map((m) => m.event);
  let cancelled = false;
  const end = Date.now() + 80_000;
  while (!events().some((e) => e.kind === 'done' || e.kind === 'failed' || e.kind === 'cancelled')) {
    if (Date.now() > end) throw new Error(`${method} did not finish`);
    if (cancelWhen && !cancelled && cancelWhen(events())) {
      cancelled = true;
      await server.handle({ id: 2, method: 'cancelJob', params: { jobId } });
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  connection.close();
  const all = events();
  const failed = all.find((e) => e.kind === 'failed');
  if (failed) throw new Error(`${method} failed: ${JSON.stringify(failed)}`);
  return all;
}

async function call<T>(method: string, params?: unknown): Promise<T> {
  const response = await server.handle({ id: 1, method, params });
  if ('error' in response) throw new Error(`${response.error.code}: ${response.error.message}`);
  return (response as ResultMessage).result as T;
}

describe('default engine', () => {
  it('lists every zoo network with MACs and params from core/arch', async () => {
    const networks = await call<NetworkSummary[]>('listNetworks');
    expect(networks.map((n) => n.name)).toEqual(zooNames());
    const v1 = networks.find((n) => n.name === 'mobilenet-v1');
    expect(v1?.macs).toBe(resolveNetwork(loadNetwork('mobilenet-v1')).macs);
    expect(v1?.macs).toBeGreaterThan(500e6);
  });

  it('returns the architecture table of a sub-network with removed layers marked', async () => {
    const spec = loadNetwork('mobilenet-v2-32');
    const space = searchSpace(spec);
    const removable = space.layers.find((l) => l.minLevel === 0 && l.op === 'conv');
    expect(removable).toBeDefined();
    const full = await call<ArchitectureView>('getArchitecture', { network: 'mobilenet-v2-32' });
    const sub = await call<ArchitectureView>('getArchitecture', {
      network: 'mobilenet-v2-32',
      subnet: { layers: { [removable!.id]: { level: 0 } } },
    });
    expect(full.rows.some((r) => r.removed)).toBe(false);
    expect(sub.macs).toBeLessThan(full.macs);
    expect(sub.fullMacs).toBe(full.macs);
    expect(sub.subnet.layers[removable!.id]?.level).toBe(0);
  });

  it('rejects a sub-network that does not fit, listing the problem', async () => {
    const response = (await server.handle({
      id: 1,
      method: 'getArchitecture',
      params: { network: 'mobilenet-v1-32', subnet: { layers: { nope: { level: 1 } } } },
    })) as ErrorMessage;
    expect(response.error.code).toBe('invalid_request');
    expect(response.error.details.join('\n')).toContain('"nope"');
  });

  it('refuses network names that are not in the zoo (no file paths over the API)', async () => {
    const response = (await server.handle({ id: 1, method: 'getArchitecture', params: { network: '/etc/passwd.json' } })) as ErrorMessage;
    expect(response.error.code).toBe('not_found');
  });

  it('lists this computer even when adb is not reachable, and says why adb is missing', async () => {
    const listing = await call<DeviceListing>('listDevices');
    expect(listing.devices[0]).toMatchObject({ id: 'host', kind: 'host', state: 'ready' });
    expect(listing.adb.available).toBe(false);
    expect(listing.adb.message.length).toBeGreaterThan(0);
  });

  it('reports latency coverage (empty workspace: no rows)', async () => {
    expect(await call('latencyCoverage', { network: 'mobilenet-v1-32' })).toEqual({ network: 'mobilenet-v1-32', rows: [] });
  });

  it('lists no runs in a new workspace and answers not_found for an unknown run', async () => {
    expect(await call('listRuns', {})).toEqual([]);
    const response = (await server.handle({ id: 1, method: 'getRun', params: { runId: 'x' } })) as ErrorMessage;
    expect(response.error.code).toBe('not_found');
  });

  it('samples the search space in a worker thread, streaming progress', async () => {
    const received: ServerMessage[] = [];
    const connection = server.connect((m) => received.push(m));
    await connection.receive({ id: 9, method: 'sampleSearchSpace', params: { network: 'mobilenet-v1-32', samples: 300, seed: 3 } });
    const { jobId } = (received[0] as ResultMessage).result as { jobId: string };
    const end = Date.now() + 60_000;
    while (!received.some((m) => 'type' in m && (m.event.kind === 'done' || m.event.kind === 'failed'))) {
      if (Date.now() > end) throw new Error('sampling did not finish');
      await new Promise((r) => setTimeout(r, 20));
    }
    connection.close();
    const events = received.filter((m): m is EventMessage => 'type' in m && m.jobId === jobId).map((m) => m.event);
    const done = events.at(-1);
    expect(done?.kind).toBe('done');
    const result = (done as { result: SearchSpaceSampling }).result;
    const full = resolveNetwork(loadNetwork('mobilenet-v1-32'));
    expect(result.points).toHaveLength(300);
    expect(result.fullMacs).toBe(full.macs);
    expect(result.maxMacs).toBeLessThanOrEqual(full.macs);
    expect(result.minMacs).toBeLessThan(result.maxMacs);
    const last = events.filter((e) => e.kind === 'progress').at(-1);
    expect(last).toMatchObject({ done: 300, total: 300 });
  });

  it('builds a tiny latency table on the host in a worker: progress, cancel, resume, then nothing left to measure', async () => {
    const spec = loadNetwork('mobilenet-v2-32');
    // Full width and 3x3 kernels only: a few dozen entries, measured with 2 runs each.
    const params = { ...TINY_TABLE, levels: [spec.widthLevels - 1], kernels: [3] };
    const first = await runJob('buildLatencyTable', params, (events) => events.some((e) => e.kind === 'progress' && e.done > 0));
    expect(first.at(-1)?.kind).toBe('cancelled');
    const firstDone = first.filter((e): e is ProgressEvent => e.kind === 'progress').at(-1)!;
    expect(firstDone.done).toBeLessThan(firstDone.total); // it stopped early
    const firstProgress = first.filter((e): e is ProgressEvent => e.kind === 'progress');
    const total = firstProgress[0]!.total;
    expect(total).toBeGreaterThan(10);
    expect(firstProgress.every((e) => e.total === total && e.done <= total)).toBe(true);

    const second = await runJob('buildLatencyTable', params);
    const done = second.at(-1) as { kind: string; result: LatencyTableBuild };
    expect(done.kind).toBe('done');
    const build = done.result.build!;
    expect(build.total).toBe(total);
    expect(build.alreadyPresent).toBeGreaterThan(0); // the cancelled run's entries were kept
    expect(build.alreadyPresent + build.measured).toBe(total);
    expect(build.failed).toBe(0);
    const progress = second.filter((e): e is ProgressEvent => e.kind === 'progress');
    expect(progress.at(-1)).toMatchObject({ done: total, total });
    expect(progress.some((e) => typeof e.etaSeconds === 'number')).toBe(true);
    expect(done.result.rows.find((r) => r.deviceId === build.deviceId)?.runtimeOptions).toBe(build.runtimeOptions);

    const third = await runJob('buildLatencyTable', params);
    expect((third.at(-1) as { result: LatencyTableBuild }).result.build).toMatchObject({ total, alreadyPresent: total, measured: 0 });
  }, 90_000);

  it('validates the host table: predicted vs measured pairs, one validation-point event each', async () => {
    const events = await runJob('validateLatencyTable', { network: 'mobilenet-v2-32', deviceId: 'host', samples: 4, seed: 2, runs: TINY_TABLE.runs, warmupRuns: 0 });
    const done = events.at(-1) as { kind: string; result: LatencyValidationSummary };
    expect(done.kind).toBe('done');
    const pairs = done.result.pairs!;
    expect(pairs).toHaveLength(4);
    expect(done.result.points).toBe(4);
    for (const pair of pairs) {
      // predicted = table sum + fitted overhead; the fit on 2 noisy host runs can make it negative, so only finite.
      expect(Number.isFinite(pair.predictedUs)).toBe(true);
      expect(pair.measuredUs).toBeGreaterThan(0);
      expect(pair.relativeError).toBeCloseTo(Math.abs(pair.predictedUs - pair.measuredUs) / pair.measuredUs, 6);
    }
    expect(pairs.filter((p) => p.calibration)).toHaveLength(2);
    expect(Number.isFinite(done.result.meanAbsErrorPercent)).toBe(true);
    const points = events.filter((e) => e.kind === 'validation-point');
    expect(points.map((p) => (p as { measuredUs: number }).measuredUs)).toEqual(pairs.map((p) => p.measuredUs));
  }, 90_000);

  it('runs a latency-guided search in the worker: the profiler providers measure missing layers on the host', async () => {
    const events = await runJob('startSearch', {
      network: 'mobilenet-v2-32',
      evaluator: 'synthetic',
      metric: 'latency',
      deviceId: 'host',
      lazyProfiling: true,
      target: '90%',
      samplesPerIteration: 2,
      layersPerSample: 1,
      maxIterations: 1,
      finalTraining: { mode: 'none' },
    });
    const done = events.at(-1) as { kind: string; result: { metric: string; unit: string; initialResource: number; bestResource: number } };
    expect(done).toMatchObject({ kind: 'done', result: { metric: 'latency', unit: 'ms' } });
    expect(done.result.initialResource).toBeGreaterThan(0);
    expect(done.result.bestResource).toBeLessThan(done.result.initialResource);
    // The lazily measured entries are in the workspace's latency tables.
    const coverage = await call<LatencyCoverage>('latencyCoverage', { network: 'mobilenet-v2-32' });
    expect(coverage.rows.some((r) => r.runtimeOptions.includes('runs=30') && r.present > 0)).toBe(true);
  }, 90_000);

  it('a supernet search without a checkpoint is refused with a message naming the field', async () => {
    const response = (await server.handle({ id: 1, method: 'startSearch', params: { network: 'mobilenet-v1-32' } })) as ErrorMessage;
    expect(response.error.message).toContain('params.checkpoint');
  });

  it('runs a small search in a worker (synthetic evaluator), then lists, opens and exports it', async () => {
    const received: ServerMessage[] = [];
    const connection = server.connect((m) => received.push(m));
    await connection.receive({
      id: 1,
      method: 'startSearch',
      params: { network: 'mobilenet-v1-32', evaluator: 'synthetic', metric: 'macs', target: '90%', samplesPerIteration: 4, layersPerSample: 2, maxIterations: 3, finalTraining: { mode: 'none' } },
    });
    const { jobId } = (received[0] as ResultMessage).result as { jobId: string };
    const end = Date.now() + 90_000;
    const ended = () => received.find((m): m is EventMessage => 'type' in m && m.jobId === jobId && ['done', 'failed'].includes(m.event.kind));
    while (!ended()) {
      if (Date.now() > end) throw new Error('search did not finish');
      await new Promise((r) => setTimeout(r, 50));
    }
    connection.close();
    const done = ended()!.event;
    expect(done).toMatchObject({ kind: 'done', result: { kind: 'search', network: 'mobilenet-v1-32', metric: 'macs' } });
    const runId = (done as { result: { runId: string } }).result.runId;
    const events = received.filter((m): m is EventMessage => 'type' in m && m.jobId === jobId).map((m) => m.event);
    expect(events.find((e) => e.kind === 'run-created')).toEqual({ kind: 'run-created', runId });
    const iterations = events.filter((e) => e.kind === 'search-iteration');
    expect(iterations.length).toBeGreaterThan(0);
    expect(events.filter((e) => e.kind === 'search-sample').length).toBeGreaterThanOrEqual(4);

    const runs = await call<RunSummary[]>('listRuns', {});
    expect(runs.map((r) => r.runId)).toContain(runId);
    // A dry run's score is marked as such (History never puts it on an accuracy axis).
    expect(runs.find((r) => r.runId === runId)).toMatchObject({ kind: 'search', scoreKind: 'synthetic', status: 'done' });
    const details = await call<{ trajectory: { bestResource: number }[]; architecture?: ArchitectureView; initialResource: number }>('getRun', { runId });
    expect(details.trajectory.length).toBeGreaterThan(1);
    expect(details.architecture?.macs).toBe(details.trajectory.at(-1)?.bestResource);
    expect(details.architecture!.macs).toBeLessThan(details.initialResource);

    const json = await call<{ path: string; bytes: number }>('exportResult', { runId, format: 'json' });
    const exported = JSON.parse(readFileSync(json.path, 'utf8')) as { network: string; layers: Record<string, unknown> };
    expect(exported.network).toBe('mobilenet-v1-32');
    expect(Object.keys(exported.layers).length).toBeGreaterThan(10);
    // The one report renderer (core/search/report.ts): HTML with the scatter plot, registered for download.
    const report = await call<ExportResult>('exportResult', { runId, format: 'report' });
    const html = readFileSync(report.path, 'utf8');
    expect(html).toContain(`<title>Search ${runId}`);
    expect(html).toContain('<svg');
    const download = await call<{ path: string; fileName: string; contentType: string }>('downloadInfo', { downloadId: report.downloadId });
    expect(download).toMatchObject({ path: report.path, fileName: report.fileName, contentType: 'text/html; charset=utf-8' });

    // No checkpoint (synthetic evaluator): a .tflite with random weights, and the answer says so.
    const tflite = await call<ExportResult>('exportResult', { runId, format: 'tflite' });
    expect(tflite.weights).toBe('random');
    expect(tflite.note).toContain('random weights');
    const bytes = readFileSync(tflite.path);
    expect(bytes.byteLength).toBe(tflite.bytes);
    const model = readTfliteModel(bytes, tflite.path);
    const graph = model.subgraphs[0]!;
    expect(graph.tensors[graph.inputs[0]!]!.shape).toEqual([1, 32, 32, 3]);
    expect(graph.operators.filter((op) => op.opcode === 'CONV_2D' || op.opcode === 'DEPTHWISE_CONV_2D').length).toBeGreaterThan(5);

    // int8: without trained weights the ranges are nominal (a model for latency measurement), and the tensors int8.
    const int8 = await call<ExportResult>('exportResult', { runId, format: 'tflite-int8' });
    expect(int8.format).toBe('tflite-int8');
    expect(int8.note).toContain('int8 with nominal ranges');
    const int8Graph = readTfliteModel(readFileSync(int8.path), int8.path).subgraphs[0]!;
    expect(int8Graph.tensors.filter((t) => t.name.endsWith('/weights')).every((t) => t.type === 'int8')).toBe(true);
  });

  it('trains a super-network in a worker; cancelling saves a checkpoint, listed as paused, refused for another network', async () => {
    const received: ServerMessage[] = [];
    const connection = server.connect((m) => received.push(m));
    const dataset = { kind: 'synthetic', trainImages: 256, heldoutImages: 16, testImages: 16 };
    await connection.receive({ id: 1, method: 'trainSupernet', params: { network: 'mobilenet-v3-demo-32', dataset, epochs: 2, fullNetworkEpochs: 1, batchSize: 8 } });
    const { jobId } = (received[0] as ResultMessage).result as { jobId: string };
    const of = () => received.filter((m): m is EventMessage => 'type' in m && m.jobId === jobId).map((m) => m.event);
    const end = Date.now() + 90_000;
    while (!of().some((e) => e.kind === 'train-step' || e.kind === 'failed')) {
      if (Date.now() > end) throw new Error('no training step');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(of().find((e) => e.kind === 'failed')).toBeUndefined();
    const step = of().find((e) => e.kind === 'train-step') as { loss: number; imagesPerSecond: number; stepsPerEpoch: number };
    expect(step.loss).toBeGreaterThan(0);
    expect(step.imagesPerSecond).toBeGreaterThan(0);
    expect(step.stepsPerEpoch).toBe(32);
    await server.handle({ id: 2, method: 'cancelJob', params: { jobId } });
    while (!of().some((e) => e.kind === 'cancelled')) {
      if (Date.now() > end) throw new Error('not cancelled');
      await new Promise((r) => setTimeout(r, 50));
    }
    connection.close();
    expect(of().some((e) => e.kind === 'log' && e.message.includes('checkpoint saved'))).toBe(true);
    const [checkpoint] = await call<CheckpointInfo[]>('listCheckpoints', {});
    expect(checkpoint).toMatchObject({ network: 'mobilenet-v3-demo-32', status: 'paused', epochs: 2, dataset });
    expect(checkpoint!.path.startsWith(join(dir, 'checkpoints'))).toBe(true);
    expect(readFileSync(join(checkpoint!.path, 'manifest.json'), 'utf8')).toContain('netadapt-supernet-checkpoint');
    const runs = await call<RunSummary[]>('listRuns', { kind: 'train' });
    expect(runs).toEqual([expect.objectContaining({ runId: checkpoint!.id, kind: 'train', status: 'paused', scoreKind: 'accuracy' })]);
    // Picked for a search: fine for its network (with a warning: training not finished), refused for another.
    const fine = await call<CheckpointCheck>('checkCheckpoint', { checkpoint: checkpoint!.id, network: 'mobilenet-v3-demo-32' });
    expect(fine.ok).toBe(true);
    expect(fine.warnings.join()).toMatch(/stopped after 0 of 2 epochs/);
    const wrong = await call<CheckpointCheck>('checkCheckpoint', { checkpoint: checkpoint!.id, network: 'mobilenet-v2-32' });
    expect(wrong).toMatchObject({ ok: false, problems: ['it is a super-network of mobilenet-v3-demo-32, not of mobilenet-v2-32'] });
    // Training it again with other epochs continues the same checkpoint (its recipe kept), it does not fail.
    const again: ServerMessage[] = [];
    const second = server.connect((m) => again.push(m));
    await second.receive({ id: 3, method: 'trainSupernet', params: { network: 'mobilenet-v3-demo-32', dataset, epochs: 3, fullNetworkEpochs: 1, batchSize: 8 } });
    const resumedJob = ((again[0] as ResultMessage).result as { jobId: string }).jobId;
    const resumedEvents = () => again.filter((m): m is EventMessage => 'type' in m && m.jobId === resumedJob).map((m) => m.event);
    while (!resumedEvents().some((e) => e.kind === 'train-step' || e.kind === 'failed')) {
      if (Date.now() > end + 60_000) throw new Error('no training step after resuming');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(resumedEvents().find((e) => e.kind === 'failed')).toBeUndefined();
    await server.handle({ id: 4, method: 'cancelJob', params: { jobId: resumedJob } });
    while (!resumedEvents().some((e) => e.kind === 'cancelled' || e.kind === 'done' || e.kind === 'failed')) await new Promise((r) => setTimeout(r, 50));
    second.close();
    expect(await call<CheckpointInfo[]>('listCheckpoints', {})).toEqual([expect.objectContaining({ id: checkpoint!.id, epochs: 3 })]);
  }, 180_000);

  it('refuses a batch that does not fit in memory before training, naming the largest that does', async () => {
    const response = await server.handle({ id: 1, method: 'trainSupernet', params: { network: 'mobilenet-v1-32', batchSize: 1024 } });
    const { jobId } = (response as ResultMessage).result as { jobId: string };
    let info: { status: string; error?: { message: string; details: string[] } } | undefined;
    const end = Date.now() + 20_000;
    while (info?.status !== 'failed' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      info = (await call<{ jobId: string; status: string; error?: { message: string; details: string[] } }[]>('listJobs', {})).find((j) => j.jobId === jobId);
    }
    expect(info?.error?.message).toMatch(/a batch of 1024 images does not fit in memory for mobilenet-v1-32: it needs about \d+\.\d GB/);
    expect(info?.error?.details.join()).toMatch(/the largest batch that fits is \d+ images/);
  });

  it('exportResult of an unknown run is not_found and writes nothing', async () => {
    const response = (await server.handle({ id: 1, method: 'exportResult', params: { runId: 'none', format: 'json' } })) as ErrorMessage;
    expect(response.error.code).toBe('not_found');
  });
});
