/**
 * The step loop every training runs: one step at a time from `startStep` to `totalSteps`, the loss checked, progress
 * (images/s over the last 20 steps, ETA), a checkpoint whenever the training asks for one, and a clean stop when the
 * signal aborts (Ctrl-C, a cancelled job) — the caller then saves its state and can resume exactly.
 */
import { UserError } from '../../errors.ts';

export interface LoopProgress {
  /** Steps done (the step just finished + 1). */
  step: number;
  totalSteps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
}

export interface TrainingLoopOptions {
  startStep: number;
  totalSteps: number;
  imagesPerStep: number;
  /** Runs global step `step`; returns its loss. */
  runStep(step: number): number | Promise<number>;
  signal?: AbortSignal;
  /** Stop (as if aborted) once this many steps are done. */
  stopAfterStep?: number;
  /** After `done` steps: a reason to checkpoint now, or undefined. */
  checkpointDue?(done: number): string | undefined;
  checkpoint?(reason: string, done: number): void;
  onStep?(progress: LoopProgress): void;
  /** Awaited after each step (and its checkpoint): e.g. an evaluation at the end of an epoch. */
  afterStep?(done: number): Promise<void> | void;
  /** What the user should change when the loss diverges. */
  divergenceHint?: string;
}

export interface LoopResult {
  /** Steps done in total. */
  step: number;
  interrupted: boolean;
  /** Images/s of the last steps (0 when none ran). */
  imagesPerSec: number;
}

export function trainingDiverged(step: number, loss: number, hint = 'lower the learning rate'): UserError {
  return new UserError(`training diverged at step ${step} (loss ${loss}); ${hint}`);
}

export async function runTrainingLoop(opts: TrainingLoopOptions): Promise<LoopResult> {
  const times: number[] = [];
  const rate = (done: number) => {
    const recent = times.slice(-20);
    const mean = recent.reduce((a, b) => a + b, 0) / Math.max(recent.length, 1);
    return { imagesPerSec: mean > 0 ? opts.imagesPerStep / mean : 0, etaSec: mean * (opts.totalSteps - done) };
  };
  let step = opts.startStep;
  while (step < opts.totalSteps) {
    if (opts.signal?.aborted || (opts.stopAfterStep !== undefined && step >= opts.stopAfterStep)) {
      opts.checkpoint?.('interrupt', step);
      return { step, interrupted: true, imagesPerSec: rate(step).imagesPerSec };
    }
    const started = performance.now();
    const loss = await opts.runStep(step);
    if (!Number.isFinite(loss)) throw trainingDiverged(step, loss, opts.divergenceHint);
    times.push((performance.now() - started) / 1000);
    step++;
    opts.onStep?.({ step, totalSteps: opts.totalSteps, loss, ...rate(step) });
    const reason = opts.checkpointDue?.(step);
    if (reason !== undefined) opts.checkpoint?.(reason, step);
    await opts.afterStep?.(step);
    // Let signal handlers (Ctrl-C) run between steps.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { step, interrupted: false, imagesPerSec: rate(step).imagesPerSec };
}
