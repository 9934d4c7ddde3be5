import { describe, expect, it } from 'vitest';
import { runJobInWorker } from '../../../app/api/worker-runner.ts';
import type { EngineEvent } from '../../../app/api/contract/types.ts';

const fixture = new URL('./fixtures/spin-job.ts', import.meta.url).href;

function context() {
  const controller = new AbortController();
  const events: EngineEvent[] = [];
  return { controller, events, ctx: { signal: controller.signal, emit: (e: EngineEvent) => events.push(e) } };
}

describe('runJobInWorker', () => {
  it('runs the job off this thread: timers here keep firing while the worker spins', async () => {
    const { ctx, events } = context();
    let ticks = 0;
    let worstGapMs = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      worstGapMs = Math.max(worstGapMs, now - last);
      last = now;
      ticks++;
    }, 10);
    const result = (await runJobInWorker({ job: 'spin', moduleUrl: fixture, params: { ms: 600 } }, ctx)) as { spunMs: number };
    clearInterval(timer);
    expect(result.spunMs).toBeGreaterThanOrEqual(600);
    expect(events.some((e) => e.kind === 'progress')).toBe(true);
    expect(ticks).toBeGreaterThan(20);
    // The worker's startup (tsx compiling) shares the CPU; the bound only rules out a blocked event loop.
    expect(worstGapMs).toBeLessThan(300);
  });

  it('cancels a job that checks its signal', async () => {
    const { ctx, controller } = context();
    const running = runJobInWorker({ job: 'spin', moduleUrl: fixture, params: { ms: 30_000 } }, ctx);
    setTimeout(() => controller.abort(new Error('stop please')), 300);
    const started = Date.now();
    await expect(running).rejects.toMatchObject({ name: 'CancelledError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('terminates a job that ignores cancellation after the grace period', async () => {
    const { ctx, controller } = context();
    const running = runJobInWorker({ job: 'spin', moduleUrl: fixture, params: { ms: 30_000, ignoreCancel: true } }, ctx, { cancelGraceMs: 200 });
    setTimeout(() => controller.abort('user'), 300);
    await expect(running).rejects.toThrow(/terminated/);
  });

  it('reports a worker that dies mid-job instead of waiting forever', async () => {
    const { ctx } = context();
    await expect(runJobInWorker({ job: 'crash', moduleUrl: fixture, params: {} }, ctx)).rejects.toThrow(/exit code 3/);
  });

  it('passes a UserError from the job through with its message and details', async () => {
    const { ctx } = context();
    await expect(runJobInWorker({ job: 'fail', moduleUrl: fixture, params: {} }, ctx)).rejects.toMatchObject({
      message: 'the job could not go on',
      details: ['detail one'],
      code: 'user_error',
    });
  });

  it('names a missing job', async () => {
    const { ctx } = context();
    await expect(runJobInWorker({ job: 'noSuchJob', params: {} }, ctx)).rejects.toThrow(/no worker job named "noSuchJob"/);
  });
});
