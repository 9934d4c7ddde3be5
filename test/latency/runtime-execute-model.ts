/**
 * Plugs the host TFLite runtime (core/export/runtime/litert.ts, LiteRT compiled to wasm) into the emulated
 * device, so its benchmark_model really runs each pushed model and reports the measured times.
 */
import { loadTfliteRuntime } from '../../core/export/runtime/litert.ts';
import type { ExecuteModel, OpenModel } from './android/emulated/adbd.ts';

/** Loads the model for every call (each benchmark phase pays a load). */
export async function liteRtExecuteModel(): Promise<ExecuteModel> {
  const open = await liteRtOpenModel();
  return async (bytes, { runs, threads, affinity }) => {
    if (runs === 0) return [];
    const model = await open(bytes, { threads, affinity });
    try {
      return await model.execute(runs);
    } finally {
      model.close();
    }
  };
}

/** Like the real benchmark_model: load once (the Init), then warm-up and timed runs on the loaded model. */
export async function liteRtOpenModel(): Promise<OpenModel> {
  const runtime = await loadTfliteRuntime();
  return async (bytes) => {
    const model = await runtime.load(bytes);
    return {
      execute: async (runs) => (runs === 0 ? [] : (await model.benchmark({ warmup: 0, runs })).timesUs),
      close: () => model.close(),
    };
  };
}
