import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from '../core/random.ts';
import { openWorkspace } from '../core/store/workspace.ts';
import { LatencyStore } from '../latency/store/latency-store.ts';
import { LatencyTable } from '../latency/store/lut-memory.ts';

/**
 * How many sub-network latency estimates per second the in-memory table gives the search (target: >= 1M/s for
 * ~100-layer sub-networks). The table is built the real way: entries written to an in-memory workspace through
 * LatencyStore, then loaded with LatencyTable.fromStore.
 */
export interface LutEstimateBenchOptions {
  readonly tableEntries?: number;
  readonly layersPerSubnetwork?: number;
  readonly distinctSubnetworks?: number;
  readonly timedRuns?: number;
  /** Minimum wall time of one timed run (ms). */
  readonly minRunMs?: number;
  /** Where to write the JSON result; null to skip writing. */
  readonly outFile?: string | null;
  readonly quiet?: boolean;
}

export interface LutEstimateBenchResult {
  readonly benchmark: 'lut-estimate';
  readonly measuredAt: string;
  readonly node: string;
  readonly cpu: string;
  readonly tableEntries: number;
  readonly layersPerSubnetwork: number;
  readonly distinctSubnetworks: number;
  readonly timedRuns: number;
  /** Median over the timed runs, sub-network estimates per second, integer-id path (`estimateIds`). */
  readonly estimateIdsPerSecondMedian: number;
  /** Same, many sub-networks per call (`estimateIdsBatch`). */
  readonly estimateIdsBatchPerSecondMedian: number;
  /** Same, signature strings (`estimate`), for comparison. */
  readonly estimateBySignaturePerSecondMedian: number;
  readonly perRunEstimatesPerSecond: {
    readonly estimateIds: readonly number[];
    readonly estimateIdsBatch: readonly number[];
    readonly estimateBySignature: readonly number[];
  };
  readonly targetEstimatesPerSecond: number;
  readonly meetsTargetWithEstimateIds: boolean;
  /** Sum of all estimates of the last run (keeps the work observable; also a sanity value). */
  readonly checksumUs: number;
}

const DEFAULT_OUT = fileURLToPath(new URL('./results/lut-estimate.json', import.meta.url));
const TARGET = 1_000_000;

export function runLutEstimateBench(options: LutEstimateBenchOptions = {}): LutEstimateBenchResult {
  const tableEntries = options.tableEntries ?? 2_000;
  const layers = options.layersPerSubnetwork ?? 100;
  const subnetCount = options.distinctSubnetworks ?? 1_000;
  const timedRuns = options.timedRuns ?? 7;
  const minRunMs = options.minRunMs ?? 200;
  const rng = new Rng(20_240_601);

  const table = buildTable(tableEntries, rng);
  const ids = new Int32Array(subnetCount * layers);
  for (let i = 0; i < ids.length; i++) ids[i] = rng.int(table.size);
  const subnetIds = Array.from({ length: subnetCount }, (_, n) => ids.subarray(n * layers, (n + 1) * layers));
  const subnetSignatures = subnetIds.map((s) => Array.from(s, (id) => table.signatures[id] as string));
  const out = new Float64Array(subnetCount);

  let checksum = 0;
  const idsRun = (): number => {
    let sum = 0;
    for (const subnet of subnetIds) sum += table.estimateIds(subnet);
    checksum = sum;
    return subnetCount;
  };
  const batchRun = (): number => {
    table.estimateIdsBatch(ids, layers, out);
    return subnetCount;
  };
  const signatureRun = (): number => {
    let sum = 0;
    for (const subnet of subnetSignatures) sum += table.estimate(subnet);
    checksum = sum;
    return subnetCount;
  };

  // The three variants take turns inside every timed run, so a load spike on a shared machine hits all of them.
  const rates = timeInterleaved([idsRun, batchRun, signatureRun], timedRuns, minRunMs);
  const perRun = { estimateIds: rates[0] ?? [], estimateIdsBatch: rates[1] ?? [], estimateBySignature: rates[2] ?? [] };
  idsRun();
  const result: LutEstimateBenchResult = {
    benchmark: 'lut-estimate',
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    tableEntries: table.size,
    layersPerSubnetwork: layers,
    distinctSubnetworks: subnetCount,
    timedRuns,
    estimateIdsPerSecondMedian: medianOf(perRun.estimateIds),
    estimateIdsBatchPerSecondMedian: medianOf(perRun.estimateIdsBatch),
    estimateBySignaturePerSecondMedian: medianOf(perRun.estimateBySignature),
    perRunEstimatesPerSecond: perRun,
    targetEstimatesPerSecond: TARGET,
    meetsTargetWithEstimateIds: medianOf(perRun.estimateIds) >= TARGET,
    checksumUs: checksum,
  };
  if (!options.quiet) {
    const fmt = (n: number): string => `${(n / 1e6).toFixed(2)}M/s`;
    console.log(
      `lut-estimate: ${layers}-layer sub-networks, table of ${table.size} entries, median of ${timedRuns} runs: ` +
        `estimateIds ${fmt(result.estimateIdsPerSecondMedian)}, estimateIdsBatch ${fmt(result.estimateIdsBatchPerSecondMedian)}, ` +
        `estimate(signatures) ${fmt(result.estimateBySignaturePerSecondMedian)} (target ${fmt(TARGET)})`,
    );
  }
  const outFile = options.outFile === undefined ? DEFAULT_OUT : options.outFile;
  if (outFile !== null) {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result;
}

function buildTable(entries: number, rng: Rng): LatencyTable {
  const workspace = openWorkspace(':memory:');
  try {
    const store = new LatencyStore(workspace);
    const options = 'threads=1;mask=f0;runs=50;warmup=10';
    store.upsertDevice('bench-device', { model: 'bench' }, 'benchmark device');
    const ops = ['conv', 'dwconv', 'se', 'fc'];
    for (let i = 0; i < entries; i++) {
      const mean = 5 + rng.next() * 500;
      store.putEntry({
        deviceId: 'bench-device',
        runtimeOptions: options,
        signature: `v1;op=${ops[i % ops.length]};in=${8 + (i % 97)}x${8 + (i % 97)}x${16 + (i % 13)};f=${i};k=3;s=1`,
        count: 50,
        meanUs: mean,
        medianUs: mean,
        stdUs: mean * 0.02,
        minUs: mean * 0.9,
        maxUs: mean * 1.2,
      });
    }
    store.putModelMeasurement({ deviceId: 'bench-device', runtimeOptions: options, modelKey: 'm', measuredUs: 1_000, predictedSumUs: 900 });
    return LatencyTable.fromStore(store, 'bench-device', options);
  } finally {
    workspace.close();
  }
}

/**
 * For each of `runs` rounds, times every work function in turn, each repeated until at least `minRunMs` passed;
 * returns, per function, units per second of each round (after one warm-up round).
 */
function timeInterleaved(works: readonly (() => number)[], runs: number, minRunMs: number): number[][] {
  const rates = works.map(() => [] as number[]);
  for (let round = -1; round < runs; round++) {
    works.forEach((work, w) => {
      let units = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        units += work();
        elapsed = performance.now() - start;
      } while (elapsed < minRunMs);
      if (round >= 0) rates[w]?.push(Math.round((units / elapsed) * 1000));
    });
  }
  return rates;
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runLutEstimateBench();
}
