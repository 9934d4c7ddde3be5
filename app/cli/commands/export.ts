import type { Command } from 'commander';
import { loadNetwork, parseSubnet, readJsonFile } from '../../../core/arch/index.ts';
import { ValidationError } from '../../../core/errors.ts';
import { openJobDataset } from '../../../pipeline/dataset.ts';
import { exportStep, type Int8ExportSettings } from '../../../pipeline/steps/export.ts';

interface ExportCliOptions {
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
    .option('--calibration <minmax|percentile>', 'activation ranges: the extremes, or the given percentile on each side', 'percentile')
    .option('--percentile <p>', 'with --calibration percentile', '99.99')
    .option('--int8-io', 'with --int8: int8 input and output tensors (default: float, with QUANTIZE / DEQUANTIZE inside the model)')
    .requiredOption('--out <file>', 'output .tflite path')
    .action(async (options: ExportCliOptions) => {
      if (!options.int8 && (options.data || options.int8Io)) throw new ValidationError('--data and --int8-io only apply with --int8');
      const spec = loadNetwork(options.network);
      const subnet = options.subnet ? parseSubnet(spec, readJsonFile(options.subnet), options.subnet) : undefined;
      const written = await exportStep({
        spec,
        ...(subnet ? { subnet } : {}),
        ...(options.weights ? { checkpoint: options.weights } : {}),
        seed: Number(options.seed),
        out: options.out,
        options: { softmax: options.softmax },
        ...(options.int8 ? { int8: await int8Settings(options) } : {}),
      });
      const note =
        written.dtype === 'float32'
          ? options.weights ? `float32, weights from ${options.weights}` : 'float32, random weights'
          : options.weights
            ? `int8, weights from ${options.weights}, calibrated on ${written.calibrationImages} images of ${options.data}`
            : 'int8 with nominal ranges, random weights: for latency measurements only';
      console.log(
        `wrote ${written.path}: ${written.bytes} bytes, ${(written.macs / 1e6).toFixed(2)}M MACs, ${(written.params / 1e6).toFixed(3)}M params (${note})`,
      );
    });
}

async function int8Settings(options: ExportCliOptions): Promise<Int8ExportSettings> {
  const images = Number(options.calibrationImages);
  if (!Number.isInteger(images) || images < 1) throw new ValidationError(`--calibration-images must be a whole number ≥ 1, got "${options.calibrationImages}"`);
  if (options.calibration !== 'minmax' && options.calibration !== 'percentile') {
    throw new ValidationError(`--calibration must be minmax or percentile, got "${options.calibration}"`);
  }
  if (options.weights && !options.data) throw new ValidationError('--int8 with --weights needs --data: the calibration images come from the dataset the network was trained on');
  return {
    calibrationImages: images,
    calibration: { method: options.calibration, percentile: Number(options.percentile) },
    ...(options.int8Io ? { io: 'int8' as const } : {}),
    ...(options.weights && options.data ? { dataset: await openJobDataset(options.data) } : {}),
  };
}
