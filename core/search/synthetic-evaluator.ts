/**
 * A cheap, deterministic stand-in for a trained super-network, for tests, benchmarks of the optimizers and demos
 * without a checkpoint. Its score is NOT an accuracy: it is a made-up utility that grows with every layer's width
 * (with diminishing returns: log(1 + 8·M/M_full)) and a little with its kernel, each layer weighted by a random
 * importance drawn from the seed, plus Gaussian noise drawn from (seed, subnetKey) so the same sub-network always
 * gets the same score. Reports name it "synthetic score" so nobody mistakes it for accuracy.
 */
import { searchSpace, subnetKey, widthAtLevel } from '../arch/index.ts';
import type { NetworkSpec, SearchSpace, SubnetConfig } from '../arch/index.ts';
import { Rng, mixSeed } from '../random.ts';
import type { EvalResult, Evaluator } from './types.ts';

export interface SyntheticEvaluatorOptions {
  seed?: number;
  /** Standard deviation of the score noise (score scale 0..100). Default 0.05. */
  noise?: number;
  /** Milliseconds to wait per evaluation (to simulate a slow evaluator in crash tests). Default 0. */
  delayMs?: number;
}

export function stringHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class SyntheticEvaluator implements Evaluator {
  readonly space: SearchSpace;
  private readonly weights: number[];
  private readonly seed: number;
  private readonly noise: number;
  private readonly delayMs: number;
  /** Evaluations performed (tests count them to prove resumed runs re-evaluate nothing). */
  calls = 0;

  constructor(spec: NetworkSpec, options: SyntheticEvaluatorOptions = {}) {
    this.space = searchSpace(spec);
    this.seed = options.seed ?? 0;
    this.noise = options.noise ?? 0.05;
    this.delayMs = options.delayMs ?? 0;
    const rng = new Rng(mixSeed(this.seed, 0x5eed));
    this.weights = this.space.layers.map(() => 0.2 + 1.6 * rng.next());
  }

  /** The noiseless utility (0..100). */
  utility(config: SubnetConfig): number {
    let total = 0;
    let weights = 0;
    this.space.layers.forEach((layer, i) => {
      const filters = widthAtLevel(layer.fullFilters, this.space.widthLevels, config.levels[i] as number);
      const width = Math.log1p((8 * filters) / layer.fullFilters) / Math.log1p(8);
      const kernel = layer.fullKernel > 1 ? Math.sqrt((config.kernels[i] as number) / layer.fullKernel) : 1;
      const weight = this.weights[i] as number;
      total += weight * width * (0.85 + 0.15 * kernel);
      weights += weight;
    });
    return (100 * total) / weights;
  }

  async evaluate(config: SubnetConfig): Promise<EvalResult> {
    this.calls++;
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const utility = this.utility(config);
    const noise = this.noise > 0 ? this.noise * new Rng(mixSeed(this.seed, stringHash(subnetKey(config)))).normal() : 0;
    return { score: utility + noise, metrics: { utility } };
  }
}
