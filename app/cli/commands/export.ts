import type { Command } from 'commander';
import { loadNetwork, parseSubnet, readJsonFile } from '../../../core/arch/index.ts';
import { exportStep } from '../../../pipeline/steps/export.ts';

export function register(program: Command): void {
  program
    .command('export')
    .description('write a (sub-)network as a .tflite model (float32, batch norm folded)')
    .requiredOption('--network <network>', 'zoo name or network .json')
    .option('--subnet <file>', 'sub-network JSON (default: the full network)')
    .option('--weights <checkpoint>', 'super-network checkpoint directory (default: random weights of the right shapes)')
    .option('--seed <n>', 'seed of the random weights', '1')
    .option('--no-softmax', 'end a classifier with logits instead of SOFTMAX')
    .requiredOption('--out <file>', 'output .tflite path')
    .action(async (options: { network: string; subnet?: string; weights?: string; seed: string; softmax: boolean; out: string }) => {
      const spec = loadNetwork(options.network);
      const subnet = options.subnet ? parseSubnet(spec, readJsonFile(options.subnet), options.subnet) : undefined;
      const written = await exportStep({
        spec,
        ...(subnet ? { subnet } : {}),
        ...(options.weights ? { checkpoint: options.weights } : {}),
        seed: Number(options.seed),
        out: options.out,
        options: { softmax: options.softmax },
      });
      console.log(
        `wrote ${written.path}: ${written.bytes} bytes, ${(written.macs / 1e6).toFixed(2)}M MACs, ${(written.params / 1e6).toFixed(3)}M params` +
          (options.weights ? ` (weights from ${options.weights})` : ' (random weights)'),
      );
    });
}
