/** Latency tables: coverage of a network's layers per device, building a table (resumable), validating it. */
import { networkSignatures, resolveNetwork } from '../../../core/arch/index.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import type { DelegateName, LatencyCoverage, LatencyTableBuild, LatencyValidationSummary } from '../contract/types.ts';
import type { JobContext } from '../engine.ts';
import {
  buildWithStore,
  validateWithStore,
  type LatencyBuildOutcome,
  type LatencyBuildTask,
  type LatencyValidateTask,
  type LatencyValidation,
  type ProfilerTarget,
} from '../jobs/latency-table.ts';
import { runJobInWorker } from '../worker-runner.ts';
import { loadZooNetwork, type EngineContext } from './context.ts';

export class LatencyOperations {
  constructor(private readonly ctx: EngineContext) {}

  async latencyCoverage(params: ValidParamsOf<'latencyCoverage'>): Promise<LatencyCoverage> {
    const spec = loadZooNetwork(params.network);
    const signatures = [...new Set(networkSignatures(resolveNetwork(spec).layers))];
    const store = this.ctx.latencyStore();
    const devices = store.listDevices().filter((d) => params.deviceId === undefined || d.id === params.deviceId);
    const rows = [];
    for (const device of devices) {
      const tables = store.listTables(device.id);
      for (const table of tables.length > 0 ? tables : [{ runtimeOptions: '' }]) {
        const coverage = store.coverage(device.id, table.runtimeOptions, signatures);
        const failed = store.failedSignatures(device.id, table.runtimeOptions, signatures).size;
        rows.push({ deviceId: device.id, deviceLabel: device.label, runtimeOptions: table.runtimeOptions, ...coverage, failed });
      }
    }
    return { network: spec.name, rows };
  }

  async buildLatencyTable(params: ValidParamsOf<'buildLatencyTable'>, job: JobContext): Promise<LatencyTableBuild> {
    loadZooNetwork(params.network);
    if (!params.resume) {
      job.emit({ kind: 'log', level: 'warn', message: 'entries already in the table are kept (re-measuring them is not supported yet); measuring the missing ones' });
    }
    const task: LatencyBuildTask = {
      ...this.profilerTarget(params.deviceId, params.runtime, params.warmupRuns, params.runs),
      workspacePath: this.ctx.workspacePath,
      network: params.network,
      retryFailed: params.retryFailed,
      ...(params.levels ? { levels: params.levels } : {}),
      ...(params.kernels ? { kernels: params.kernels } : {}),
    };
    const outcome = this.ctx.inMemory
      ? await buildWithStore(task, this.ctx.latencyStore(), job)
      : ((await runJobInWorker({ job: 'buildLatencyTable', params: task }, job, { workerUrl: this.ctx.options.workerUrl, cancelGraceMs: 30_000 })) as LatencyBuildOutcome);
    if (outcome.failed > 0) {
      job.emit({ kind: 'log', level: 'warn', message: `${outcome.failed} entries failed: ${outcome.failures.map((f) => `${f.signature}: ${f.message}`).slice(0, 3).join('; ')}` });
    }
    const coverage = await this.latencyCoverage({ network: params.network, deviceId: outcome.deviceId });
    return {
      ...coverage,
      build: {
        deviceId: outcome.deviceId,
        runtimeOptions: outcome.runtimeOptions,
        total: outcome.total,
        alreadyPresent: outcome.alreadyPresent,
        measured: outcome.measured,
        failed: outcome.failed,
        skippedFailed: outcome.skippedFailed,
        notRun: outcome.notRun,
        cancelled: outcome.cancelled,
        failures: outcome.failures,
        interruptions: outcome.interruptions,
      },
    };
  }

  async validateLatencyTable(params: ValidParamsOf<'validateLatencyTable'>, job: JobContext): Promise<LatencyValidationSummary> {
    loadZooNetwork(params.network);
    const task: LatencyValidateTask = {
      ...this.profilerTarget(params.deviceId, params.runtime, params.warmupRuns, params.runs),
      workspacePath: this.ctx.workspacePath,
      network: params.network,
      samples: params.samples,
      seed: params.seed,
    };
    const result = this.ctx.inMemory
      ? await validateWithStore(task, this.ctx.latencyStore(), job)
      : ((await runJobInWorker({ job: 'validateLatencyTable', params: task }, job, { workerUrl: this.ctx.options.workerUrl, cancelGraceMs: 30_000 })) as LatencyValidation);
    return {
      ...result,
      pairs: result.pairs.map((p) => ({
        subnet: p.subnet,
        macs: p.macs,
        predictedUs: p.predictedUs,
        measuredUs: p.measuredUs,
        relativeError: p.relativeError,
        calibration: p.calibration,
      })),
    };
  }

  /** The profiler to open for a device id of the API ('host' or an adb serial) and runtime options. */
  private profilerTarget(deviceId: string, runtime?: { threads: number; cores: number[]; delegate: DelegateName; dtype?: 'float32' | 'int8' }, warmupRuns?: number, numRuns?: number): ProfilerTarget {
    const { adbHost, adbPort } = this.ctx.options;
    return {
      deviceId,
      ...(runtime ? { delegate: runtime.delegate } : {}),
      ...(adbHost !== undefined ? { adbHost } : {}),
      ...(adbPort !== undefined ? { adbPort } : {}),
      ...(runtime ? { threads: runtime.threads } : {}),
      ...(runtime?.dtype ? { dtype: runtime.dtype } : {}),
      ...(runtime && runtime.cores.length > 0 ? { cpuMask: runtime.cores.reduce((mask, core) => mask | (1 << core), 0).toString(16) } : {}),
      ...(warmupRuns !== undefined ? { warmupRuns } : {}),
      ...(numRuns !== undefined ? { numRuns } : {}),
    };
  }
}
