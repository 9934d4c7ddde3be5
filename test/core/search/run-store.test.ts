import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteRunStore, newRunId } from '../../../core/search/run-store.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { params } from './helpers.ts';

const config = { levels: [2, 1], kernels: [3, 1] };

describe('SqliteRunStore', () => {
  it('creates its tables through the workspace migrations and round-trips runs, iterations and samples', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'runs-')), 'ws.sqlite');
    const workspace = openWorkspace(file);
    const store = new SqliteRunStore(workspace);
    expect(workspace.appliedMigrations().map((m) => m.id)).toContain('search-001');
    const run = store.createRun({ network: 'tiny', metric: 'macs', metricUnit: 'MACs', params: params(), config: { hello: 1 } });
    store.setRunStart(run.id, 1000, 500);
    store.planIteration(run.id, { iteration: 0, target: 900, parentResource: 1000 }, [
      { index: 0, config, resource: 880.5, changed: [0] },
      { index: 1, config: { levels: [1, 1], kernels: [3, 1] }, resource: 700, changed: [0, 1] },
    ]);
    store.recordEvaluation(run.id, 0, 1, { score: 0.1 + 0.2, metrics: { top1: 0.5 }, evalMs: 12 });
    expect(() => store.recordEvaluation(run.id, 0, 1, { score: 1, metrics: null, evalMs: 1 })).toThrow(/not waiting for a score/);
    store.finishIteration(run.id, 0, 1);
    workspace.close();

    const reopened = new SqliteRunStore(openWorkspace(file));
    const loaded = reopened.getRun(run.id);
    expect(loaded).toMatchObject({ network: 'tiny', initialResource: 1000, finalTarget: 500, iterations: 1, samplesEvaluated: 1, bestScore: 0.1 + 0.2, bestResource: 700, config: { hello: 1 } });
    expect(loaded?.params).toEqual(params());
    const samples = reopened.getSamples(run.id, 0);
    expect(samples.map((s) => [s.index, s.resource, s.score, s.changed])).toEqual([
      [0, 880.5, null, [0]],
      [1, 700, 0.1 + 0.2, [0, 1]],
    ]);
    expect(samples[0]?.config).toEqual(config);
    expect(samples[1]?.metrics).toEqual({ top1: 0.5 });
    expect(reopened.getIteration(run.id, 0)).toMatchObject({ status: 'done', bestIndex: 1, sampleCount: 2, target: 900 });
    expect(reopened.listRuns().map((r) => r.id)).toEqual([run.id]);
  });

  it('run ids sort by creation time', () => {
    const a = newRunId(new Date('2025-01-02T03:04:05Z'));
    const b = newRunId(new Date('2025-01-02T03:04:06Z'));
    expect(a < b).toBe(true);
    expect(a).toMatch(/^20250102-030405-[0-9a-f]{4}$/);
  });
});
