/**
 * `netadapt search --config search.json`, `netadapt search --resume RUN` and `netadapt runs`.
 * The search runs in the workspace (one SQLite file): every sample is saved as it is evaluated, so a search that
 * was killed, crashed or interrupted with Ctrl-C continues with `--resume` exactly where it stopped.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readJsonFile, renderArchitectureTable, resolveNetwork, type NetworkSpec } from '../../../core/arch/index.ts';
import { UserError, ValidationError } from '../../../core/errors.ts';
import { formatResource } from '../../../core/metrics/format.ts';
import { finalTrainingLines, type DeviceResource } from '../../../core/search/report.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import { runState } from '../../../core/search/run-state.ts';
import type { RunRecord, SearchBudget, SearchEvent, SearchResult } from '../../../core/search/types.ts';
import { defaultWorkspacePath, openWorkspace } from '../../../core/store/workspace.ts';
import { configBaseDir, parseSearchConfig, type SearchConfig } from '../../../pipeline/config.ts';
import type { PipelineEvent } from '../../../pipeline/events.ts';
import { runSearchJob, type SearchJobOutcome } from '../../../pipeline/job.ts';
import { ProgressLine } from '../progress.ts';
import { addSearchFlags, searchConfigFromFlags, type SearchFlagOptions } from './search-flags.ts';

interface SearchOptions extends SearchFlagOptions {
  config?: string;
  resume?: string;
  workspace?: string;
  output?: string;
  maxIterations?: string;
  maxSamples?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  const search = program
    .command('search')
    .description('search a sub-network that meets a resource target (NetAdaptV2 MCD or NetAdaptV1 SCD optimizer)')
    .option('--config <file>', 'search configuration (JSON): network, dataset, metric, target, J, L, reduction, decay, seed, budget, ...')
    .option('--resume <run>', 'continue a run of the workspace (after a crash, kill, Ctrl-C or an exhausted budget)')
    .option('--workspace <path>', 'workspace file (default: the config\'s "workspace", $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--output <dir>', 'where to write network.json and the reports (default: the config\'s "output" or ./netadapt-output/<run>)')
    .option('--max-iterations <n>', 'budget: stop before this many iterations (with --resume: replaces the run\'s budget)')
    .option('--max-samples <n>', 'budget: do not start an iteration after this many evaluated samples')
    .option('--quiet', 'no per-iteration progress lines');
  addSearchFlags(search);
  search.action(async (options: SearchOptions) => {
    const modes = [options.config !== undefined, options.resume !== undefined, options.network !== undefined].filter(Boolean).length;
    if (modes !== 1) {
      throw new ValidationError('give one of --network <name> (a new search from flags), --config <file> (a new search from a JSON configuration) or --resume <run> (continue one)');
    }
    const budget = budgetOverride(options);
    if (options.network !== undefined) {
      const workspace = resolve(options.workspace ?? defaultWorkspacePath());
      const config = parseSearchConfig(searchConfigFromFlags(options, { workspace, ...(options.output !== undefined ? { output: resolve(options.output) } : {}) }), 'the search flags');
      if (budget) config.budget = { ...config.budget, ...budget };
      await runSearchFromConfig(config, options);
      return;
    }
    if (options.config !== undefined) await startSearch(options.config, options, budget);
    else await resumeSearch(options.resume as string, options, budget);
  });

  program
    .command('runs')
    .description('list the search runs of the workspace')
    .option('--workspace <path>', 'workspace file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--json', 'print the runs as JSON')
    .action((options: { workspace?: string; json?: boolean }) => {
      const workspace = openWorkspace(options.workspace ?? defaultWorkspacePath(), { mustExist: true });
      try {
        const runs = new SqliteRunStore(workspace).listRuns();
        if (options.json) {
          console.log(JSON.stringify(runs.map((run) => ({ ...run, ...runState(run) })), null, 2));
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
  await runSearchFromConfig(config, options);
}

async function resumeSearch(runId: string, options: SearchOptions, budget: SearchBudget | undefined): Promise<void> {
  const workspacePath = options.workspace ?? defaultWorkspacePath();
  const workspace = openWorkspace(workspacePath, { mustExist: true });
  let run: RunRecord | undefined;
  try {
    run = new SqliteRunStore(workspace).getRun(runId);
  } finally {
    workspace.close();
  }
  if (!run) throw new UserError(`no search run "${runId}" in ${resolve(workspacePath)}; \`netadapt runs\` lists them`);
  const config = parseSearchConfig(run.config, `the configuration stored with run ${runId}`);
  await runSearchFromConfig(config, { ...options, workspace: workspacePath }, runId, budget);
}

/**
 * Runs the search job (pipeline/job.ts) — a new search, or `resumeRunId` continued — with the CLI's progress output:
 * search, report, final training when configured. Ctrl-C stops it after the current sample or step; used by `demo`.
 */
