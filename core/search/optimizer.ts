/**
 * The search driver shared by MCD and SCD: starts from the full network, runs iterations until the final target is
 * met, and persists everything in the RunStore so `resume` continues a killed run exactly:
 * - iteration k's samples are generated deterministically from (seed, k, slot, attempt) and the previous best,
 *   then written to the store in one transaction before any is evaluated;
 * - each evaluation is committed on its own; on resume, samples with a score are reused, the others evaluated;
 * - a finished iteration records its best, which is the next iteration's starting point.
 * Budget limits are checked before an iteration starts; an iteration that has started is always finished.
 */
import { hostname } from 'node:os';
import { fullSubnet, minimalSubnet, searchSpace, subnetKey } from '../arch/index.ts';
import type { NetworkSpec, SearchSpace, SubnetConfig } from '../arch/index.ts';
import { UserError, ValidationError, withDetails } from '../errors.ts';
import { formatResource } from '../metrics/format.ts';
import type { ResourceMetric } from '../metrics/types.ts';
import { RunStateError, TargetUnreachableError } from './errors.ts';
import { FineTuningEvaluator } from './finetune.ts';
import { planMcdIteration } from './mcd.ts';
import type { PlanInput, PlanOutput } from './mcd.ts';
import { loadSearchResult, pickBest } from './result.ts';
import { planScdIteration } from './scd.ts';
import { finalTargetValue, iterationTarget } from './targets.ts';
import type {
  Evaluator,
  FineTuner,
  RunRecord,
  RunStore,
  SampleRecord,
  SearchBudget,
  SearchEvent,
  SearchParams,
  SearchResult,
} from './types.ts';
import { ownerIsLive } from './run-state.ts';
import { MCD_SHRINK_MODES } from './types.ts';

export interface SearchDeps {
  spec: NetworkSpec;
  metric: ResourceMetric;
  /** Scores samples. In NetAdaptV1 mode (params.fineTuneSteps set) give `fineTuner` instead. */
  evaluator?: Evaluator;
  fineTuner?: FineTuner;
  store: RunStore;
  onEvent?: (event: SearchEvent) => void;
  /** Aborting stops the run between two evaluations (status 'interrupted'; resume continues it). */
  signal?: AbortSignal;
}

export const DEFAULT_PARAMS: Omit<SearchParams, 'target'> = {
  algorithm: 'mcd',
  samplesPerIteration: 200,
  layersPerSample: 10,
  mcdShrink: 'stop-at-target',
  reduction: 0.03,
  decay: 0.98,
  seed: 1,
  maxAttempts: 20,
  scdShrinksKernel: true,
  budget: {},
};

/**
 * Sanity bounds of the search parameters, checked before a run starts (the paper uses J = 27–200 and L = 4–15; an
 * iteration's J samples are planned, held and stored at once, so J = 10^12 would exhaust memory, not search better).
 */
export const SEARCH_LIMITS = { samplesPerIteration: 10_000, layersPerSample: 1_000, maxAttempts: 1_000 } as const;

export function validateParams(params: SearchParams): void {
  const problems: string[] = [];
  const intInRange = (value: number, name: string, max: number) => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      problems.push(`${name} must be a whole number from 1 to ${max.toLocaleString('en-US')} (got ${value})`);
    }
  };
  intInRange(params.samplesPerIteration, 'J (samples per iteration)', SEARCH_LIMITS.samplesPerIteration);
  intInRange(params.layersPerSample, 'L (layers per sample)', SEARCH_LIMITS.layersPerSample);
  intInRange(params.maxAttempts, 'maxAttempts', SEARCH_LIMITS.maxAttempts);
  if (!(params.reduction > 0 && params.reduction < 1)) problems.push(`reduction must be in (0, 1) (got ${params.reduction})`);
  if (!(params.decay > 0 && params.decay <= 1)) problems.push(`decay must be in (0, 1] (got ${params.decay})`);
  if (!Number.isInteger(params.seed) || params.seed < 0 || params.seed > 0xffffffff) problems.push(`seed must be an integer in 0..2^32-1 (got ${params.seed})`);
  if (!(params.target.value > 0)) problems.push(`target must be positive (got ${params.target.value})`);
  if (params.target.kind === 'fraction' && params.target.value > 1) problems.push('a fractional target must be at most 100%');
  if (params.mcdShrink !== undefined && !MCD_SHRINK_MODES.includes(params.mcdShrink)) {
    problems.push(`mcdShrink must be one of ${MCD_SHRINK_MODES.join(', ')} (got ${JSON.stringify(params.mcdShrink)})`);
  }
  if (params.fineTuneSteps !== undefined && (!Number.isInteger(params.fineTuneSteps) || params.fineTuneSteps < 0)) {
    problems.push(`fineTuneSteps must be a non-negative integer (got ${params.fineTuneSteps})`);
  }
  if (problems.length > 0) throw new ValidationError('invalid search parameters', problems);
}

