/**
 * The export step: a (sub-)network as a .tflite model, with the trained weights of a checkpoint folder (sliced and BN
 * folded) or random weights of the right shapes (good only for latency measurement). Every face exports through it.
 * int8: post-training full-integer quantization; with a checkpoint the activation ranges are calibrated on the
 * dataset's training images (pipeline/quantized-export.ts), with random weights nominal ranges give the int8 graph a
 * latency measurement needs.
 */
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import { resolveNetwork } from '../../core/arch/index.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import { ValidationError } from '../../core/errors.ts';
import { exportNetwork, NOMINAL_RANGES, type ExportOptions } from '../../core/export/network.ts';
import { randomFoldedWeights } from '../../core/export/random-weights.ts';
import { writeFileAtomically } from '../../core/fs-errors.ts';
import type { QuantizedIo } from '../../core/export/tflite/quantize.ts';
import type { CalibrationOptions } from '../../core/supernet/calibrate.ts';

export interface Int8ExportSettings {
  /** Calibration images come from its training split (needed with a checkpoint). */
  dataset?: Dataset;
  calibrationImages?: number;
  calibration?: CalibrationOptions;
  io?: QuantizedIo;
}

export interface ExportStepInput {
  spec: NetworkSpec;
  subnet?: SubnetConfig;
  /** Checkpoint folder of the weights; absent: random weights from `seed`. */
  checkpoint?: string;
  seed?: number;
  out: string;
  options?: Omit<ExportOptions, 'quantization'>;
  /** Write a full-integer int8 model. */
  int8?: Int8ExportSettings;
}

export interface ExportStepResult {
  path: string;
  bytes: number;
  macs: number;
  params: number;
  weights: 'checkpoint' | 'random';
  dtype: 'float32' | 'int8';
  /** int8 with a checkpoint: how many images calibrated the ranges (0: nominal ranges). */
  calibrationImages: number;
}

export async function exportStep(input: ExportStepInput): Promise<ExportStepResult> {
  const network = resolveNetwork(input.spec, input.subnet);
  let bytes: Uint8Array;
  let calibrationImages = 0;
  if (input.int8 && input.checkpoint !== undefined) {
    const exported = await calibratedInt8(input, input.checkpoint, input.int8);
    bytes = exported.int8;
    calibrationImages = exported.calibrationImages;
  } else {
    let weights;
    if (input.checkpoint !== undefined) {
      const { loadCheckpointWeights } = await import('../../core/supernet/checkpoint-weights.ts');
      weights = await loadCheckpointWeights(input.checkpoint, input.spec, input.subnet);
    } else {
      weights = randomFoldedWeights(network, input.seed ?? 1);
    }
    const quantization = input.int8 ? { quantization: { ranges: NOMINAL_RANGES, ...(input.int8.io ? { io: input.int8.io } : {}) } } : {};
    bytes = exportNetwork(network, weights, { ...(input.options ?? {}), ...quantization });
  }
  writeFileAtomically(input.out, bytes, 'the model file');
  return {
    path: input.out,
    bytes: bytes.byteLength,
    macs: network.macs,
    params: network.params,
    weights: input.checkpoint !== undefined ? 'checkpoint' : 'random',
    dtype: input.int8 ? 'int8' : 'float32',
    calibrationImages,
  };
}

async function calibratedInt8(input: ExportStepInput, checkpoint: string, settings: Int8ExportSettings) {
  if (!settings.dataset) throw new ValidationError('an int8 export of trained weights needs the dataset they were trained on: its images calibrate the activation ranges');
  const [{ initBackend }, { loadSupernetWeights }, { exportQuantized }] = await Promise.all([
    import('../../core/tensor/backend.ts'),
    import('../../core/supernet/evaluate.ts'),
    import('../quantized-export.ts'),
  ]);
  await initBackend();
  const weights = loadSupernetWeights(checkpoint, input.spec);
  try {
    return exportQuantized({
      weights,
      dataset: settings.dataset,
      ...(input.subnet ? { subnet: input.subnet } : {}),
      ...(settings.calibrationImages !== undefined ? { calibrationImages: settings.calibrationImages } : {}),
      ...(settings.calibration ? { calibration: settings.calibration } : {}),
      ...(settings.io ? { io: settings.io } : {}),
      ...(input.options?.softmax !== undefined ? { softmax: input.options.softmax } : {}),
    });
  } finally {
    weights.dispose();
  }
}
