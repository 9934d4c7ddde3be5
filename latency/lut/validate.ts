/**
 * LUT accuracy: random sub-networks, latency predicted from the table (per-layer sum + per-model overhead) vs the
 * whole sub-network measured on the same device.
 *
 * The overhead is fitted on a calibration half of the samples (median of measured − sum, recorded in the store as
 * whole-model measurements) and the errors are reported on the other half, so the reported error is out-of-sample.
 */
import { networkSignatures } from '../../core/arch/signature.ts';
import { randomSubnet, subnetKey } from '../../core/arch/subnet.ts';
import { resolveNetwork, searchSpace } from '../../core/arch/resolve.ts';
import type { NetworkSpec } from '../../core/arch/spec.ts';
import { exportNetwork, NOMINAL_RANGES } from '../../core/export/network.ts';
import { randomFoldedWeights } from '../../core/export/random-weights.ts';
import { UserError } from '../../core/errors.ts';
import { stableId } from '../../core/hash.ts';
import { Rng } from '../../core/random.ts';
import { quantileOfSorted } from '../../core/stats.ts';
import type { Profiler } from '../profiler.ts';
import type { LatencyStore } from '../store/latency-store.ts';
import { StoreLatencySource } from './lazy-source.ts';
import { modelDtypeOf } from '../store/runtime-options.ts';
import type { LutBuildProgress } from './build.ts';

export interface ValidationPair {
  subnet: string;
  macs: number;
  layerSumUs: number;
  predictedUs: number;
  measuredUs: number;
  relativeError: number;
  calibration: boolean;
}

export interface ValidationResult {
  pairs: ValidationPair[];
  /** Wall time of the measurements (missing table entries and whole sub-networks). */
  seconds: number;
  overheadUs: number;
  medianRelativeError: number;
  p90RelativeError: number;
  evaluated: number;
}

const WHOLE_KEY = 'whole-subnetwork:';

export async function validateLatencyTable(options: {
  spec: NetworkSpec;
  profiler: Profiler;
  store: LatencyStore;
  samples: number;
  seed?: number;
  onProgress?: (message: string) => void;
  onLutProgress?: (progress: LutBuildProgress) => void;
}): Promise<ValidationResult> {
  const { spec, profiler, store, samples } = options;
  const source = new StoreLatencySource({
    spec,
    store,
    deviceId: profiler.deviceId,
    runtimeOptions: profiler.runtimeOptions,
    profiler,
    ...(options.onLutProgress ? { onProgress: options.onLutProgress } : {}),
  });
  const space = searchSpace(spec);
  const rng = new Rng(options.seed ?? 1);
  const configs = Array.from({ length: Math.max(2, samples) }, () => randomSubnet(space, rng));
  const networks = configs.map((config) => resolveNetwork(spec, config));
  const signatureLists = networks.map((n) => networkSignatures(n.layers));
  // The whole sub-networks are measured in the same batch as the entries the table still lacks, interleaved
  // round-robin by the host profiler, so a slow phase of a shared machine hits both alike.
  const measured = new Map<string, number>();
  // An int8 table is validated against whole int8 sub-networks (float edges, as shipped).
  const quantization = modelDtypeOf(profiler.runtimeOptions) === 'int8' ? { quantization: { ranges: NOMINAL_RANGES } } : {};
  const models = networks.map((network, i) => ({ key: `${WHOLE_KEY}${i}`, bytes: exportNetwork(network, randomFoldedWeights(network, 7), quantization) }));
  const started = performance.now();
  await source.profileMissing(signatureLists.flat(), {
    models,
    onResult: (key, m) => {
      measured.set(key.slice(WHOLE_KEY.length), m.meanUs);
      options.onProgress?.(`measured ${measured.size}/${models.length} whole sub-networks`);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (measured.size < models.length) {
    throw new UserError(`only ${measured.size} of ${models.length} whole sub-networks could be measured on ${profiler.label}; run validate again`);
  }
  const calibrationCount = Math.floor(configs.length / 2);
  const sums = signatureLists.map((list) => source.estimate(list));
  for (let i = 0; i < calibrationCount; i++) {
    store.putModelMeasurement({
      deviceId: profiler.deviceId,
      runtimeOptions: profiler.runtimeOptions,
      modelKey: `${spec.name}:${stableId(subnetKey(configs[i]!))}`,
      measuredUs: measured.get(String(i)) as number,
      predictedSumUs: sums[i] as number,
    });
  }
  const overheadUs = source.overheadUs();
  const pairs: ValidationPair[] = configs.map((config, i) => {
    const measuredUs = measured.get(String(i)) as number;
    const predictedUs = (sums[i] as number) + overheadUs;
    return {
      subnet: subnetKey(config),
      macs: networks[i]!.macs,
      layerSumUs: sums[i] as number,
      predictedUs,
      measuredUs,
      relativeError: Math.abs(predictedUs - measuredUs) / measuredUs,
      calibration: i < calibrationCount,
    };
  });
  const errors = pairs.filter((p) => !p.calibration).map((p) => p.relativeError).sort((a, b) => a - b);
  return {
    pairs,
    seconds,
    overheadUs,
    medianRelativeError: quantileOfSorted(errors, 0.5),
    p90RelativeError: quantileOfSorted(errors, 0.9),
    evaluated: errors.length,
  };
}
