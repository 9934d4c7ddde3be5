/**
 * NetAdaptV1 mode (no super-network): a sample's score is its accuracy after a short fine-tuning from the previous
 * best. This adapter turns a FineTuner into the Evaluator the optimizers use; the optimizer passes the parent in
 * the EvalContext and calls `adopt(parent)` before an iteration's samples are fine-tuned.
 */
import type { SubnetConfig } from '../arch/index.ts';
import type { EvalContext, EvalResult, Evaluator, FineTuner } from './types.ts';

export class FineTuningEvaluator implements Evaluator {
  constructor(
    readonly fineTuner: FineTuner,
    readonly steps: number,
  ) {
    if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`fine-tuning steps ${steps} must be a non-negative integer`);
  }

  evaluate(config: SubnetConfig, context?: EvalContext): Promise<EvalResult> {
    if (!context) throw new Error('FineTuningEvaluator needs the evaluation context (the parent to fine-tune from)');
    return this.fineTuner.fineTune(context.parent, config, this.steps);
  }
}
