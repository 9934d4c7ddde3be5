/**
 * Builds the tiny network's latency table on an adb device, for the kill -9 test in android-lut.test.ts:
 *   node --import tsx test/latency/lut/android-lut-build.ts --adb-port P --serial S --workspace W [--batch N]
 * Prints one JSON line with the build result when done.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseNetworkSpec } from '../../../core/arch/index.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createAndroidProfiler } from '../../../latency/android/android-profiler.ts';
import { buildLatencyTable } from '../../../latency/lut/build.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';
import { tinyLutNetwork } from './tiny-network.ts';

/** Runs and warm-up runs shared with the test's CLI rerun, so both write the same table. */
export const CHILD_RUNS = 3;
export const CHILD_WARMUP = 1;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'adb-port': { type: 'string' }, serial: { type: 'string' }, workspace: { type: 'string' }, batch: { type: 'string', default: '4' } },
  });
  if (!values['adb-port'] || !values.serial || !values.workspace) throw new Error('usage: --adb-port P --serial S --workspace W [--batch N]');
  const workspace = openWorkspace(values.workspace);
  try {
    const store = new LatencyStore(workspace);
    const profiler = await createAndroidProfiler({ serial: values.serial, adbPort: Number(values['adb-port']), numRuns: CHILD_RUNS, warmupRuns: CHILD_WARMUP });
    const result = await buildLatencyTable({ spec: parseNetworkSpec(tinyLutNetwork), profiler, store, batchSize: Number(values.batch) });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    workspace.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
