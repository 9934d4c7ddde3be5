import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../../../app/cli/commands/inspect.ts';
import { FileFormatError } from '../../../core/errors.ts';
import { runCommand } from './run-command.ts';
import { buildEveryOpModel } from '../../core/export/tflite/sample-models.ts';

// Tests app/cli/commands/inspect.ts.
const dir = mkdtempSync(join(tmpdir(), 'netadapt-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inspect = (args: string[]): Promise<string> => runCommand(register, ['inspect', ...args]);

describe('netadapt inspect', () => {
  const modelPath = join(dir, 'model.tflite');
  writeFileSync(modelPath, buildEveryOpModel(1, 'inspect me').finish());

  it('prints description, inputs, outputs, an operator table with shapes and the tensors', async () => {
    const out = await inspect([modelPath]);
    expect(out).toContain('TFLite schema v3');
    expect(out).toContain('description: inspect me');
    expect(out).toMatch(/inputs:\n\s+0\s+image\s+float32\s+\[1,9,9,3\]\n\s+1\s+side\s+float32\s+\[1,5,5,4\]/);
    expect(out).toMatch(/outputs:\n\s+\d+\s+probabilities\s+float32\s+\[1,7\]/);
    expect(out).toMatch(/0\s+CONV_2D\s+\[1,9,9,3\] \(const \[4,3,3,3\] \[4\]\) -> \[1,5,5,4\]\s+stride 2x2 SAME act=RELU6/);
    expect(out).toMatch(/FULLY_CONNECTED\s+\[1,144\] \(const \[7,144\] \[7\]\) -> \[1,7\]/);
    expect(out).toMatch(/SOFTMAX\s+\[1,7\] -> \[1,7\]\s+beta=0.5/);
    expect(out).toMatch(/stem\/weights\s+float32\s+\[4,3,3,3\]\s+432 B/);
  });

  it('--json prints the parsed model', async () => {
    const parsed = JSON.parse(await inspect([modelPath, '--json'])) as {
      description: string;
      subgraphs: { operators: { opcode: string }[] }[];
    };
    expect(parsed.description).toBe('inspect me');
    expect(parsed.subgraphs[0]?.operators[0]?.opcode).toBe('CONV_2D');
  });

  it('reports a corrupt or missing file as one FileFormatError line', async () => {
    const bad = join(dir, 'bad.tflite');
    writeFileSync(bad, 'this is not a model at all');
    const corrupt = inspect([bad]);
    await expect(corrupt).rejects.toThrow(FileFormatError);
    await expect(corrupt).rejects.toThrow(/bad\.tflite is not a valid TFLite model: its file identifier is " is ", expected "TFL3"$/);
    await expect(inspect([join(dir, 'missing.tflite')])).rejects.toThrow(/cannot read .*missing\.tflite: no such file/);
  });
});
