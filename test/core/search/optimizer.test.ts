import { describe, expect, it } from 'vitest';
import { fullSubnet, searchSpace, subnetKey } from '../../../core/arch/index.ts';
import type { SubnetConfig } from '../../../core/arch/index.ts';
import { MacsMetric } from '../../../core/metrics/index.ts';
import { TargetUnreachableError } from '../../../core/search/errors.ts';
import { SearchOptimizer } from '../../../core/search/optimizer.ts';
import { loadTrajectory } from '../../../core/search/result.ts';
import { SyntheticEvaluator } from '../../../core/search/synthetic-evaluator.ts';
import { iterationTarget } from '../../../core/search/targets.ts';
import type { EvalResult, FineTuner, SearchEvent } from '../../../core/search/types.ts';
import { memoryStore, mobilenet, params } from './helpers.ts';

function setup(seed = 3) {
  const spec = mobilenet();
  const store = memoryStore();
  const evaluator = new SyntheticEvaluator(spec, { seed, noise: 0.2 });
  const events: SearchEvent[] = [];
  const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator, store, onEvent: (e) => events.push(e) });
  return { spec, store, evaluator, events, optimizer };
}

describe('SearchOptimizer (MCD)', () => {
  it('evaluates up to the evaluator\'s concurrency at once, with the same run as one at a time', async () => {
    const sequential = setup();
    const one = await sequential.optimizer.start(params({ reduction: 0.1, samplesPerIteration: 7 }));
    const spec = mobilenet();
    const store = memoryStore();
    const inner = new SyntheticEvaluator(spec, { seed: 3, noise: 0.2 });
    let running = 0;
    let widest = 0;
    let tick = 0;
    const evaluator = {
      concurrency: 3,
      async evaluate(config: SubnetConfig): Promise<EvalResult> {
        running++;
        widest = Math.max(widest, running);
        // Finish out of order: later samples sometimes first.
        await new Promise((resolve) => setTimeout(resolve, (tick++ * 7) % 5));
        running--;
        return inner.evaluate(config);
      },
    };
    const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator, store });
    const three = await optimizer.start(params({ reduction: 0.1, samplesPerIteration: 7 }));
    expect(widest).toBe(3);
    expect(three.trajectory.map((t) => subnetKey(t.config))).toEqual(one.trajectory.map((t) => subnetKey(t.config)));
    const scores = (s: typeof store, runId: string) => s.getSamples(runId).map((x) => [x.iteration, x.index, x.score]);
    expect(scores(store, three.runId)).toEqual(scores(sequential.store, one.runId));
  });

  it('runs to the final target: targets follow the schedule, samples meet them, the best sample is kept', async () => {
    const { store, optimizer } = setup();
    const p = params({ reduction: 0.08, samplesPerIteration: 10 });
    const result = await optimizer.start(p);
    expect(result.status).toBe('done');
    expect(result.best.resource).toBeLessThanOrEqual(result.finalTarget);
    expect(result.finalTarget).toBe(result.initialResource * 0.5);
    const iterations = store.listIterations(result.runId).filter((it) => it.iteration >= 0);
    expect(iterations.length).toBe(result.iterations);
    let parentResource = result.initialResource;
    for (const it of iterations) {
      expect(it.parentResource).toBe(parentResource);
      expect(it.target).toBeCloseTo(iterationTarget(p, it.iteration, parentResource, result.initialResource, result.finalTarget), 6);
      const samples = store.getSamples(result.runId, it.iteration);
      expect(samples.length).toBe(it.sampleCount);
      expect(new Set(samples.map((s) => s.key)).size).toBe(samples.length);
      const scores = samples.map((s) => s.score as number);
      for (const s of samples) {
        expect(s.resource).toBeLessThanOrEqual(it.target);
        expect(s.score).not.toBeNull();
      }
      const best = samples.find((s) => s.index === it.bestIndex);
      expect(best?.score).toBe(Math.max(...scores));
      parentResource = best?.resource as number;
    }
    // Stop criterion: every iteration but the last ended above the final target.
    const trajectory = result.trajectory.filter((t) => t.iteration >= 0);
    for (const point of trajectory.slice(0, -1)) expect(point.resource).toBeGreaterThan(result.finalTarget);
    expect(trajectory.at(-1)?.resource).toBeLessThanOrEqual(result.finalTarget);
    expect(result.trajectory[0]?.iteration).toBe(-1);
    expect(result.trajectory[0]?.resource).toBe(result.initialResource);
    expect(result.samplesEvaluated).toBe(store.getSamples(result.runId).length);
    expect(store.getRun(result.runId)?.status).toBe('done');
  });

  it('emits iteration-start (with the target), one event per sample, iteration-best and done', async () => {
    const { events, optimizer } = setup();
    const result = await optimizer.start(params({ reduction: 0.12, target: { kind: 'fraction', value: 0.7 } }));
    const starts = events.filter((e) => e.type === 'iteration-start');
    const bests = events.filter((e) => e.type === 'iteration-best');
    const samples = events.filter((e) => e.type === 'sample');
    expect(starts.length).toBe(result.iterations);
    expect(bests.length).toBe(result.iterations + 1); // + the initial network
    expect(samples.length).toBe(result.samplesEvaluated);
    for (const start of starts) if (start.type === 'iteration-start') expect(start.target).toBeLessThan(start.parentResource);
    expect(events.at(-1)?.type).toBe('done');
  });

  it('an absolute target below the smallest sub-network is refused before a run is created', async () => {
    const { store, optimizer } = setup();
    await expect(optimizer.start(params({ target: { kind: 'absolute', value: 10 } }))).rejects.toThrow(TargetUnreachableError);
    await expect(optimizer.start(params({ target: { kind: 'absolute', value: 10 } }))).rejects.toThrow(/unreachable: even the smallest sub-network/);
    expect(store.listRuns()).toEqual([]);
  });

  it('a target unreachable from the previous best ends the run with status "unreachable" and a clear message', async () => {
    const { store, optimizer } = setup();
    const result = await optimizer.start(params({ layersPerSample: 1, reduction: 0.4, maxAttempts: 3, samplesPerIteration: 5 }));
    expect(result.status).toBe('unreachable');
    expect(result.message).toMatch(/iteration 0: target unreachable from here/);
    expect(store.getRun(result.runId)?.status).toBe('unreachable');
    expect(result.best.iteration).toBe(-1);
  });

  it('stops at the budget; resuming with a larger budget gives the uninterrupted result', async () => {
    const p = params({ reduction: 0.1, samplesPerIteration: 8 });
    const whole = await setup().optimizer.start(p);
    const { optimizer, store, evaluator } = setup();
    const partial = await optimizer.start({ ...p, budget: { maxIterations: 2 } });
    expect(partial.status).toBe('budget');
    expect(partial.iterations).toBe(2);
    const callsBefore = evaluator.calls;
    const resumed = await optimizer.resume(partial.runId, { budget: {} });
    expect(resumed.status).toBe('done');
    expect(subnetKey(resumed.best.config)).toBe(subnetKey(whole.best.config));
    expect(resumed.trajectory.map((t) => [t.resource, t.score])).toEqual(whole.trajectory.map((t) => [t.resource, t.score]));
    expect(evaluator.calls - callsBefore).toBe(whole.samplesEvaluated - partial.samplesEvaluated);
    expect(store.getRun(partial.runId)?.params.budget).toEqual({});
  });

  it('maxSamples stops before the iteration that would start past the budget', async () => {
    const { optimizer } = setup();
    const result = await optimizer.start(params({ reduction: 0.05, samplesPerIteration: 8, budget: { maxSamples: 10 } }));
    expect(result.status).toBe('budget');
    expect(result.samplesEvaluated).toBeGreaterThanOrEqual(10);
    expect(result.samplesEvaluated).toBeLessThan(10 + 8 + 1);
  });

  it('an aborted run stops between evaluations as "interrupted" and resumes to the same result', async () => {
    const p = params({ reduction: 0.12, samplesPerIteration: 6 });
    const whole = await setup().optimizer.start(p);
    const { spec, store, evaluator } = setup();
    const controller = new AbortController();
    let seen = 0;
    const optimizer = new SearchOptimizer({
      spec,
      metric: new MacsMetric(spec),
      evaluator,
      store,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'sample' && ++seen === 9) controller.abort();
      },
    });
    const stopped = await optimizer.start(p);
    expect(stopped.status).toBe('interrupted');
    expect(store.getRun(stopped.runId)?.status).toBe('interrupted');
    const again = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator, store });
    const resumed = await again.resume(stopped.runId);
    expect(resumed.trajectory).toEqual(whole.trajectory.map((t) => ({ ...t })));
  });
});

