/**
 * What every part of the default engine shares: its options, the workspace (opened once, lazily), the stores over
 * it, the adb bridge, and where files go (checkpoints, run outputs, exports) — all next to the workspace file.
 */
import { dirname, join, resolve } from 'node:path';
import { loadNetwork, zooNames, type NetworkSpec } from '../../../core/arch/index.ts';
import { SqliteRunStore } from '../../../core/search/run-store.ts';
import type { RunRecord } from '../../../core/search/types.ts';
import { defaultWorkspacePath, openWorkspace, type Workspace } from '../../../core/store/workspace.ts';
import { DeviceBridge } from '../../../latency/android/device/bridge.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { NotFoundError } from '../errors.ts';
import { runOutputDir } from '../paths.ts';

export interface DefaultEngineOptions {
  /** The workspace SQLite file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite); ':memory:' for tests. */
  workspacePath?: string;
  /** adb server port (default $ANDROID_ADB_SERVER_PORT or 5037): tests point it at an emulated adb server. */
  adbPort?: number;
  adbHost?: string;
  /** adb binary used to start the adb server when none answers (default "adb" on PATH). */
  adbBin?: string;
  /** Where exports are written (default: `exports/` next to the workspace file). */
  exportDir?: string;
  /** The job worker entry (bundled builds pass their compiled job-worker.js). */
  workerUrl?: URL;
  /** The benchmark_model binary deviceSetup pushes (default $NETADAPT_BENCHMARK_TOOL). */
  benchmarkToolPath?: string;
}

export class EngineContext {
  readonly options: DefaultEngineOptions;
  readonly workspacePath: string;
  private opened: Workspace | undefined;
  private latency: LatencyStore | undefined;
  private runs: SqliteRunStore | undefined;
  private bridge: DeviceBridge | undefined;

  constructor(options: DefaultEngineOptions) {
    this.options = options;
    this.workspacePath = options.workspacePath === ':memory:' ? ':memory:' : resolve(options.workspacePath ?? defaultWorkspacePath());
  }

  get inMemory(): boolean {
    return this.workspacePath === ':memory:';
  }

  workspace(): Workspace {
    this.opened ??= openWorkspace(this.workspacePath);
    return this.opened;
  }

  latencyStore(): LatencyStore {
    this.latency ??= new LatencyStore(this.workspace());
    return this.latency;
  }

  runStore(): SqliteRunStore {
    this.runs ??= new SqliteRunStore(this.workspace());
    return this.runs;
  }

  deviceBridge(): DeviceBridge {
    this.bridge ??= new DeviceBridge({ port: this.options.adbPort, host: this.options.adbHost, bin: this.options.adbBin });
    return this.bridge;
  }

  requireRun(runId: string): RunRecord {
    const run = this.runStore().getRun(runId);
    if (!run) throw new NotFoundError(`no run "${runId}" in the workspace ${this.workspacePath}`);
    return run;
  }

  /** The folder next to the workspace file. */
  dataDir(): string {
    return this.inMemory ? resolve('.') : dirname(this.workspacePath);
  }

  exportDir(): string {
    return this.options.exportDir ? resolve(this.options.exportDir) : join(this.dataDir(), 'exports');
  }

  /** Super-network trainings of the app, one folder each. */
  checkpointsDir(): string {
    return join(this.dataDir(), 'checkpoints');
  }

  /** A search run's outputs (network.json, reports, final training, trained .tflite). */
  runOutputDir(runId: string): string {
    return runOutputDir(this.workspacePath, runId);
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
    this.latency = undefined;
    this.runs = undefined;
  }
}

/** Networks of the API are zoo names (a path would let a client read any JSON file on this computer). */
export function loadZooNetwork(name: string): NetworkSpec {
  if (!zooNames().includes(name)) {
    throw new NotFoundError(`unknown network "${name}"`, [`zoo networks: ${zooNames().join(', ')}`]);
  }
  return loadNetwork(name);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
