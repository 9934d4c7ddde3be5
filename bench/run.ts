/**
 * `npm run bench`: every benchmark of the project in one run, each printing ratios measured side by side and writing
 * bench/results/<benchmark>.json. Select some with arguments: `npm run bench -- lut-estimate supernet`.
 */
interface Bench {
  name: string;
  run: () => Promise<unknown>;
}

const benches: Bench[] = [
  { name: 'tensor-backends', run: async () => (await import('./tensor-backends.ts')).runTensorBackendBench() },
  { name: 'supernet', run: async () => (await import('./supernet.ts')).runSupernetBench() },
  { name: 'adb-batching', run: async () => (await import('./adb-batching.ts')).runAdbBatchingBench() },
  { name: 'lut-estimate', run: async () => (await import('./lut-estimate.ts')).runLutEstimateBench() },
  // int8 tables, int8 vs float latency, and a search on int8 latency with a trained demo super-network (~15 min).
  { name: 'int8', run: async () => (await import('./int8.ts')).runInt8Bench([]) },
  // The paper's ablations with trained super-networks (~75 min on 2 cores: (c) alone ~40 min) and the ranking bench
  // (~17 min).
  { name: 'ablation', run: async () => (await import('./ablation.ts')).runAblationBench() },
  { name: 'ranking', run: async () => (await import('./ranking.ts')).runRankingBench() },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const bench of benches) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  console.log(`\n=== ${bench.name} ===`);
  const started = performance.now();
  try {
    await bench.run();
    console.log(`(${bench.name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.error(`${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