export class SearchOptimizer {
  private readonly space: SearchSpace;
  private readonly evaluator: Evaluator;

  constructor(private readonly deps: SearchDeps) {
    this.space = searchSpace(deps.spec);
    if (deps.evaluator) this.evaluator = deps.evaluator;
    else if (deps.fineTuner) this.evaluator = new FineTuningEvaluator(deps.fineTuner, 0);
    else throw new Error('SearchOptimizer needs an evaluator (or a fineTuner for NetAdaptV1 mode)');
  }

  /**
   * Creates a run and searches. Before anything is stored, checks that the smallest sub-network meets the final
   * target (TargetUnreachableError otherwise).
   */
  async start(params: SearchParams, config: unknown = null): Promise<SearchResult> {
    validateParams(params);
    const { metric, spec, store } = this.deps;
    const [initial, minimal] = await metric.measure([fullSubnet(this.space), minimalSubnet(this.space)]);
    const finalTarget = finalTargetValue(params.target, initial as number);
    if (finalTarget >= (initial as number)) {
      throw new ValidationError(
        `the target ${formatResource(finalTarget, metric.unit)} is not below the full network's ${formatResource(initial as number, metric.unit)}: there is nothing to search`,
        [`give a target between ${formatResource(minimal as number, metric.unit)} (the smallest sub-network of "${spec.name}") and ${formatResource(initial as number, metric.unit)}, or a percentage like "50%"`],
      );
    }
    if ((minimal as number) > finalTarget) {
      throw new TargetUnreachableError(
        `the target ${formatResource(finalTarget, metric.unit)} is unreachable: even the smallest sub-network of ` +
          `"${spec.name}" needs ${formatResource(minimal as number, metric.unit)} (the full network: ${formatResource(initial as number, metric.unit)})`,
      );
    }
    const run = store.createRun({ network: spec.name, metric: metric.name, metricUnit: metric.unit, params, config });
    store.setRunStart(run.id, initial as number, finalTarget);
    return this.run(run.id, false);
  }

  /** Continues a run (after a crash, kill -9, an interrupt, a failure or an exhausted budget). */
  async resume(runId: string, options: { budget?: SearchBudget } = {}): Promise<SearchResult> {
    const run = this.deps.store.getRun(runId);
    if (!run) throw new RunStateError(`no search run "${runId}" in this workspace; \`netadapt runs\` lists them`);
    if (run.network !== this.deps.spec.name) {
      throw new RunStateError(`run ${runId} searched network "${run.network}", not "${this.deps.spec.name}"`);
    }
    if (run.metric !== this.deps.metric.name) {
      throw new RunStateError(`run ${runId} was guided by metric "${run.metric}", not "${this.deps.metric.name}"`);
    }
    if (options.budget) this.deps.store.setRunBudget(runId, options.budget);
    if (run.status === 'done' || run.status === 'unreachable') {
      const result = loadSearchResult(this.deps.store, runId);
      if (result) return result;
    }
    return this.run(runId, true);
  }

  private emit(event: SearchEvent): void {
    this.deps.onEvent?.(event);
  }

