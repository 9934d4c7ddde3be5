/**
 * One entry point: a validated dataset spec (JSON object or CLI shorthand) → Dataset.
 *
 * CLI shorthand: `<type>[:<path>][?key=value&key=value…]`, e.g.
 *   synthetic    synthetic?classes=12&difficulty=0.8    synthetic-depth?size=32
 *   cifar10:/data/cifar-10-batches-bin    folder:/data/pets?size=64&heldoutSize=500    depth-pairs:/data/nyu
 * Keys are the spec's field names; numbers are parsed as numbers.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { openCifar10 } from './cifar10.ts';
import type { Dataset } from './dataset.ts';
import { openDepthPairs } from './depth-pairs.ts';
import { openImageFolder } from './image-folder.ts';
import type { LoadProgress } from './image-files.ts';
import { MAX_SHAPE_CLASSES, syntheticClassification } from './synthetic-classification.ts';
import { syntheticDepth } from './synthetic-depth.ts';

const count = (what: string) => z.int(`${what} must be a whole number`).min(0, `${what} must be ≥ 0`);
const sampleCount = (what: string) => z.int(`${what} must be a whole number`).min(1, `${what} must be ≥ 1`);
const side = z.int('size must be a whole number of pixels').min(8, 'size must be ≥ 8 pixels').max(512, 'size must be ≤ 512 pixels');
const seed = z.int('seed must be a whole number').min(0, 'seed must be ≥ 0').max(0xffffffff, 'seed must be < 2^32');
const dir = z.string('dir must be a folder path').min(1, 'dir must not be empty');
const concurrency = z.int('concurrency must be a whole number').min(1, 'concurrency must be ≥ 1').max(64, 'concurrency must be ≤ 64');

export const SyntheticClassificationSpec = z.strictObject({
  type: z.literal('synthetic-classification'),
  size: side.optional(),
  classes: z.int('classes must be a whole number').min(2, 'classes must be ≥ 2').max(MAX_SHAPE_CLASSES, `classes must be ≤ ${MAX_SHAPE_CLASSES}`).optional(),
  trainSize: sampleCount('trainSize').optional(),
  heldoutSize: count('heldoutSize').optional(),
  testSize: count('testSize').optional(),
  seed: seed.optional(),
  difficulty: z.number('difficulty must be a number').min(0, 'difficulty must be in [0, 1]').max(1, 'difficulty must be in [0, 1]').optional(),
});

export const SyntheticDepthSpec = z.strictObject({
  type: z.literal('synthetic-depth'),
  size: side.optional(),
  trainSize: sampleCount('trainSize').optional(),
  heldoutSize: count('heldoutSize').optional(),
  testSize: count('testSize').optional(),
  seed: seed.optional(),
  maxObjects: z.int('maxObjects must be a whole number').min(0, 'maxObjects must be ≥ 0').max(32, 'maxObjects must be ≤ 32').optional(),
});

export const Cifar10Spec = z.strictObject({
  type: z.literal('cifar10'),
  dir,
  heldoutSize: count('heldoutSize').optional(),
  seed: seed.optional(),
});

export const ImageFolderSpec = z.strictObject({
  type: z.literal('image-folder'),
  dir,
  size: side.optional(),
  testDir: dir.optional(),
  heldoutSize: count('heldoutSize').optional(),
  seed: seed.optional(),
  concurrency: concurrency.optional(),
});

export const DepthPairsSpec = z.strictObject({
  type: z.literal('depth-pairs'),
  dir,
  size: side.optional(),
  testDir: dir.optional(),
  heldoutSize: count('heldoutSize').optional(),
  seed: seed.optional(),
  concurrency: concurrency.optional(),
});

export const DatasetSpecSchema = z.discriminatedUnion('type', [SyntheticClassificationSpec, SyntheticDepthSpec, Cifar10Spec, ImageFolderSpec, DepthPairsSpec]);

export type DatasetSpec = z.infer<typeof DatasetSpecSchema>;
export type DatasetType = DatasetSpec['type'];

export const DATASET_TYPES: readonly DatasetType[] = ['synthetic-classification', 'synthetic-depth', 'cifar10', 'image-folder', 'depth-pairs'];

/** Validates a spec given as a JS value; throws ValidationError naming each bad field and its value. */
export function parseDatasetSpec(value: unknown, source = 'dataset spec'): DatasetSpec {
  const result = DatasetSpecSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = describeIssues(result.error, value);
  throw new ValidationError(`${source} is not valid: ${problems[0] ?? 'unknown problem'}`, problems);
}

