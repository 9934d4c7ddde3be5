import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { FileFormatError } from '../../../core/errors.ts';
import { readTfliteModel } from '../../../core/export/tflite/reader.ts';
import { formatTfliteSummary } from '../../../core/export/tflite/summary.ts';

/** `netadapt inspect model.tflite [--json]`: what is inside a .tflite file (ours or any converter's). */
export function register(program: Command): void {
  program
    .command('inspect')
    .description('show the description, inputs, outputs, operators and tensors of a .tflite model')
    .argument('<model>', 'path to a .tflite file')
    .option('--json', 'print the parsed model as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      const info = readTfliteModel(await readModelFile(path), path);
      if (options.json) console.log(JSON.stringify(info, null, 2));
      else console.log(formatTfliteSummary(info, path));
    });
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new FileFormatError(`cannot read ${path}: ${reason}`);
  }
}
