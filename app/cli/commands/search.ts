/**
 * `netadapt search --config search.json`, `netadapt search --resume RUN` and `netadapt runs`.
 * The search runs in the workspace (one SQLite file): every sample is saved as it is evaluated, so a search that
 * was killed, crashed or interrupted with Ctrl-C continues with `--resume` exactly where it stopped.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readJsonFile, renderArchitectureTable, resolveNetwork } from '../../../core/arch/index.ts';
import type { NetworkSpec } from '../../../core/arch/index.ts';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { formatResource } from '../../../core/metrics/format.ts';
import { configBaseDir, parseSearchConfig } from '../../../core/search/config.ts';
import type { SearchConfig } from '../../../core/search/config.ts';
import { createSearchContext, optimizerFor } from '../../../core/search/context.ts';
import type { SearchOptimizer } from '../../../core/search/optimizer.ts';
import { finalTrainingLines, loadReportInput, writeSearchOutputs } from '../../../core/search/report.ts';
import type { FinalTrainingSummary } from '../../../core/search/result.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import type { RunRecord, SearchBudget, SearchEvent, SearchParams, SearchResult } from '../../../core/search/types.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { ProgressLine } from '../progress.ts';

interface SearchOptions {
  config?: string;
  resume?: string;
  workspace?: string;
  output?: string;
  maxIterations?: string;
  maxSamples?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('search')
    .description('search a sub-network that meets a resource target (NetAdaptV2 MCD or NetAdaptV1 SCD optimizer)')
    .option('--config <file>', 'search configuration (JSON): network, dataset, metric, target, J, L, reduction, decay, seed, budget, ...')
    .option('--resume <run>', 'continue a run of the workspace (after a crash, kill, Ctrl-C or an exhausted budget)')
    .option('--workspace <path>', 'workspace file (default: the config\'s "workspace", $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--output <dir>', 'where to write network.json and the reports (default: the config\'s "output" or ./netadapt-output/<run>)')
    .option('--max-iterations <n>', 'budget: stop before this many iterations (with --resume: replaces the run\'s budget)')
    .option('--max-samples <n>', 'budget: do not start an iteration after this many evaluated samples')
    .option('--quiet', 'no per-iteration progress lines')
    .action(async (options: SearchOptions) => {
      if ((options.config === undefined) === (options.resume === undefined)) {
        throw new ValidationError('give either --config <file> (a new search) or --resume <run> (continue one)');
      }
      const budget = budgetOverride(options);
      if (options.config !== undefined) await startSearch(options.config, options, budget);
      else await resumeSearch(options.resume as string, options, budget);
    });

  program
    .command('runs')
    .description('list the search runs of the workspace')
    .option('--workspace <path>', 'workspace file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--json', 'print the runs as JSON')
    .action((options: { workspace?: string; json?: boolean }) => {
      const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath());
      try {
        const runs = new SqliteRunStore(workspace).listRuns();
        if (options.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log(`no search runs in ${workspace.path}`);
          return;
        }
        console.log(formatRunsTable(runs));
      } finally {
        workspace.close();
      }
    });
}

function parseCount(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new ValidationError(`${name} must be a whole number ≥ 0 (got "${text}")`);
  return value;
}

function budgetOverride(options: SearchOptions): SearchBudget | undefined {
  const maxIterations = parseCount(options.maxIterations, '--max-iterations');
  const maxSamples = parseCount(options.maxSamples, '--max-samples');
  if (maxIterations === undefined && maxSamples === undefined) return undefined;
  return { ...(maxIterations === undefined ? {} : { maxIterations }), ...(maxSamples === undefined ? {} : { maxSamples }) };
}

async function startSearch(configPath: string, options: SearchOptions, budget: SearchBudget | undefined): Promise<void> {
  const config = parseSearchConfig(readJsonFile(configPath), configPath, configBaseDir(configPath));
  if (budget) config.budget = budget;
  const workspacePath = options.workspace ?? config.workspace ?? defaultWorkspacePath();
  await withRun(workspacePath, config, options, (optimizer, params) => optimizer.start(params, config));
}

async function resumeSearch(runId: string, options: SearchOptions, budget: SearchBudget | undefined): Promise<void> {
  const workspacePath = options.workspace ?? defaultWorkspacePath();
  const workspace = openWorkspace(workspacePath);
  let run: RunRecord | undefined;
  try {
    run = new SqliteRunStore(workspace).getRun(runId);
  } finally {
    workspace.close();
  }
  if (!run) throw new UserError(`no search run "${runId}" in ${resolve(workspacePath)}; \`netadapt runs\` lists them`);
  const config = parseSearchConfig(run.config, `the configuration stored with run ${runId}`);
  await withRun(workspacePath, config, options, (optimizer) => optimizer.resume(runId, budget ? { budget } : {}));
}

/**
 * Runs a new search (or resumes `resumeRunId`) with the CLI's progress output, the final training when configured,
 * and writes the reports; used by `demo`.
 */
