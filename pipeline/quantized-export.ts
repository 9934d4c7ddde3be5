/**
 * A sub-network exported as the model that ships, int8 and float side by side: the shared (or final-trained)
 * weights sliced to the sub-network (materialize), its activation ranges calibrated on images of the user's
 * training split with the same forward pass (calibrate.ts), batch norm folded, then both .tflite files written
 * from the same folded weights (core/export/network.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { SubnetConfig } from '../core/arch/index.ts';
import type { Dataset } from '../core/data/dataset.ts';
import { exportNetwork } from '../core/export/network.ts';
import type { QuantizedIo } from '../core/export/tflite/quantize.ts';
import type { ActivationRanges } from '../core/weights/activation-ranges.ts';
import { calibrateActivationRanges, calibrationBatches, type CalibrationOptions } from '../core/supernet/calibrate.ts';
import { materialize } from '../core/supernet/materialize.ts';
import { checkDatasetFits } from '../core/supernet/dataset-fit.ts';
import type { SupernetWeights } from '../core/supernet/weights.ts';

export interface QuantizedExportOptions {
  weights: SupernetWeights;
  /** Default: the full network. */
  subnet?: SubnetConfig;
  /** The user's dataset: calibration images come from its training split. */
  dataset: Dataset;
  /** Representative images for calibration (default 256). */
  calibrationImages?: number;
  calibration?: CalibrationOptions;
  /**
   * Recompute batch-norm statistics of the sub-network on this many training batches of 64 first (default 0: the
   * stored statistics, as the float export uses; the search's evaluator recalibrates 5 for shared weights).
   */
  bnRecalibrationBatches?: number;
  io?: QuantizedIo;
  /** Append SOFTMAX to a classifier (default true). */
  softmax?: boolean;
  seed?: number;
}

export interface QuantizedExport {
  int8: Uint8Array;
  float: Uint8Array;
  ranges: ActivationRanges;
  calibrationImages: number;
}

export function exportQuantized(options: QuantizedExportOptions): QuantizedExport {
  const { weights, dataset } = options;
  checkDatasetFits(weights.spec, dataset);
  const slim = materialize(weights, options.subnet);
  const count = options.calibrationImages ?? 256;
  const images = calibrationBatches(dataset, count, { ...(options.seed !== undefined ? { seed: options.seed } : {}) });
  const recalibration = options.bnRecalibrationBatches ?? 0;
  const bnBatches = recalibration > 0 ? calibrationBatches(dataset, recalibration * 64, { seed: (options.seed ?? 0) + 1, batchSize: 64 }) : [];
  try {
    if (bnBatches.length > 0) slim.recalibrate(bnBatches);
    const ranges = calibrateActivationRanges(slim, images, options.calibration ?? {});
    const folded = slim.foldedWeights();
    const network = slim.resolved;
    const common = { softmax: options.softmax !== false };
    const what = `${network.spec.name}, ${network.macs} MACs, ${network.params} params`;
    return {
      float: exportNetwork(network, folded, { ...common, description: `NetAdapt Studio: ${what}, float32` }),
      int8: exportNetwork(network, folded, {
        ...common,
        description: `NetAdapt Studio: ${what}, int8 (post-training, ${images.reduce((n, t) => n + (t.shape[0] as number), 0)} calibration images)`,
        quantization: { ranges, ...(options.io ? { io: options.io } : {}) },
      }),
      ranges,
      calibrationImages: images.reduce((n, t) => n + (t.shape[0] as number), 0),
    };
  } finally {
    tf.dispose([...images, ...bnBatches]);
    slim.dispose();
  }
}
