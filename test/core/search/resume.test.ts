import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MacsMetric } from '../../../core/metrics/index.ts';
import { SearchOptimizer } from '../../../core/search/optimizer.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import { SyntheticEvaluator } from '../../../core/search/synthetic-evaluator.ts';
import type { EvalResult, RunStore, SearchParams } from '../../../core/search/types.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import type { SubnetConfig } from '../../../core/arch/index.ts';
import { memoryStore, mobilenet, params } from './helpers.ts';

const P: SearchParams = params({ reduction: 0.1, samplesPerIteration: 8, seed: 21 });

/** Everything a run produced that must not depend on interruptions (times excluded). */
function snapshot(store: RunStore, runId: string) {
  return store.getSamples(runId).map((s) => [s.iteration, s.index, s.key, s.resource, s.score, s.changed.join(',')]);
}

async function uninterrupted(evaluatorSeed: number) {
  const spec = mobilenet();
  const store = memoryStore();
  const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: new SyntheticEvaluator(spec, { seed: evaluatorSeed, noise: 0.2 }), store });
  const result = await optimizer.start(P);
  return { result, samples: snapshot(store, result.runId) };
}

class CrashingEvaluator extends SyntheticEvaluator {
  constructor(
    spec: ReturnType<typeof mobilenet>,
    private readonly crashAfter: number,
  ) {
    super(spec, { seed: 5, noise: 0.2 });
  }

  override async evaluate(config: SubnetConfig): Promise<EvalResult> {
    if (this.calls >= this.crashAfter) throw new Error('simulated crash (out of memory)');
    return super.evaluate(config);
  }
}

describe('resuming a run', () => {
  it('after the evaluator crashed: a new optimizer on the same store reuses every stored sample and ends identical', async () => {
    const reference = await uninterrupted(5);
    const spec = mobilenet();
    const store = memoryStore();
    const crashing = new CrashingEvaluator(spec, 13);
    const first = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: crashing, store });
    await expect(first.start(P)).rejects.toThrow(/simulated crash/);
    const [run] = store.listRuns();
    expect(run?.status).toBe('failed');
    expect(run?.message).toMatch(/resume with `netadapt search --resume/);
    expect(store.getSamples(run?.id as string).filter((s) => s.score !== null).length).toBe(13);

    const fresh = new SyntheticEvaluator(spec, { seed: 5, noise: 0.2 });
    const reused: number[] = [];
    const second = new SearchOptimizer({
      spec,
      metric: new MacsMetric(spec),
      evaluator: fresh,
      store,
      onEvent: (e) => {
        if (e.type === 'sample' && e.reused) reused.push(e.index);
      },
    });
    const finishedBefore = store.listIterations(run?.id as string).filter((it) => it.status === 'done');
    const evaluatedInFinished = finishedBefore.reduce((n, it) => n + it.sampleCount, 0);
    const result = await second.resume(run?.id as string);
    expect(result.status).toBe('done');
    expect(reused.length).toBe(13 - evaluatedInFinished);
    expect(fresh.calls).toBe(reference.result.samplesEvaluated - 13);
    expect(snapshot(store, result.runId)).toEqual(reference.samples);
    expect(result.trajectory).toEqual(reference.result.trajectory);
  });

  it('after kill -9 of the searching process: nothing evaluated is lost or recomputed, and the result is identical', async () => {
    const reference = await uninterrupted(5);
    const dir = mkdtempSync(join(tmpdir(), 'search-kill-'));
    const file = join(dir, 'ws.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/core/search/fixtures/search-child.ts', file, '15', JSON.stringify(P)], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

    const deadline = Date.now() + 60_000;
    let runId: string | undefined;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`the child never got going: ${stdout} ${stderr}`);
      runId ??= /RUN (\S+)/.exec(stdout)?.[1];
      if (runId) {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        const done = Number(db.prepare('SELECT count(*) FROM search_samples WHERE score IS NOT NULL').pluck().get());
        db.close();
        if (done >= 20) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(stdout).not.toContain('FINISHED');

    const spec = mobilenet();
    const store = new SqliteRunStore(openWorkspace(file));
    expect(store.getRun(runId as string)?.status).toBe('running');
    const kept = store.getSamples(runId as string).filter((s) => s.score !== null).length;
    expect(kept).toBeGreaterThanOrEqual(20);
    expect(kept).toBeLessThan(reference.result.samplesEvaluated);
    const fresh = new SyntheticEvaluator(spec, { seed: 5, noise: 0.2 });
    const result = await new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: fresh, store }).resume(runId as string);
    expect(result.status).toBe('done');
    expect(fresh.calls).toBe(reference.result.samplesEvaluated - kept);
    expect(snapshot(store, runId as string)).toEqual(reference.samples);
    expect(result.trajectory).toEqual(reference.result.trajectory);
    expect(store.workspace.integrityCheck()).toEqual([]);
    store.workspace.close();
  });

  it('refuses to resume a run another live process is searching', async () => {
    const spec = mobilenet();
    const store = memoryStore();
    const crashing = new CrashingEvaluator(spec, 2);
    await expect(new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: crashing, store }).start(P)).rejects.toThrow();
    const [run] = store.listRuns();
    const { hostname } = await import('node:os');
    store.setRunStatus(run?.id as string, 'running');
    store.setRunOwner(run?.id as string, { pid: process.ppid, host: hostname() });
    const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: new SyntheticEvaluator(spec), store });
    await expect(optimizer.resume(run?.id as string)).rejects.toThrow(/is being searched by process/);
  });
});
