/** The job's dataset: the tensor backend initialized, then the dataset opened from its spec (core/data/open.ts). */
import type { Dataset } from '../core/data/dataset.ts';
import { ValidationError } from '../core/errors.ts';

export type DatasetSpec = string | Record<string, unknown>;

/** Opens `spec`; `missing` is the message when the configuration has no dataset. */
export async function openJobDataset(spec: DatasetSpec | undefined, missing = 'this step needs "dataset" (e.g. "synthetic")'): Promise<Dataset> {
  if (spec === undefined) throw new ValidationError(missing);
  const [{ initBackend }, { openDataset }] = await Promise.all([import('../core/tensor/backend.ts'), import('../core/data/open.ts')]);
  await initBackend();
  return openDataset(spec);
}