  private async run(runId: string, resumed: boolean): Promise<SearchResult> {
    const { store } = this.deps;
    this.claim(runId);
    try {
      const outcome = await this.search(store.getRun(runId) as RunRecord, resumed);
      store.setRunStatus(runId, outcome.status, outcome.message);
      store.setRunOwner(runId, null);
      const result = loadSearchResult(store, runId);
      if (!result) throw new Error(`run ${runId} ended without an evaluated initial network`);
      this.emit({ type: 'done', runId, result });
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      try {
        store.setRunStatus(runId, 'failed', `${message} (resume with \`netadapt search --resume ${runId}\`)`);
        store.setRunOwner(runId, null);
      } catch {
        // The store itself failed (a full disk, a read-only file): the run stays 'running' with this process as its
        // owner, which every listing shows as interrupted once this process is gone.
      }
      throw error instanceof UserError ? withDetails(error, [savedProgress(store, runId)]) : error;
    }
  }

  /** Refuses a run another live process on this machine is searching; then marks it as ours. */
  private claim(runId: string): void {
    const { store } = this.deps;
    const run = store.getRun(runId) as RunRecord;
    if (run.status === 'running' && run.ownerPid !== process.pid && ownerIsLive(run)) {
      const where = run.ownerHost !== null && run.ownerHost !== hostname() ? ` on ${run.ownerHost}` : '';
      throw new RunStateError(`run ${runId} is being searched by process ${run.ownerPid}${where}; stop it first or wait for it`);
    }
    store.setRunOwner(runId, { pid: process.pid, host: hostname() });
    store.setRunStatus(runId, 'running', null);
  }

  private async search(run: RunRecord, resumed: boolean): Promise<{ status: SearchResult['status']; message: string }> {
    const { store, metric, signal } = this.deps;
    const runId = run.id;
    const params = run.params;
    const initialResource = run.initialResource as number;
    const finalTarget = run.finalTarget as number;
    const unit = metric.unit;
    const fmt = (value: number) => formatResource(value, unit);
    this.emit({ type: 'run-start', runId, resumed, initialResource, finalTarget, unit });

    // The initial network is iteration -1 with one sample: its score anchors the trajectory.
    const full = fullSubnet(this.space);
    if (!store.getIteration(runId, -1)) {
      store.planIteration(runId, { iteration: -1, target: initialResource, parentResource: initialResource }, [
        { index: 0, config: full, resource: initialResource, changed: [] },
      ]);
    }
    let parent = await this.finishIteration(run, -1, initialResource, full);
    if (parent === 'interrupted') return { status: 'interrupted', message: 'interrupted while evaluating the initial network' };

    for (let k = 0; ; k++) {
      if (parent.resource <= finalTarget) {
        return {
          status: 'done',
          message: `reached the target ${fmt(finalTarget)} after ${k} iteration(s): ${fmt(parent.resource)}, score ${(parent.score as number).toFixed(4)}`,
        };
      }
      if (signal?.aborted) return { status: 'interrupted', message: `interrupted before iteration ${k}` };
      let iteration = store.getIteration(runId, k);
      if (!iteration) {
        const current = store.getRun(runId) as RunRecord;
        const budget = current.params.budget;
        const evaluated = current.samplesEvaluated;
        if (budget.maxIterations !== undefined && k >= budget.maxIterations) {
          return { status: 'budget', message: `stopped by the budget after ${k} iteration(s) at ${fmt(parent.resource)} (target ${fmt(finalTarget)})` };
        }
        if (budget.maxSamples !== undefined && evaluated >= budget.maxSamples) {
          return { status: 'budget', message: `stopped by the budget after ${evaluated} samples at ${fmt(parent.resource)} (target ${fmt(finalTarget)})` };
        }
        const target = iterationTarget(params, k, parent.resource, initialResource, finalTarget);
        this.emit({ type: 'iteration-start', runId, iteration: k, target, parentResource: parent.resource, reused: false });
        const plan = await this.plan({
          space: this.space,
          metric,
          params,
          iteration: k,
          parent: parent.config,
          parentResource: parent.resource,
          target,
        });
        if ('unreachable' in plan) {
          return { status: 'unreachable', message: `iteration ${k}: ${plan.unreachable}` };
        }
        store.planIteration(runId, { iteration: k, target, parentResource: parent.resource }, plan.samples);
        iteration = store.getIteration(runId, k);
        this.emit({ type: 'iteration-planned', runId, iteration: k, samples: plan.samples.length });
      } else if (iteration.status !== 'done') {
        this.emit({ type: 'iteration-start', runId, iteration: k, target: iteration.target, parentResource: iteration.parentResource, reused: true });
      }
      const next = await this.finishIteration(run, k, (iteration as { target: number }).target, parent.config);
      if (next === 'interrupted') return { status: 'interrupted', message: `interrupted during iteration ${k}` };
      parent = next;
    }
  }

