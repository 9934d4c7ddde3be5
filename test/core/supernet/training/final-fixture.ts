/** An easy, fast classification task for final-training and fine-tuning tests: the class is the image's tint. */
import { fullSubnet, minimalSubnet, parseNetworkSpec, searchSpace, type NetworkSpec, type SubnetConfig } from '../../../../core/arch/index.ts';
import type { FinalTrainingOptions } from '../../../../core/supernet/training/final-training.ts';
import type { Dataset } from '../../../../core/data/dataset.ts';
import { SplitDataset, makeSplits, type BatchTarget, type SampleSource } from '../../../../core/data/indexed-split.ts';
import { Rng, mixSeed } from '../../../../core/random.ts';

const TINTS = [
  [0.6, -0.3, -0.3],
  [-0.3, 0.6, -0.3],
  [-0.3, -0.3, 0.6],
  [0.4, 0.4, -0.5],
];

class TintSource implements SampleSource {
  readonly kind = 'classification' as const;
  constructor(
    readonly height: number,
    readonly width: number,
    readonly count: number,
    private readonly seed: number,
  ) {}

  write(index: number, target: BatchTarget, slot: number): void {
    const rng = new Rng(mixSeed(this.seed, index));
    const label = rng.int(TINTS.length);
    const tint = TINTS[label] as number[];
    const pixels = this.height * this.width;
    const strength = 0.3 + 0.5 * rng.next();
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 3; c++) target.images[(slot * pixels + p) * 3 + c] = strength * (tint[c] as number) + 0.6 * rng.normal();
    }
    (target.labels as Int32Array)[slot] = label;
  }
}

export function tintDataset(opts: { train?: number; heldout?: number; test?: number; seed?: number } = {}): Dataset {
  const seed = opts.seed ?? 1;
  const pool = new TintSource(8, 8, (opts.train ?? 256) + (opts.heldout ?? 96), seed);
  const test = opts.test ? new TintSource(8, 8, opts.test, seed + 1000) : undefined;
  return new SplitDataset(
    { kind: 'classification', name: 'tint', inputShape: [8, 8, 3], numClasses: TINTS.length },
    makeSplits(pool, opts.heldout ?? 96, seed, test),
  );
}

/** Three searchable convs (kernel choices on b), 8×8 input: the raw spec (a network JSON file's content). */
export function tintSpecInput(classes: number = TINTS.length, name = 'tint-net'): Record<string, unknown> {
  return {
    name,
    task: 'classification',
    input: { height: 8, width: 8, channels: 3 },
    widthLevels: 4,
    layers: [
      { type: 'conv', name: 'a', filters: 8, kernel: 3, act: 'relu' },
      { type: 'conv', name: 'b', filters: 16, kernel: 5, act: 'relu' },
      { type: 'conv', name: 'c', filters: 16, kernel: 1, act: 'relu' },
      { type: 'gap', name: 'pool' },
      { type: 'fc', name: 'fc', units: classes },
    ],
  };
}

export function tintSpec(): NetworkSpec {
  return parseNetworkSpec(tintSpecInput() as never);
}

/** The final training the kill -9 test runs in a child process and in-process (trajectory mode, distilled). */
export function finalKillOptions(checkpoint: string, outDir: string): FinalTrainingOptions {
  const spec = tintSpec();
  const space = searchSpace(spec);
  const subnet: SubnetConfig = { levels: space.layers.map((l) => Math.max(l.minLevel, 1)), kernels: minimalSubnet(space).kernels };
  const trajectory = [fullSubnet(space), { levels: space.layers.map(() => 2), kernels: fullSubnet(space).kernels }, subnet];
  return {
    spec, subnet, trajectory, dataset: tintDataset({ test: 64 }), mode: 'trajectory', steps: 24, checkpoint, outDir,
    config: { batchSize: 32, lr: 0.05, seed: 4 }, distill: true, checkpointEvery: 5, scoreBefore: false,
  };
}
