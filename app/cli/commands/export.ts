import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadNetwork, parseSubnet, readJsonFile, resolveNetwork } from '../../../core/arch/index.ts';
import { ValidationError } from '../../../core/errors.ts';
import { exportNetwork, NOMINAL_RANGES } from '../../../core/export/network.ts';
import { randomFoldedWeights } from '../../../core/export/random-weights.ts';
import { loadCheckpointWeights } from '../../../core/export/checkpoint-weights.ts';

interface ExportOptions {
  network: string;
  subnet?: string;
  weights?: string;
  seed: string;
  softmax: boolean;
  out: string;
  int8?: boolean;
  data?: string;
  calibrationImages: string;
  calibration: string;
  percentile: string;
  int8Io?: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a (sub-)network as a .tflite model (float32, or full-integer int8; batch norm folded)')
    .requiredOption('--network <network>', 'zoo name or network .json')
    .option('--subnet <file>', 'sub-network JSON (default: the full network)')
    .option('--weights <checkpoint>', 'super-network checkpoint directory (default: random weights of the right shapes)')
    .option('--seed <n>', 'seed of the random weights', '1')
    .option('--no-softmax', 'end a classifier with logits instead of SOFTMAX')
    .option('--int8', 'post-training full-integer quantization: int8 weights (per channel) and activations, int32 biases')
    .option('--data <dataset>', 'with --int8 and --weights: the dataset whose training images calibrate the activation ranges (synthetic | cifar10:<dir> | folder:<dir> | ...)')
    .option('--calibration-images <n>', 'representative images for calibration', '256')
    .option('--calibration <minmax|percentile>', 'activation ranges: the extremes, or the given percentile on each side', 'minmax')
    .option('--percentile <p>', 'with --calibration percentile', '99.99')
    .option('--int8-io', 'with --int8: int8 input and output tensors (default: float, with QUANTIZE / DEQUANTIZE inside the model)')
    .requiredOption('--out <file>', 'output .tflite path')
    .action(async (options: ExportOptions) => {
      const spec = loadNetwork(options.network);
      const subnet = options.subnet ? parseSubnet(spec, readJsonFile(options.subnet), options.subnet) : undefined;
      const network = resolveNetwork(spec, subnet);
      let bytes: Uint8Array;
      let note: string;
      if (options.int8 && options.weights) {
        if (!options.data) throw new ValidationError('--int8 with --weights needs --data: the calibration images come from the dataset the network was trained on');
        bytes = await exportCalibrated(options, spec, subnet);
        note = `int8, weights from ${options.weights}, calibrated on ${options.calibrationImages} images of ${options.data}`;
      } else {
        if (!options.int8 && (options.data || options.int8Io)) throw new ValidationError('--data and --int8-io only apply with --int8');
        const weights = options.weights ? await loadCheckpointWeights(options.weights, spec, subnet) : randomFoldedWeights(network, Number(options.seed));
        const io = options.int8Io ? { io: 'int8' as const } : {};
        // Random weights have no meaningful activations to calibrate: nominal ranges give the int8 graph a latency
        // measurement needs, not an accurate model.
        bytes = exportNetwork(network, weights, { softmax: options.softmax, ...(options.int8 ? { quantization: { ranges: NOMINAL_RANGES, ...io } } : {}) });
        note = options.weights ? `float32, weights from ${options.weights}` : options.int8 ? 'int8 with nominal ranges, random weights: for latency measurements only' : 'float32, random weights';
      }
      writeFileSync(options.out, bytes);
      console.log(
        `wrote ${options.out}: ${bytes.length} bytes, ${(network.macs / 1e6).toFixed(2)}M MACs, ${(network.params / 1e6).toFixed(3)}M params (${note})`,
      );
    });
}

async function exportCalibrated(options: ExportOptions, spec: ReturnType<typeof loadNetwork>, subnet: ReturnType<typeof parseSubnet> | undefined): Promise<Uint8Array> {
  const images = Number(options.calibrationImages);
  if (!Number.isInteger(images) || images < 1) throw new ValidationError(`--calibration-images must be a whole number ≥ 1, got "${options.calibrationImages}"`);
  if (options.calibration !== 'minmax' && options.calibration !== 'percentile') {
    throw new ValidationError(`--calibration must be minmax or percentile, got "${options.calibration}"`);
  }
  const [{ initBackend }, { openDataset }, { loadSupernetWeights }, { exportQuantized }] = await Promise.all([
    import('../../../core/tensor/backend.ts'),
    import('../../../core/data/open.ts'),
    import('../../../core/supernet/evaluate.ts'),
    import('../../../core/supernet/export-int8.ts'),
  ]);
  await initBackend();
  const dataset = await openDataset(options.data);
  const weights = loadSupernetWeights(options.weights as string, spec);
  try {
    return exportQuantized({
      weights,
      dataset,
      ...(subnet ? { subnet } : {}),
      calibrationImages: images,
      calibration: { method: options.calibration, percentile: Number(options.percentile) },
      softmax: options.softmax,
      ...(options.int8Io ? { io: 'int8' } : {}),
    }).int8;
  } finally {
    weights.dispose();
  }
}
