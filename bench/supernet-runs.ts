/**
 * Pieces shared by the search benchmarks (bench/ablation.ts, bench/ranking.ts): the synthetic data set, timed
 * super-network training, weight copies and scoring one sub-network on a split.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkSpec, SubnetConfig } from '../core/arch/index.ts';
import { resolveNetwork } from '../core/arch/index.ts';
import type { Dataset, SplitName } from '../core/data/dataset.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { createSupernetEvaluator } from '../core/supernet/evaluate.ts';
import { checkpointExists } from '../core/supernet/checkpoint.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { type SupernetTrainConfig } from '../core/supernet/training/config.ts';
import { SupernetWeights } from '../core/supernet/weights.ts';
import { processAlive } from '../core/process-alive.ts';

export interface BenchDataOptions {
  trainSize: number;
  heldoutSize: number;
  testSize: number;
  seed?: number;
}

export function benchDataset(spec: NetworkSpec, options: BenchDataOptions): Dataset {
  return syntheticClassification({
    size: spec.input.height,
    classes: resolveNetwork(spec).output.channels,
    trainSize: options.trainSize,
    heldoutSize: options.heldoutSize,
    testSize: options.testSize,
    seed: options.seed ?? 1,
  });
}

export interface TrainedSupernet {
  spec: NetworkSpec;
  /** EMA weights (what the search scores with). The caller disposes them. */
  weights: SupernetWeights;
  trainSeconds: number;
  steps: number;
  finalLoss: number;
  config: SupernetTrainConfig;
}

/** Training seconds spent so far on a checkpointed run (a sidecar next to the checkpoint, updated every epoch). */
const TIMING_FILE = 'bench-train-seconds.json';

function savedTrainSeconds(dir: string): number {
  if (!fs.existsSync(path.join(dir, TIMING_FILE))) return 0;
  const value = (JSON.parse(fs.readFileSync(path.join(dir, TIMING_FILE), 'utf8')) as { trainSeconds?: unknown }).trainSeconds;
  return typeof value === 'number' ? value : 0;
}

/**
 * Trains a super-network (orderedDropout in `config`; false = plain training of the full network) and times it.
 * With `checkpointDir` the training checkpoints every epoch and continues from a checkpoint already there (a finished
 * one is loaded as is), so a bench killed during training, or run again on the same super-networks, does not retrain;
 * the seconds reported are those of the sessions that trained it.
 */
export async function trainTimedSupernet(
  spec: NetworkSpec,
  dataset: Dataset,
  config: Partial<SupernetTrainConfig>,
  log: (line: string) => void,
  checkpointDir?: string,
): Promise<TrainedSupernet> {
  if (checkpointDir === undefined) return trainTimed(spec, dataset, config, log);
  const release = await lockCheckpointDir(checkpointDir, log);
  try {
    return await trainTimed(spec, dataset, config, log, checkpointDir);
  } finally {
    release();
  }
}

const LOCK_FILE = 'training.lock';

/**
 * One process trains a checkpoint directory at a time: another bench sharing `--supernet-dir` waits for it (then
 * loads the finished super-network); a lock left by a killed process is taken over.
 */
export async function lockCheckpointDir(dir: string, log: (line: string) => void, pollMs = 10_000): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, LOCK_FILE);
  let waiting = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(fs.readFileSync(lock, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released (or taken over) meanwhile
      throw error;
    }
    if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!waiting) log(`    waiting for process ${holder}, which is training ${dir}`);
    waiting = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function trainTimed(
  spec: NetworkSpec,
  dataset: Dataset,
  config: Partial<SupernetTrainConfig>,
  log: (line: string) => void,
  checkpointDir?: string,
): Promise<TrainedSupernet> {
  const started = performance.now();
  const resume = checkpointDir !== undefined && checkpointExists(checkpointDir);
  const before = resume ? savedTrainSeconds(checkpointDir as string) : 0;
  const trainer = SupernetTrainer.create({ spec, dataset, config, ...(checkpointDir ? { outDir: checkpointDir, resume } : {}) });
  if (resume) log(`    continuing the checkpoint in ${checkpointDir} at step ${trainer.step}/${trainer.totalSteps}`);
  const recordSeconds = () => {
    if (!checkpointDir) return;
    // Written aside and renamed, so a kill mid-write leaves the previous value, never a torn file.
    const file = path.join(checkpointDir, TIMING_FILE);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ trainSeconds: before + (performance.now() - started) / 1000 }));
    fs.renameSync(`${file}.tmp`, file);
  };
  let lastLog = performance.now();
  await trainer.run({
    onEvent: (e) => {
      if (e.type === 'epoch') recordSeconds();
      if (e.type === 'step' && performance.now() - lastLog > 30_000) {
        lastLog = performance.now();
        log(`    step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} ETA ${e.etaSec.toFixed(0)} s`);
      }
    },
  });
  const weights = trainer.emaWeights();
  const trainSeconds = before + (performance.now() - started) / 1000;
  recordSeconds();
  const recent = trainer.losses.slice(-Math.max(1, Math.floor(trainer.stepsPerEpoch / 2)));
  const result: TrainedSupernet = {
    spec,
    weights,
    trainSeconds,
    steps: trainer.step,
    finalLoss: recent.reduce((a, b) => a + b, 0) / recent.length,
    config: trainer.config,
  };
  trainer.dispose();
  return result;
}

/** An independent copy of every value (parameters and BN statistics). */
export function copyWeights(weights: SupernetWeights): SupernetWeights {
  const values = weights.snapshot();
  return new SupernetWeights(weights.spec, (info) => values.get(info.name) as Float32Array);
}

export interface ScoreOptions {
  calibrationBatches?: number;
  limit?: number;
}

/** Scores one sub-network of `weights` on a split (BN recalibrated on the training split). */
export async function scoreSubnet(
  weights: SupernetWeights,
  dataset: Dataset,
  subnet: SubnetConfig,
  split: SplitName,
  options: ScoreOptions = {},
): Promise<number> {
  const evaluator = createSupernetEvaluator({ weights, dataset, split, ...options });
  try {
    return (await evaluator.evaluate(subnet)).score;
  } finally {
    evaluator.dispose();
  }
}
