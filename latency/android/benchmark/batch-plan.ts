/** Which model files a batch runs, in which order, and how the runs are cut into shell sessions. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FileFormatError, ValidationError } from '../../../core/errors.ts';
import { buildBatchScript } from './batch-script.ts';
import type { BenchmarkInvocation } from './batch-script.ts';
import type { PreparedModel } from './result-collector.ts';

export interface ModelToMeasure {
  key: string;
  bytes?: Uint8Array;
  localPath?: string;
  /** The model's multiply-accumulates, when known: its time limit is derived from them (see time-limits.ts). */
  macs?: number;
}

const TOKEN_LENGTH = 32;

export async function loadModels(models: readonly ModelToMeasure[]): Promise<PreparedModel[]> {
  const seen = new Set<string>();
  const prepared: PreparedModel[] = [];
  for (const model of models) {
    if (typeof model.key !== 'string' || model.key === '') throw new ValidationError('every model needs a non-empty key');
    if (seen.has(model.key)) throw new ValidationError(`duplicate model key ${JSON.stringify(model.key)}`);
    seen.add(model.key);
    let bytes: Buffer;
    if (model.bytes !== undefined) bytes = Buffer.from(model.bytes);
    else if (model.localPath !== undefined) {
      try {
        bytes = await readFile(model.localPath);
      } catch (error) {
        throw new FileFormatError(`cannot read model ${model.key} from ${model.localPath}: ${(error as Error).message}`);
      }
    } else throw new ValidationError(`model ${JSON.stringify(model.key)} has neither bytes nor localPath`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    prepared.push({ key: model.key, sha256, token: sha256.slice(0, TOKEN_LENGTH), bytes, ...(model.macs !== undefined ? { macs: model.macs } : {}) });
  }
  return prepared;
}

/** Each distinct model file once per repeat, repeats interleaved (a b c a b c) so drift hits all models alike. */
export function interleave(models: readonly PreparedModel[], repeats: number): string[] {
  const tokens = [...new Set(models.map((model) => model.token))];
  const order: string[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) order.push(...tokens);
  return order;
}

/** Removes from the front of `queue` as many runs as one session's script can hold, and returns them. */
export function takeSession(queue: string[], invocation: BenchmarkInvocation, maxLength: number): string[] {
  const session: string[] = [];
  while (queue.length > 0) {
    const next = queue[0] as string;
    if (session.length > 0 && buildBatchScript([...session, next], invocation).length > maxLength) break;
    session.push(next);
    queue.shift();
  }
  return session;
}

/** `all` minus one occurrence of each of `done` (both lists may repeat tokens), in the order of `all`. */
export function withoutDone(all: readonly string[], done: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const token of done) left.set(token, (left.get(token) ?? 0) + 1);
  return all.filter((token) => {
    const n = left.get(token) ?? 0;
    if (n === 0) return true;
    left.set(token, n - 1);
    return false;
  });
}