describe('SearchOptimizer (SCD)', () => {
  it('reaches the target with one changed layer per sample', async () => {
    const { store, optimizer } = setup();
    const result = await optimizer.start(params({ algorithm: 'scd', reduction: 0.04, target: { kind: 'fraction', value: 0.8 } }));
    expect(result.status).toBe('done');
    const samples = store.getSamples(result.runId).filter((s) => s.iteration >= 0);
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) expect(s.changed.length).toBe(1);
  });
});

describe('NetAdaptV1 mode (fine-tuning instead of a super-network)', () => {
  it('fine-tunes every sample from the previous best for the configured steps and adopts the parent first', async () => {
    const spec = mobilenet();
    const store = memoryStore();
    const scorer = new SyntheticEvaluator(spec, { seed: 1 });
    const calls: { from: string; to: string; steps: number }[] = [];
    const adopted: { key: string; iteration: number }[] = [];
    const fineTuner: FineTuner = {
      async fineTune(from: SubnetConfig, to: SubnetConfig, steps: number): Promise<EvalResult> {
        calls.push({ from: subnetKey(from), to: subnetKey(to), steps });
        return scorer.evaluate(to);
      },
      async adopt(config: SubnetConfig, iteration: number) {
        adopted.push({ key: subnetKey(config), iteration });
      },
    };
    const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), fineTuner, store });
    const result = await optimizer.start(params({ reduction: 0.15, samplesPerIteration: 4, fineTuneSteps: 25, target: { kind: 'fraction', value: 0.6 } }));
    expect(result.status).toBe('done');
    const trajectory = loadTrajectory(store, result.runId);
    const full = subnetKey(fullSubnet(searchSpace(spec)));
    expect(calls[0]).toEqual({ from: full, to: full, steps: 0 });
    for (const point of trajectory.slice(1)) {
      const parentKey = subnetKey((trajectory.find((t) => t.iteration === point.iteration - 1) ?? trajectory[0])?.config as SubnetConfig);
      const ofIteration = store.getSamples(result.runId, point.iteration).map((s) => s.key);
      const made = calls.filter((c) => ofIteration.includes(c.to));
      expect(made.length).toBe(ofIteration.length);
      for (const call of made) expect(call).toMatchObject({ from: parentKey, steps: 25 });
      expect(adopted).toContainEqual({ key: parentKey, iteration: point.iteration - 1 });
    }
  });
});
