export type { Batch, BatchOptions, Dataset, DatasetKind, Split, SplitName } from './dataset.ts';
export { batchAtStep, stepPosition } from './dataset.ts';
export { randomCropFlip, randomFlip, type CropFlipOptions } from './augment.ts';
export {
  DATASET_SHORTHAND_HELP,
  DATASET_TYPES,
  DatasetSpecSchema,
  openDataset,
  parseDatasetShorthand,
  parseDatasetSpec,
  type DatasetSpec,
  type DatasetType,
  type OpenDatasetOptions,
} from './open.ts';
export { SHAPE_CLASS_NAMES, syntheticClassification, type SyntheticClassificationOptions } from './synthetic-classification.ts';
export { syntheticDepth, type SyntheticDepthOptions } from './synthetic-depth.ts';
export { openCifar10, CIFAR10_CLASS_NAMES, type Cifar10Options } from './cifar10.ts';
export { openImageFolder, listImageFolder, type ImageFolderOptions } from './image-folder.ts';
export { openDepthPairs, listDepthPairs, type DepthPairsOptions } from './depth-pairs.ts';
