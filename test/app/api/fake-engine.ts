/** A fake Engine for server and transport tests: answers from memory, jobs driven by the test. */
import type { Engine, JobContext } from '../../../app/api/engine.ts';
import { NotAvailableError } from '../../../app/api/errors.ts';
import type { ArchitectureView, RunSummary } from '../../../app/api/contract/types.ts';

export interface FakeEngine extends Engine {
  calls: { method: string; params: unknown }[];
  /** Resolves the running search job. */
  finishSearch?: (run: RunSummary) => void;
}

const notAvailable = (op: string) => async () => {
  throw new NotAvailableError(op, 'a test module');
};

export function createFakeEngine(): FakeEngine {
  const calls: FakeEngine['calls'] = [];
  const engine: FakeEngine = {
    calls,
    serverInfo: async () => ({ version: 'test', workspace: ':memory:', unavailable: [] }),
    listDevices: async () => ({ devices: [], adb: { available: false, message: 'no adb in tests' } }),
    deviceInfo: notAvailable('deviceInfo'),
    deviceSetup: notAvailable('deviceSetup'),
    watchDevices: async (_params, ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      return null;
    },
    listNetworks: async () => [],
    getArchitecture: async (params) => {
      calls.push({ method: 'getArchitecture', params });
      if (params.network === 'boom') throw new Error('something broke inside');
      return { network: params.network } as ArchitectureView;
    },
    sampleSearchSpace: notAvailable('sampleSearchSpace'),
    latencyCoverage: notAvailable('latencyCoverage'),
    buildLatencyTable: notAvailable('buildLatencyTable'),
    validateLatencyTable: notAvailable('validateLatencyTable'),
    trainSupernet: notAvailable('trainSupernet'),
    listCheckpoints: async () => [],
    checkCheckpoint: notAvailable('checkCheckpoint'),
    startSearch: (params, ctx: JobContext) => {
      calls.push({ method: 'startSearch', params });
      ctx.emit({ kind: 'run-created', runId: 'r1' });
      ctx.emit({ kind: 'progress', phase: 'searching', done: 0, total: 1 });
      return new Promise<RunSummary>((resolve, reject) => {
        engine.finishSearch = resolve;
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
      });
    },
    resumeSearch: notAvailable('resumeSearch'),
    pauseSearch: notAvailable('pauseSearch'),
    cancelSearch: notAvailable('cancelSearch'),
    listRuns: async () => [],
    getRun: async (params) => {
      calls.push({ method: 'getRun', params });
      return { runId: params.runId } as never;
    },
    exportResult: notAvailable('exportResult'),
    downloadInfo: notAvailable('downloadInfo'),
    dispose: async () => {},
  };
  return engine;
}
