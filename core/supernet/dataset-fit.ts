/** Whether a dataset fits a network: image size, task, number of classes. */
import type { NetworkSpec } from '../arch/index.ts';
import { resolveNetwork } from '../arch/index.ts';
import type { Dataset } from '../data/dataset.ts';
import { UserError } from '../errors.ts';

export function checkDatasetFits(spec: NetworkSpec, dataset: Dataset): void {
  const [h, w] = dataset.inputShape;
  if (h !== spec.input.height || w !== spec.input.width || spec.input.channels !== 3) {
    throw new UserError(
      `dataset "${dataset.name}" has ${h}×${w}×3 images but network "${spec.name}" takes ${spec.input.height}×${spec.input.width}×${spec.input.channels}`,
    );
  }
  if (dataset.kind !== spec.task) {
    throw new UserError(`dataset "${dataset.name}" is a ${dataset.kind} dataset but network "${spec.name}" is for ${spec.task}`);
  }
  if (spec.task === 'classification') {
    const out = resolveNetwork(spec).output.channels;
    if (out < 2) {
      throw new UserError(`network "${spec.name}" has ${out} output: a classifier needs at least 2 outputs (one per class); set the last layer's "units" to the number of classes`);
    }
    if (dataset.numClasses !== undefined && dataset.numClasses < 2) {
      throw new UserError(`dataset "${dataset.name}" has ${dataset.numClasses} class: classification needs at least 2 classes (for an image folder: one sub-folder per class)`);
    }
    if (dataset.numClasses !== out) {
      throw new UserError(`dataset "${dataset.name}" has ${dataset.numClasses ?? '?'} classes but network "${spec.name}" has ${out} outputs`);
    }
  }
}
