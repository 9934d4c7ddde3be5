/**
 * NetAdaptV1 mode's FineTuner: no super-network search weights — every sample is fine-tuned briefly from the previous
 * best before it is scored. The weights live in the super-network layout (the sub-network being a slice), so a sample
 * is trained with trainSubnetwork and scored like any sub-network, with the BN statistics of its own fine-tuning (no
 * recalibration).
 *
 * State: the base (the adopted best's fine-tuned weights, host arrays), and the fine-tuned copy of every sample of
 * the current iteration until `adopt(best)` makes the best's copy the new base and frees the others. With a state
 * folder, every adopted base is also saved (per iteration; the last two are kept) so a search resumed after kill -9
 * continues from the same weights.
 *
 * Determinism: fine-tuning `to` from the base adopted at iteration b uses seed mixSeed(seed, b + 2, hash(to)) (b ≥ −1), so a
 * missing copy can be re-derived exactly by fine-tuning again from the same base.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../../arch/index.ts';
import { fullSubnet, searchSpace, subnetKey } from '../../arch/index.ts';
import type { Dataset } from '../../data/dataset.ts';
import { definedOnly } from '../../objects.ts';
import { FileFormatError, UserError } from '../../errors.ts';
import { mixSeed } from '../../random.ts';
import type { EvalResult, FineTuner } from '../../search/types.ts';
import { createSupernetEvaluator, type SupernetEvaluator } from '../evaluate.ts';
import { SupernetWeights } from '../weights.ts';
import { DEFAULT_TRAIN_CONFIG, type SupernetTrainConfig } from './config.ts';
import { FINAL_TRAIN_DEFAULTS } from './recipes.ts';
import { loadTrainingState, saveTrainingState, trainingStateExists } from './resume.ts';
import { trainSubnetwork } from './subnet-trainer.ts';

type HostWeights = Map<string, Float32Array>;

export interface SupernetFineTunerOptions {
  /** The starting weights (a plain-trained full network, e.g. `train-supernet --no-od`); copied, not kept. */
  weights: SupernetWeights;
  dataset: Dataset;
  /** Fine-tuning hyper-parameters (batch size, lr, optimizer, seed …); defaults: FINAL_TRAIN_DEFAULTS. */
  config?: Partial<SupernetTrainConfig>;
  /** The run's fineTuneSteps: needed to re-derive a missing copy in `adopt`. */
  fineTuneSteps: number;
  /** Where adopted bases are saved for resuming (none: in memory only). */
  stateDir?: string;
  /** Held-out images to score on (default: all). */
  limit?: number;
}

export class SupernetFineTuner implements FineTuner {
  readonly spec: NetworkSpec;
  private readonly dataset: Dataset;
  private readonly config: SupernetTrainConfig;
  private readonly steps: number;
  private readonly stateDir: string | undefined;
  private readonly work: SupernetWeights;
  private readonly evaluator: SupernetEvaluator;
  private base: HostWeights;
  /** The base's sub-network (at first the full network: the starting weights). */
  private baseKey: string;
  /** The iteration whose best the base is (-2: the starting weights, before any adopt). */
  private baseIteration = -2;
  private readonly copies = new Map<string, HostWeights>();

  constructor(opts: SupernetFineTunerOptions) {
    this.spec = opts.weights.spec;
    this.dataset = opts.dataset;
    this.config = { ...DEFAULT_TRAIN_CONFIG, ...FINAL_TRAIN_DEFAULTS, ...definedOnly(opts.config ?? {}) };
    this.steps = opts.fineTuneSteps;
    this.stateDir = opts.stateDir;
    this.base = hostCopy(opts.weights);
    this.baseKey = subnetKey(fullSubnet(searchSpace(this.spec)));
    this.work = new SupernetWeights(this.spec, (info) => this.base.get(info.name) as Float32Array);
    this.evaluator = createSupernetEvaluator({
      weights: this.work,
      dataset: opts.dataset,
      calibrationBatches: 0,
      ...(opts.limit === undefined ? {} : { limit: opts.limit }),
    });
  }