export async function runSearchFromConfig(
  config: SearchConfig,
  options: { workspace?: string; output?: string; quiet?: boolean },
  resumeRunId?: string,
): Promise<RunOutcome> {
  const workspacePath = options.workspace ?? config.workspace ?? defaultWorkspacePath();
  return withRun(workspacePath, config, options, (optimizer, params) =>
    resumeRunId === undefined ? optimizer.start(params, config) : optimizer.resume(resumeRunId),
  );
}

export interface RunOutcome {
  result: SearchResult;
  outputDir: string;
  /** The final training's summary (when configured, the search finished and the training was not interrupted). */
  finalTraining?: FinalTrainingSummary;
}

async function withRun(
  workspacePath: string,
  config: SearchConfig,
  options: SearchOptions,
  go: (optimizer: SearchOptimizer, params: SearchParams) => Promise<SearchResult>,
): Promise<RunOutcome> {
  const context = await createSearchContext(config);
  const workspace = openWorkspace(workspacePath);
  const store = new SqliteRunStore(workspace);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupting after the current sample (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const reporter = new ProgressReporter(context.metric.unit, options.quiet === true);
  try {
    const optimizer = optimizerFor(context, { store, signal: controller.signal, onEvent: (event) => reporter.on(event) });
    const result = await go(optimizer, context.params);
    reporter.finish();
    const outputDir = resolve(options.output ?? config.output ?? `netadapt-output/${result.runId}`);
    const reportInput = loadReportInput(store, result.runId, context.spec, context.scoreLabel);
    let files = writeSearchOutputs(outputDir, reportInput);
    printResult(result, context.spec, context.metric.unit, files.network, files.html);
    if (result.status === 'unreachable') process.exitCode = 1;
    if (result.status === 'interrupted') process.exitCode = 130;
    const outcome: RunOutcome = { result, outputDir };
    if (config.finalTraining && result.status === 'done') {
      const summary = await runFinalTraining(config, context.spec, result, outputDir, controller.signal);
      if (summary) {
        outcome.finalTraining = summary;
        files = writeSearchOutputs(outputDir, { ...reportInput, finalTraining: summary });
        console.log('');
        for (const [key, value] of finalTrainingLines({ ...reportInput, finalTraining: summary })) console.log(`${key}: ${value}`);
        console.log(`report:  ${files.html}`);
      } else {
        console.log(`final training interrupted; continue it with: netadapt search --resume ${result.runId}`);
        process.exitCode = 130;
      }
    }
    return outcome;
  } finally {
    reporter.finish();
    process.off('SIGINT', onSigint);
    workspace.close();
    context.dispose();
  }
}

async function runFinalTraining(
  config: SearchConfig,
  spec: NetworkSpec,
  result: SearchResult,
  outputDir: string,
  signal: AbortSignal,
): Promise<FinalTrainingSummary | undefined> {
  const settings = config.finalTraining as NonNullable<SearchConfig['finalTraining']>;
  console.log(`\nfinal training of the discovered network (mode ${settings.mode}${settings.distill ? ', distilled from the full network' : ''})`);
  const { finalTrainFromSearchConfig } = await import('../../../core/search/final-training.ts');
  const progress = new ProgressLine();
  try {
    return await finalTrainFromSearchConfig({
      config,
      spec,
      result,
      outputDir,
      signal,
      onEvent: (e) =>
        progress.update(e.step, e.totalSteps, `${e.phase === 'final' ? 'final' : `trajectory point ${e.point + 1}/${e.points}`}, loss ${e.loss.toFixed(3)}, ${e.imagesPerSec.toFixed(0)} img/s`, e.etaSec),
    });
  } finally {
    progress.done();
  }
}

class ProgressReporter {
  private readonly progress = new ProgressLine();
  private iterationStarted = 0;

  constructor(
    private readonly unit: string,
    private readonly quiet: boolean,
  ) {}

  on(event: SearchEvent): void {
    const fmt = (v: number) => formatResource(v, this.unit);
    switch (event.type) {
      case 'run-start':
        console.log(
          `${event.resumed ? 'resuming' : 'search'} run ${event.runId} (host ${hostname()}): ` +
            `initial ${fmt(event.initialResource)} → target ${fmt(event.finalTarget)}`,
        );
        break;
      case 'iteration-start':
        this.iterationStarted = Date.now();
        break;
      case 'sample':
        if (!this.quiet && process.stderr.isTTY) this.progress.update(event.index + 1, event.of, `iteration ${event.iteration < 0 ? 'initial' : event.iteration}`);
        break;
      case 'iteration-best':
        this.progress.done();
        if (!this.quiet) {
          const took = this.iterationStarted ? ` ${((Date.now() - this.iterationStarted) / 1000).toFixed(1)}s` : '';
          const label = event.iteration < 0 ? 'initial  ' : `iter ${String(event.iteration).padStart(4)}`;
          console.log(
            `${label}  target ${fmt(event.target).padStart(14)}  best ${fmt(event.resource).padStart(14)}  score ${event.score.toFixed(4)}  (${event.samples} samples${took})`,
          );
        }
        break;
      default:
        break;
    }
  }

  finish(): void {
    this.progress.done();
  }
}

function printResult(result: SearchResult, spec: Parameters<typeof resolveNetwork>[0], unit: string, networkFile: string, htmlFile: string): void {
  const fmt = (v: number) => formatResource(v, unit);
  console.log('');
  console.log(`${result.status}: ${result.message}`);
  console.log(
    `discovered: ${fmt(result.best.resource)} (${((100 * result.best.resource) / result.initialResource).toFixed(1)}% of ${fmt(result.initialResource)}), ` +
      `score ${result.best.score.toFixed(4)}, ${result.iterations} iterations, ${result.samplesEvaluated} samples evaluated`,
  );
  console.log('');
  console.log(renderArchitectureTable(resolveNetwork(spec, result.best.config)));
  console.log('');
  console.log(`network: ${networkFile}`);
  console.log(`report:  ${htmlFile}`);
  if (result.status === 'interrupted' || result.status === 'budget') {
    console.log(`continue with: netadapt search --resume ${result.runId}${result.status === 'budget' ? ' --max-iterations <n>' : ''}`);
  }
}

export function formatRunsTable(runs: readonly RunRecord[]): string {
  const header = ['id', 'status', 'network', 'metric', 'algorithm', 'iterations', 'samples', 'best score', 'best resource', 'target'];
  const rows = runs.map((run) => [
    run.id,
    run.status,
    run.network,
    run.metric,
    run.params.algorithm + (run.params.fineTuneSteps !== undefined ? ' (V1)' : ''),
    String(run.iterations),
    String(run.samplesEvaluated),
    run.bestScore === null ? '-' : run.bestScore.toFixed(4),
    run.bestResource === null ? '-' : formatResource(run.bestResource, run.metricUnit),
    run.finalTarget === null ? '-' : formatResource(run.finalTarget, run.metricUnit),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
