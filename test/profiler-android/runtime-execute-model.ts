/**
 * Plugs the host TFLite runtime (core/export/runtime/litert.ts, LiteRT compiled to wasm) into the emulated
 * device, so its benchmark_model really runs each pushed model and reports the measured times.
 */
import { loadTfliteRuntime } from '../../core/export/runtime/litert.ts';
import type { ExecuteModel } from './emulated-adbd.ts';

export async function liteRtExecuteModel(): Promise<ExecuteModel> {
  const runtime = await loadTfliteRuntime();
  return async (bytes, { runs }) => {
    if (runs === 0) return [];
    const model = await runtime.load(bytes);
    try {
      return (await model.benchmark({ warmup: 0, runs })).timesUs;
    } finally {
      model.close();
    }
  };
}
