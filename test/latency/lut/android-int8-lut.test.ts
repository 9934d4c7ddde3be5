// An int8 latency table built through adbkit → a real adb server → the emulated phone, whose benchmark_model runs
// every pushed model in the host TFLite runtime: the int8 table is a table of its own next to the float one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, invokeOverheadSignature, parseNetworkSpec } from '../../../core/arch/index.ts';
import { sha256Hex } from '../../../core/hash.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import { invokeOverheadModel, layerModel } from '../../../latency/lut/layer-models.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { modelDtypeOf } from '../../../latency/store/runtime-options.ts';
import { adbBinary, adbSkipReason, AdbTestEnvironment } from '../android/adb-harness.ts';
import { liteRtOpenModel } from '../runtime-execute-model.ts';
import { tinyLutNetwork } from './tiny-network.ts';

if (!adbBinary) console.warn(`android-int8-lut.test.ts: ${adbSkipReason}`);

const spec = parseNetworkSpec(tinyLutNetwork);
const layers = enumerateLayerVariants(spec);

describe.skipIf(!adbBinary)('int8 latency table on an emulated phone', () => {
  let env: AdbTestEnvironment;
  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ openModel: await liteRtOpenModel() });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('is keyed apart from the float table of the same phone and holds the int8 models\' measurements', async () => {
    const workspace = openWorkspace(':memory:');
    try {
      const store = new LatencyStore(workspace);
      const options = { adbPort: env.adbPort, serial: env.serial, numRuns: 3, warmupRuns: 1 };
      const float = await createAndroidProfiler(options);
      const int8 = await createAndroidProfiler({ ...options, dtype: 'int8' });
      expect(int8.deviceId).toBe(float.deviceId);
      expect(int8.runtimeOptions).not.toBe(float.runtimeOptions);
      expect(modelDtypeOf(int8.runtimeOptions)).toBe('int8');
      expect(modelDtypeOf(float.runtimeOptions)).toBe('float32');

      const floatBuild = await buildLatencyTable({ spec, profiler: float, store, batchSize: 16 });
      const int8Build = await buildLatencyTable({ spec, profiler: int8, store, batchSize: 16 });
      // The float table does not count for the int8 one: every entry is measured again, as int8.
      expect(int8Build).toMatchObject({ total: floatBuild.total, alreadyPresent: 0, measured: floatBuild.total, failed: [] });
      expect(store.listTables(float.deviceId).map((t) => t.runtimeOptions).sort()).toEqual([float.runtimeOptions, int8.runtimeOptions].sort());

      const entries = new Map(store.tableEntries(int8.deviceId, int8.runtimeOptions).map((e) => [e.signature, e]));
      const floatEntries = new Map(store.tableEntries(float.deviceId, float.runtimeOptions).map((e) => [e.signature, e]));
      for (const [signature, layer] of layers) {
        const expected = sha256Hex(layerModel(layer, 'int8').bytes);
        expect(entries.get(signature)?.modelSha256, signature).toBe(expected);
        expect(floatEntries.get(signature)?.modelSha256, signature).not.toBe(expected);
        expect(entries.get(signature)?.meanUs).toBeGreaterThan(0);
        const overhead = invokeOverheadSignature(signature);
        expect(entries.get(overhead)?.modelSha256).toBe(sha256Hex(invokeOverheadModel(signature, 'int8').bytes));
      }
      // Building the int8 table again finds it complete.
      expect(await buildLatencyTable({ spec, profiler: int8, store })).toMatchObject({ alreadyPresent: int8Build.total, measured: 0 });
    } finally {
      workspace.close();
    }
  }, 120_000);
});