export async function runSearchFromConfig(
  config: SearchConfig,
  options: { workspace?: string; output?: string; quiet?: boolean },
  resumeRunId?: string,
  budget?: SearchBudget,
): Promise<SearchJobOutcome> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupting after the current sample (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const reporter = new ProgressReporter(options.quiet === true);
  try {
    const outcome = await runSearchJob(
      {
        config,
        ...(resumeRunId !== undefined ? { resumeRunId } : {}),
        ...(budget ? { budget } : {}),
        ...(options.workspace !== undefined ? { workspacePath: options.workspace } : {}),
        ...(options.output !== undefined ? { output: options.output } : {}),
      },
      { signal: controller.signal, onEvent: (event) => reporter.on(event) },
    );
    reporter.finish();
    const { result } = outcome;
    if (result.status === 'unreachable') process.exitCode = 1;
    if (result.status === 'interrupted') process.exitCode = 130;
    if (outcome.finalTraining && outcome.report) {
      console.log('');
      for (const [key, value] of finalTrainingLines(outcome.report)) console.log(`${key}: ${value}`);
      console.log(`report:  ${outcome.files?.html}`);
    } else if (outcome.finalTrainingInterrupted) {
      console.log(`final training interrupted; continue it with: netadapt search --resume ${result.runId}`);
      process.exitCode = 130;
    }
    return outcome;
  } finally {
    reporter.finish();
    process.off('SIGINT', onSigint);
  }
}

class ProgressReporter {
  private readonly progress = new ProgressLine();
  private iterationStarted = 0;
  private unit = '';
  private printed = false;

  constructor(private readonly quiet: boolean) {}

  on(event: PipelineEvent): void {
    switch (event.type) {
      case 'search':
        this.onSearch(event.event);
        break;
      case 'phase':
        if (event.phase === 'search' && event.status === 'done') this.progress.done();
        if (event.phase === 'final-training' && event.status === 'started') {
          console.log(`\nfinal training of the discovered network (${event.message ?? ''})`);
        }
        if (event.phase === 'final-training' && event.status !== 'started') this.progress.done();
        break;
      case 'final-training': {
        const e = event.event;
        this.progress.update(e.step, e.totalSteps, `${e.phase === 'final' ? 'final' : `trajectory point ${e.point + 1}/${e.points}`}, loss ${e.loss.toFixed(3)}, ${e.imagesPerSec.toFixed(0)} img/s`, e.etaSec);
        break;
      }
      case 'report':
        // The first report follows the search: print the result once, with the files.
        if (!this.printed) {
          this.printed = true;
          printResult(event.report.result, event.report.spec, event.files.network, event.files.html, event.report.devices);
        }
        break;
      default:
        break;
    }
  }

  private onSearch(event: SearchEvent): void {
    const fmt = (v: number) => formatResource(v, this.unit);
    switch (event.type) {
      case 'run-start':
        this.unit = event.unit;
        console.log(
          `${event.resumed ? 'resuming' : 'search'} run ${event.runId} (host ${hostname()}): ` +
            `initial ${formatResource(event.initialResource, event.unit)} → target ${formatResource(event.finalTarget, event.unit)}`,
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

function printResult(result: SearchResult, spec: NetworkSpec, networkFile: string, htmlFile: string, devices: readonly DeviceResource[] = []): void {
  const fmt = (v: number) => formatResource(v, result.unit);
  console.log('');
  console.log(`${result.status}: ${result.message}`);
  console.log(
    `discovered: ${fmt(result.best.resource)} (${((100 * result.best.resource) / result.initialResource).toFixed(1)}% of ${fmt(result.initialResource)}), ` +
      `score ${result.best.score.toFixed(4)}, ${result.iterations} iterations, ${result.samplesEvaluated} samples evaluated`,
  );
  for (const d of devices) {
    const f = (v: number) => formatResource(v, d.unit);
    console.log(`  on ${d.label}: ${f(d.discovered)} (${((100 * d.discovered) / d.initial).toFixed(1)}% of ${f(d.initial)}), target ${f(d.target)} ${d.discovered <= d.target ? 'met' : 'NOT met'}`);
  }
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
  const states = runs.map((run) => runState(run));
  const rows = runs.map((run, i) => [
    run.id,
    (states[i] as ReturnType<typeof runState>).status,
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
  // Runs that stopped before their end, newest last, each with the command that continues it.
  const notes = runs.flatMap((run, i) => {
    const state = states[i] as ReturnType<typeof runState>;
    if (state.note === undefined) return [];
    const why = state.status === 'failed' && run.message ? ` (${run.message.replace(/ \(resume with .*\)$/, '')})` : '';
    return [`${run.id}: ${state.note}${why}`];
  });
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}
