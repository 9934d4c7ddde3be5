/**
 * Step 4 (after the final training): the model that ships. The discovered network's trained weights exported as int8
 * (post-training full-integer quantization, calibrated on training images) and as float, both scored in LiteRT on
 * the test split (exportAndScoreInt8); the result goes into the final-training summary and the reports. Files are
 * written to a temporary name and renamed, so an interrupted step leaves either nothing or complete files; running
 * it again redoes it.
 * It runs when the configuration has "int8", or by default when the search used an int8 latency table.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import type { Dataset, SplitName } from '../../core/data/dataset.ts';
import type { Int8Summary } from '../../core/search/result.ts';
import type { CalibrationOptions } from '../../core/supernet/calibrate.ts';
import type { Evaluation } from '../../core/supernet/evaluate.ts';
import type { SearchConfig } from '../config.ts';
import { openJobDataset } from '../dataset.ts';
import type { PipelineListener } from '../events.ts';

export function int8StepWanted(config: SearchConfig): boolean {
  if (config.int8) return config.int8.enabled;
  const int8Latency = config.latency?.dtype === 'int8' || (config.deviceTargets ?? []).some((t) => t.dtype === 'int8');
  return int8Latency && config.finalTraining !== undefined;
}

export async function runInt8Step(input: {
  config: SearchConfig;
  spec: NetworkSpec;
  subnet: SubnetConfig;
  /** The final training's weights (a super-network checkpoint folder). */
  weightsPath: string;
  outputDir: string;
  onEvent?: PipelineListener;
}): Promise<Int8Summary> {
  const { config } = input;
  input.onEvent?.({ type: 'phase', phase: 'int8', status: 'started', message: 'int8 and float .tflite of the trained network, scored in LiteRT' });
  const dataset = await openJobDataset(config.dataset, '"int8" needs "dataset" (calibration images and the test split)');
  const settings = config.int8;
  const result = await exportAndScoreInt8({
    checkpointDir: input.weightsPath,
    spec: input.spec,
    subnet: input.subnet,
    dataset,
    outDir: input.outputDir,
    ...(settings?.calibrationImages !== undefined ? { calibrationImages: settings.calibrationImages } : {}),
    ...(settings?.calibration ? { calibration: { method: settings.calibration, ...(settings.percentile !== undefined ? { percentile: settings.percentile } : {}) } } : {}),
  });
  input.onEvent?.({
    type: 'phase',
    phase: 'int8',
    status: 'done',
    message: `${result.split} score int8 ${result.int8.score.toFixed(4)}, float ${result.float.score.toFixed(4)} (LiteRT)`,
  });
  const { int8Path, floatPath, int8Bytes, floatBytes, calibrationImages, split, float, int8 } = result;
  return { int8Path, floatPath, int8Bytes, floatBytes, calibrationImages, split, float, int8 };
}

export interface Int8StepOptions {
  /** Super-network checkpoint folder of the weights (the final training's `weightsPath`). */
  checkpointDir: string;
  spec: NetworkSpec;
  subnet?: SubnetConfig;
  dataset: Dataset;
  outDir: string;
  calibrationImages?: number;
  calibration?: CalibrationOptions;
  /** Score at most this many images. */
  limit?: number;
  onProgress?: (message: string) => void;
}

export interface Int8StepResult {
  int8Path: string;
  floatPath: string;
  int8Bytes: number;
  floatBytes: number;
  calibrationImages: number;
  split: SplitName;
  float: Evaluation;
  int8: Evaluation;
}

export async function exportAndScoreInt8(options: Int8StepOptions): Promise<Int8StepResult> {
  const { dataset } = options;
  const [{ loadSupernetWeights }, { exportQuantized }, { scoreTfliteModel }] = await Promise.all([
    import('../../core/supernet/evaluate.ts'),
    import('../quantized-export.ts'),
    import('../tflite-score.ts'),
  ]);
  const weights = loadSupernetWeights(options.checkpointDir, options.spec);
  let exported;
  try {
    options.onProgress?.('calibrating the int8 model');
    exported = exportQuantized({
      weights,
      dataset,
      ...(options.subnet ? { subnet: options.subnet } : {}),
      ...(options.calibrationImages !== undefined ? { calibrationImages: options.calibrationImages } : {}),
      ...(options.calibration ? { calibration: options.calibration } : {}),
    });
  } finally {
    weights.dispose();
  }
  const int8Path = join(options.outDir, 'network-int8.tflite');
  const floatPath = join(options.outDir, 'network-float.tflite');
  writeAtomically(int8Path, exported.int8);
  writeAtomically(floatPath, exported.float);
  const split: SplitName = dataset.splitNames.includes('test') && dataset.split('test').size > 0 ? 'test' : 'heldout';
  const score = (bytes: Uint8Array, what: string) =>
    scoreTfliteModel(bytes, dataset, {
      split,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      onProgress: (done, total) => options.onProgress?.(`scoring the ${what} model in LiteRT: ${done}/${total}`),
    });
  const float = await score(exported.float, 'float');
  const int8 = await score(exported.int8, 'int8');
  return {
    int8Path,
    floatPath,
    int8Bytes: exported.int8.length,
    floatBytes: exported.float.length,
    calibrationImages: exported.calibrationImages,
    split,
    float,
    int8,
  };
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.partial`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
}