  async fineTune(fromConfig: SubnetConfig, toConfig: SubnetConfig, steps: number): Promise<EvalResult> {
    if (subnetKey(fromConfig) !== this.baseKey) {
      throw new Error(`fine-tuning from ${subnetKey(fromConfig)}, but the adopted base is ${this.baseKey} (adopt the parent first)`);
    }
    const losses = await this.train(toConfig, steps);
    const result = await this.evaluator.evaluate(toConfig);
    if (steps > 0) this.copies.set(subnetKey(toConfig), hostCopy(this.work));
    const metrics: Record<string, number> = { ...result.metrics, fineTuneSteps: steps };
    if (losses.length > 0) metrics['fineTuneLoss'] = losses[losses.length - 1] as number;
    return { score: result.score, metrics };
  }

  async adopt(config: SubnetConfig, iteration: number): Promise<void> {
    const key = subnetKey(config);
    if (key === this.baseKey && iteration === this.baseIteration) return;
    const copy = this.copies.get(key);
    if (copy) {
      this.base = copy;
    } else if (key === this.baseKey) {
      // The initial network (scored without fine-tuning) becomes its own successor: the base stays.
    } else if (this.loadSaved(iteration, key)) {
      this.copies.clear();
      return;
    } else {
      // A resumed run: the copy was lost with the process. Re-derive it — fine-tune `config` again from the base it
      // was fine-tuned from (the best of iteration − 1), with the same seed. Exact when that base is the current one
      // or was saved in the state folder; otherwise (no state folder, resumed further along) it starts from the
      // current base, which is then an approximation of the interrupted run.
      if (Math.max(this.baseIteration, -1) !== iteration - 1) this.loadSaved(iteration - 1);
      await this.train(config, this.steps);
      this.base = hostCopy(this.work);
    }
    this.baseKey = key;
    this.baseIteration = iteration;
    this.copies.clear();
    this.save();
  }

  dispose(): void {
    this.evaluator.dispose();
    this.work.dispose();
    this.copies.clear();
  }

  /** Fine-tunes `config` from the base into `work`; returns the losses. */
  private async train(config: SubnetConfig, steps: number): Promise<number[]> {
    this.work.assignAll(this.base);
    if (steps === 0) return [];
    // The starting weights before (-2) and after (-1) adopting the initial network are the same weights: same seed.
    const seed = mixSeed(this.config.seed, Math.max(this.baseIteration, -1) + 2, keyHash(subnetKey(config)));
    const { losses } = await trainSubnetwork({ weights: this.work, subnet: config, dataset: this.dataset, steps, config: { ...this.config, seed } });
    return losses;
  }

  /** Loads the base saved for `iteration` (with sub-network `key`, when given) from the state folder. */
  private loadSaved(iteration: number, key?: string): boolean {
    if (!this.stateDir) return false;
    const dir = path.join(this.stateDir, `iteration-${iteration}`);
    if (!trainingStateExists(dir)) return false;
    let saved;
    try {
      saved = loadTrainingState<Record<string, never>>(dir, this.spec, { kind: 'finetune-base', fixed: { key, iteration } });
    } catch (error) {
      // Another sub-network, or a base of another network definition: re-derive instead.
      if (error instanceof UserError && !(error instanceof FileFormatError)) return false;
      throw error;
    }
    this.base = new Map([...saved.tensors].filter(([k]) => k.startsWith('param/')).map(([k, v]) => [k.slice(6), v.data]));
    this.baseKey = saved.fixed['key'] as string;
    this.baseIteration = iteration;
    return true;
  }

  private save(): void {
    if (!this.stateDir) return;
    this.work.assignAll(this.base);
    saveTrainingState(path.join(this.stateDir, `iteration-${this.baseIteration}`), {
      kind: 'finetune-base',
      step: 0,
      losses: [],
      fixed: { key: this.baseKey, iteration: this.baseIteration },
      info: {},
      weights: this.work,
    });
    const stale = path.join(this.stateDir, `iteration-${this.baseIteration - 2}`);
    fs.rmSync(stale, { recursive: true, force: true });
  }
}

function hostCopy(weights: SupernetWeights): HostWeights {
  const out: HostWeights = new Map();
  for (const info of weights.layout) out.set(info.name, new Float32Array(weights.get(info.name).dataSync() as Float32Array));
  return out;
}

function keyHash(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32LE(0);
}