  private plan(input: PlanInput): Promise<PlanOutput> {
    return input.params.algorithm === 'scd' ? planScdIteration(input) : planMcdIteration(input);
  }

  /** Evaluates the iteration's samples that have no score yet, records its best and returns it. */
  private async finishIteration(
    run: RunRecord,
    k: number,
    target: number,
    parent: SubnetConfig,
  ): Promise<SampleRecord | 'interrupted'> {
    const { store, signal } = this.deps;
    const runId = run.id;
    const iteration = store.getIteration(runId, k);
    if (!iteration) throw new Error(`iteration ${k} of run ${runId} was not planned`);
    const samples = store.getSamples(runId, k);
    if (iteration.status !== 'done') {
      const fineTuneSteps = run.params.fineTuneSteps;
      // NetAdaptV1 mode: samples are fine-tuned from the parent; the initial network is scored as is (0 steps).
      const evaluator =
        fineTuneSteps === undefined ? this.evaluator : new FineTuningEvaluator(this.requireFineTuner(), k >= 0 ? fineTuneSteps : 0);
      let adopted = false;
      for (const sample of samples) {
        if (sample.score !== null) {
          this.emitSample(runId, k, sample, samples.length, true);
          continue;
        }
        if (signal?.aborted) return 'interrupted';
        if (fineTuneSteps !== undefined && !adopted) {
          await this.deps.fineTuner?.adopt?.(parent, k - 1);
          adopted = true;
        }
        const started = performance.now();
        const result = await evaluator.evaluate(sample.config, { runId, iteration: k, index: sample.index, parent });
        const evalMs = performance.now() - started;
        if (typeof result.score !== 'number' || !Number.isFinite(result.score)) {
          throw new Error(`the evaluator returned the score ${String(result.score)} for sample ${sample.index} of iteration ${k} (${subnetKey(sample.config)})`);
        }
        store.recordEvaluation(runId, k, sample.index, { score: result.score, metrics: result.metrics ?? null, evalMs });
        sample.score = result.score;
        sample.metrics = result.metrics ?? null;
        sample.evalMs = evalMs;
        this.emitSample(runId, k, sample, samples.length, false);
      }
      const best = pickBest(samples);
      if (!best) throw new Error(`iteration ${k} of run ${runId} has no evaluated sample`);
      store.finishIteration(runId, k, best.index);
      this.emit({ type: 'iteration-best', runId, iteration: k, index: best.index, score: best.score as number, resource: best.resource, target, samples: samples.length });
      return best;
    }
    const best = samples.find((s) => s.index === iteration.bestIndex);
    if (!best) throw new Error(`iteration ${k} of run ${runId} is finished but its best sample is missing`);
    return best;
  }

  private requireFineTuner(): FineTuner {
    if (!this.deps.fineTuner) throw new Error('this run is in NetAdaptV1 mode (fineTuneSteps) but no fineTuner was given');
    return this.deps.fineTuner;
  }

  private emitSample(runId: string, iteration: number, sample: SampleRecord, of: number, reused: boolean): void {
    this.emit({
      type: 'sample',
      runId,
      iteration,
      index: sample.index,
      of,
      resource: sample.resource,
      score: sample.score as number,
      evalMs: sample.evalMs ?? 0,
      reused,
    });
  }
}

/** "run X: 3 iterations finished and 41 evaluated samples are saved; resume with …" (after a resource error). */
function savedProgress(store: RunStore, runId: string): string {
  try {
    const run = store.getRun(runId);
    const samples = store.getSamples(runId).filter((s) => s.score !== null).length;
    return `run ${runId}: ${run?.iterations ?? 0} iteration(s) finished and ${samples} evaluated sample(s) are saved; resume with netadapt search --resume ${runId}`;
  } catch {
    return `resume with netadapt search --resume ${runId}`;
  }
}
