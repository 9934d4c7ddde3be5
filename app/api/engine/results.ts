/**
 * Results: History (searches, super-network trainings and latency tables), a run's details, and exports a person can
 * take away — the trained .tflite, the discovered network's JSON, the HTML report (written by the pipeline's one
 * report renderer) — each registered for download (browser mode: GET /download/<id>; Electron: a Save dialog).
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { withFileErrors, writeFileAtomically } from '../../../core/fs-errors.ts';
import { basename, join } from 'node:path';
import type { NetworkSpec } from '../../../core/arch/index.ts';
import { loadSearchResult } from '../../../core/search/result.ts';
import type { RunRecord, TrajectoryPoint } from '../../../core/search/types.ts';
import { openJobDataset } from '../../../pipeline/dataset.ts';
import { reportStep } from '../../../pipeline/steps/report.ts';
import { exportStep } from '../../../pipeline/steps/export.ts';
import { contentTypeOf } from '../http-security.ts';
import { architectureView } from '../architecture.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import { describeRuntimeOptions } from '../contract/titles.ts';
import type { DownloadInfo, ExportResult, RunDetails, RunSummary } from '../contract/types.ts';
import { NotFoundError } from '../errors.ts';
import { readTrainingRecord } from '../training-records.ts';
import { loadZooNetwork, type EngineContext } from './context.ts';
import { readRunOutputs, runDetails, runSummary, scoreKindOf, type RunOutputs } from './run-views.ts';

export class ResultOperations {
  private readonly downloads = new Map<string, { path: string; fileName: string }>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly isSearchActive: (runId: string) => boolean,
    private readonly trainingRuns: () => RunSummary[],
  ) {}

  summary(runId: string): RunSummary {
    const run = this.ctx.requireRun(runId);
    return runSummary(run, this.isSearchActive(run.id), readRunOutputs(this.ctx.runOutputDir(run.id)));
  }

  async listRuns(params: ValidParamsOf<'listRuns'>): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    if (params.kind === undefined || params.kind === 'search') {
      for (const run of this.ctx.runStore().listRuns()) runs.push(runSummary(run, this.isSearchActive(run.id), readRunOutputs(this.ctx.runOutputDir(run.id))));
    }
    if (params.kind === undefined || params.kind === 'train') runs.push(...this.trainingRuns());
    if (params.kind === undefined || params.kind === 'latency') runs.push(...this.latencyTables());
    return runs.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1)).slice(0, params.limit);
  }

  /** Each device's latency tables as History entries. */
  private latencyTables(): RunSummary[] {
    const store = this.ctx.latencyStore();
    const labels = new Map(store.listDevices().map((d) => [d.id, d.label]));
    return store.listTables().map((table) => ({
      runId: `${table.deviceId} ${table.runtimeOptions}`,
      kind: 'latency',
      title: `latency table of ${labels.get(table.deviceId) ?? table.deviceId} (${describeRuntimeOptions(table.runtimeOptions)})`,
      network: '',
      status: 'done',
      createdAt: table.newestMeasuredAt,
      updatedAt: table.newestMeasuredAt,
      metric: 'latency',
      unit: 'ms',
      iterations: table.entries,
      message: `${table.entries} layers measured`,
      scoreKind: 'none',
      scoreLabel: '',
    }));
  }

  async getRun(params: ValidParamsOf<'getRun'>): Promise<RunDetails> {
    const run = this.ctx.runStore().getRun(params.runId);
    if (!run) return this.trainingDetails(params.runId);
    const outputs = readRunOutputs(this.ctx.runOutputDir(run.id));
    return runDetails(this.ctx.runStore(), run, runSummary(run, this.isSearchActive(run.id), outputs), outputs);
  }

  private trainingDetails(runId: string): RunDetails {
    const summary = this.trainingRuns().find((r) => r.runId === runId);
    const record = summary ? readTrainingRecord(join(this.ctx.checkpointsDir(), runId)) : undefined;
    if (!summary || !record) throw new NotFoundError(`no run "${runId}" in the workspace ${this.ctx.workspacePath}`);
    return { ...summary, config: { ...record.params }, trajectory: [], lastSamples: [], comparison: [], test: {}, report: false, heldout: record.heldout };
  }

  async exportResult(params: ValidParamsOf<'exportResult'>): Promise<ExportResult> {
    const run = this.ctx.requireRun(params.runId);
    const store = this.ctx.runStore();
    const result = loadSearchResult(store, run.id);
    const trajectory = result?.trajectory ?? [];
    const point = params.iteration === undefined ? trajectory.at(-1) : trajectory.find((p) => p.iteration === params.iteration);
    if (!result || !point) throw new NotFoundError(`run ${params.runId} has no finished iteration${params.iteration !== undefined ? ` ${params.iteration}` : ''} to export`);
    const spec = loadZooNetwork(run.network);
    const outputDir = this.ctx.runOutputDir(run.id);
    const outputs = readRunOutputs(outputDir);
    const last = point.iteration === result.best.iteration;
    const base = `${run.network}-${run.id}${last ? '' : `-iter${point.iteration}`}`;
    const exportDir = this.ctx.exportDir();
    withFileErrors({ path: exportDir, what: 'the exports folder', action: 'write' }, () => mkdirSync(exportDir, { recursive: true }));

    if (params.format === 'tflite-int8') return this.exportInt8(run, point, last ? outputs : undefined, spec, join(exportDir, `${base}.int8.tflite`));

    if (params.format === 'tflite') {
      const trained = last ? outputs.finalTraining?.tflite : undefined;
      if (trained !== undefined && existsSync(trained)) {
        const path = join(exportDir, `${base}-trained.tflite`);
        withFileErrors({ path, what: 'the model file', action: 'write' }, () => copyFileSync(trained, path));
        const test = outputs.finalTraining?.test?.score;
        const note = `the discovered network after its final training${test !== undefined ? ` (test top-1 ${(test * 100).toFixed(1)}%)` : ''}`;
        return this.register({ format: 'tflite', path, weights: 'trained', note });
      }
      const checkpoint = typeof (run.config as Record<string, unknown>)?.['checkpoint'] === 'string' ? ((run.config as Record<string, unknown>)['checkpoint'] as string) : undefined;
      const written = await exportStep({
        spec,
        subnet: point.config,
        ...(checkpoint !== undefined ? { checkpoint } : {}),
        out: join(exportDir, `${base}.tflite`),
        options: { description: `NetAdapt Studio ${run.network} run ${run.id} iteration ${point.iteration} (${checkpoint ? 'shared super-network' : 'random'} weights)` },
      });
      const note = checkpoint !== undefined
        ? `weights shared with the super-network (not trained on their own; held-out ${(point.score * 100).toFixed(1)}%): run the final training for a network to deploy`
        : 'random weights: the run has no trained checkpoint, so the model is only good for latency measurement';
      return this.register({ format: 'tflite', path: written.path, weights: checkpoint !== undefined ? 'checkpoint' : 'random', note });
    }

    if (params.format === 'json') {
      const view = architectureView(spec, point.config);
      const path = join(exportDir, `${base}.subnet.json`);
      const score = scoreKindOf(run);
      writeFileAtomically(path, `${JSON.stringify({ ...view.subnet, run: run.id, iteration: point.iteration, score: point.score, scoreLabel: score.label, resource: point.resource, unit: run.metricUnit }, null, 2)}\n`, 'the sub-network file');
      return this.register({ format: 'json', path });
    }

    // The HTML report: the pipeline's report step (core/search/report.ts), with the final training when there was one.
    const { files } = reportStep({
      store,
      runId: run.id,
      spec,
      scoreLabel: scoreKindOf(run).label,
      outputDir,
      ...(outputs.finalTraining ? { finalTraining: outputs.finalTraining } : {}),
    });
    const path = join(exportDir, `${base}-report.html`);
    copyFileSync(files.html, path);
    return this.register({ format: 'report', path });
  }

  /**
   * int8 (post-training full-integer quantization): the job's int8 export of the trained network when it made one,
   * else quantized now from the trained weights (or the shared super-network weights), calibrated on the run's
   * training images; without any weights nominal ranges (a model for latency measurement only).
   */
  private async exportInt8(run: RunRecord, point: TrajectoryPoint, outputs: RunOutputs | undefined, spec: NetworkSpec, out: string): Promise<ExportResult> {
    const made = outputs?.finalTraining?.int8;
    if (made && existsSync(made.int8Path)) {
      copyFileSync(made.int8Path, out);
      return this.register({ format: 'tflite-int8', path: out, weights: 'trained', note: `int8 of the trained network (${made.split} top-1 ${(made.int8.score * 100).toFixed(1)}% in LiteRT, float ${(made.float.score * 100).toFixed(1)}%)` });
    }
    const config = run.config as { checkpoint?: string; dataset?: string | Record<string, unknown> } | undefined;
    const trained = outputs?.finalTraining?.weightsPath;
    const weights = trained !== undefined && existsSync(trained) ? trained : config?.checkpoint;
    const dataset = weights !== undefined ? await openJobDataset(config?.dataset, `run ${run.id} has no dataset to calibrate an int8 model with`) : undefined;
    const written = await exportStep({ spec, subnet: point.config, ...(weights !== undefined ? { checkpoint: weights } : {}), out, int8: dataset ? { dataset } : {} });
    const source = weights === undefined ? 'random' : weights === trained ? 'trained' : 'checkpoint';
    const note = source === 'random'
      ? 'int8 with nominal ranges and random weights: only good for latency measurement'
      : `int8 of the ${source === 'trained' ? 'trained' : 'shared super-network'} weights, calibrated on ${written.calibrationImages} training images`;
    return this.register({ format: 'tflite-int8', path: out, weights: source, note });
  }

  private register(file: Omit<ExportResult, 'bytes' | 'downloadId' | 'fileName'>): ExportResult {
    const downloadId = randomUUID();
    const fileName = basename(file.path);
    this.downloads.set(downloadId, { path: file.path, fileName });
    return { ...file, fileName, bytes: statSync(file.path).size, downloadId };
  }

  async downloadInfo(params: ValidParamsOf<'downloadInfo'>): Promise<DownloadInfo> {
    const entry = this.downloads.get(params.downloadId);
    if (!entry || !existsSync(entry.path)) throw new NotFoundError('no such export (exports are kept while the app runs; export it again)');
    return { path: entry.path, fileName: entry.fileName, bytes: statSync(entry.path).size, contentType: contentTypeOf(entry.path) };
  }
}
