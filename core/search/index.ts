export type {
  EvalContext,
  EvalResult,
  Evaluator,
  FinalTarget,
  FineTuner,
  IterationRecord,
  NewRun,
  PlannedSample,
  ResourceMetric,
  RunRecord,
  RunStatus,
  RunStore,
  SampleRecord,
  SearchAlgorithm,
  SearchBudget,
  SearchEvent,
  SearchOutcome,
  SearchParams,
  SearchResult,
  TrajectoryPoint,
} from './types.ts';
export { SearchOptimizer, DEFAULT_PARAMS, validateParams } from './optimizer.ts';
export type { SearchDeps } from './optimizer.ts';
export { planMcdIteration, shrinkableLayers } from './mcd.ts';
export type { PlanInput, PlanOutput } from './mcd.ts';
export { planScdIteration, scdCandidates } from './scd.ts';
export { availableMoves, applyMove, changedLayers, lowerKernel, lowerWidthLevel } from './shrink.ts';
export type { ShrinkMove } from './shrink.ts';
export { finalTargetValue, iterationReduction, iterationTarget, parseFinalTarget, parsePercent, describeTarget } from './targets.ts';
export { SqliteRunStore, newRunId } from './run-store.ts';
export { loadSearchResult, loadTrajectory, pickBest } from './result.ts';
export { FineTuningEvaluator } from './finetune.ts';
export { SyntheticEvaluator } from './synthetic-evaluator.ts';
export type { SyntheticEvaluatorOptions } from './synthetic-evaluator.ts';
export { TargetUnreachableError, RunStateError } from './errors.ts';
export { parseSearchConfig, searchConfigSchema, toSearchParams, configBaseDir, METRIC_NAMES } from './config.ts';
export type { MetricName, SearchConfig, SearchConfigInput } from './config.ts';
export { createSearchContext, optimizerFor, registerSearchProviders } from './context.ts';
export type { ProviderInput, SearchContext, SearchContextProviders } from './context.ts';
export { discoveredNetworkJson, loadReportInput, renderHtmlReport, renderMarkdownReport, renderScatter, writeSearchOutputs } from './report.ts';
export type { SearchOutputFiles, SearchReportInput } from './report.ts';
export { renderScatterSvg, niceTicks } from './scatter-svg.ts';
export type { ScatterInput, ScatterPoint } from './scatter-svg.ts';