export interface OpenDatasetOptions {
  /** Loading progress of datasets read from disk (images decoded so far, total). */
  readonly onProgress?: LoadProgress;
}

/** Opens the dataset a spec (object, validated here) or CLI shorthand string describes. */
export async function openDataset(spec: unknown, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const parsed = typeof spec === 'string' ? parseDatasetShorthand(spec) : parseDatasetSpec(spec);
  const onProgress = options.onProgress ? { onProgress: options.onProgress } : {};
  switch (parsed.type) {
    case 'synthetic-classification':
      return syntheticClassification(parsed);
    case 'synthetic-depth':
      return syntheticDepth(parsed);
    case 'cifar10':
      return openCifar10(parsed);
    case 'image-folder':
      return openImageFolder({ ...parsed, ...onProgress });
    case 'depth-pairs':
      return openDepthPairs({ ...parsed, ...onProgress });
  }
}

const SHORTHAND_TYPES: Readonly<Record<string, { type: DatasetType; needsPath: boolean }>> = {
  synthetic: { type: 'synthetic-classification', needsPath: false },
  'synthetic-classification': { type: 'synthetic-classification', needsPath: false },
  'synthetic-depth': { type: 'synthetic-depth', needsPath: false },
  cifar10: { type: 'cifar10', needsPath: true },
  folder: { type: 'image-folder', needsPath: true },
  'image-folder': { type: 'image-folder', needsPath: true },
  'depth-pairs': { type: 'depth-pairs', needsPath: true },
};

export const DATASET_SHORTHAND_HELP =
  'synthetic | synthetic-depth | cifar10:<dir> | folder:<dir> | depth-pairs:<dir>, optionally followed by ?key=value&… ' +
  '(e.g. synthetic?classes=12&difficulty=0.8, folder:/data/pets?size=64&heldoutSize=500)';

/** Parses the CLI shorthand (see the file comment) into a validated spec. */
export function parseDatasetShorthand(text: string): DatasetSpec {
  const trimmed = text.trim();
  const query = trimmed.indexOf('?');
  const head = query < 0 ? trimmed : trimmed.slice(0, query);
  const colon = head.indexOf(':');
  const kind = (colon < 0 ? head : head.slice(0, colon)).trim().toLowerCase();
  const location = colon < 0 ? undefined : head.slice(colon + 1);
  const known = SHORTHAND_TYPES[kind];
  if (!known) {
    throw new ValidationError(`dataset "${text}": unknown dataset type "${kind}"`, [`expected ${DATASET_SHORTHAND_HELP}`]);
  }
  if (known.needsPath && !location) {
    throw new ValidationError(`dataset "${text}": ${kind} needs a folder, e.g. ${kind}:/path/to/data`);
  }
  if (!known.needsPath && location) {
    throw new ValidationError(`dataset "${text}": ${kind} takes no path (options go after "?", e.g. ${kind}?seed=2)`);
  }
  const spec: Record<string, unknown> = { type: known.type };
  if (location) spec.dir = location;
  if (query >= 0) {
    for (const pair of trimmed.slice(query + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ValidationError(`dataset "${text}": option "${pair}" must look like key=value`);
      const key = pair.slice(0, eq);
      const raw = decodeURIComponent(pair.slice(eq + 1));
      if (key === 'type' || key === 'dir') throw new ValidationError(`dataset "${text}": "${key}" cannot be given as an option`);
      spec[key] = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    }
  }
  return parseDatasetSpec(spec, `dataset "${text}"`);
}

function describeIssues(error: z.ZodError, value: unknown): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    if (issue.code === 'invalid_union' && field === 'type') {
      const got = valueAt(value, ['type']);
      return `type: must be one of ${DATASET_TYPES.join(', ')} (got ${got === undefined ? 'nothing' : JSON.stringify(got)})`;
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${key}: unknown field (got ${JSON.stringify(valueAt(value, [...issue.path, key]))})`).join('; ');
    }
    const got = valueAt(value, issue.path);
    return `${field || '(root)'}: ${issue.message} (got ${got === undefined ? 'nothing' : JSON.stringify(got)})`;
  });
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cursor: unknown = value;
  for (const key of path) {
    if (typeof cursor !== 'object' || cursor === null) return undefined;
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  return cursor;
}
