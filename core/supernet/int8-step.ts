/**
 * The int8 step of a job: the discovered (final-trained) network exported as int8 and as float, both scored in
 * LiteRT on the test split (held-out when the dataset has none), so the report shows the accuracy of the file that
 * ships next to the float one. Files are written to a temporary name and renamed, so an interrupted step leaves
 * either nothing or complete files; running it again redoes it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../arch/index.ts';
import type { Dataset, SplitName } from '../data/dataset.ts';
import type { CalibrationOptions } from './calibrate.ts';
import { loadSupernetWeights, type Evaluation } from './evaluate.ts';
import { scoreTfliteModel } from './evaluate-tflite.ts';
import { exportQuantized } from './export-int8.ts';

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
