import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNetwork } from '../../../core/arch/index.ts';
import { UserError } from '../../../core/errors.ts';
import { saveCheckpoint } from '../../../core/supernet/checkpoint.ts';

describe('saving a checkpoint where it cannot be written', () => {
  it('names the folder, says the previous checkpoint is kept and how to resume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpoint-errors-'));
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const tensors = [{ key: 'w', shape: [2], data: new Float32Array([1, 2]) }];
    let error: unknown;
    try {
      saveCheckpoint(join(blocker, 'ckpt'), loadNetwork('mobilenet-v1-32'), tensors, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/^cannot write the checkpoint folder .*a-file\/ckpt: a (part of the path is a file, not a folder|file is in the way of a folder of that path)/);
    expect((error as UserError).details.join('\n')).toMatch(/the checkpoint saved before this one \(if any\) is kept[\s\S]*run the same command again to resume/);
  });
});
