/**
 * Data-parallel training (core/supernet/training/gradient-workers.ts): the step of mobilenet-v3-demo-32, batch 32 of
 * 32×32×3 (the demo recipe: SGD momentum, label smoothing, classifier dropout), on N = 1..cores workers, and
 * PyTorch's same step on N threads (bench/pytorch/step.py, the network built from the project's resolved layers),
 * timed in alternating rounds (every N of both sides per round); medians per step.
 *
 * Each round also runs bench/parallel-control.ts's two controls (a scalar CPU-bound loop, and tfjs-wasm SIMD matMuls,
 * on all cores vs one) to show how much parallel CPU the shared machine offered while the scaling was measured, and
 * times the plain step at the shard's batch (32 / N) on one thread: how fast a shard could be with no
 * synchronization at all. Together they bound what a split batch can gain here: (step at 32 / step at 32/N) × (SIMD
 * control / N).
 *
 * Two project steps: the plain one (full network, what PyTorch runs) and the demo's ordered-dropout step (one
 * sampled sub-network per image). PyTorch is skipped with a printed reason when /usr/bin/python3 lacks torch.
 *
 *   npx tsx bench/data-parallel.ts [--rounds 5] [--steps 8] [--max-workers <cores>]
 *
 * Writes bench/results/data-parallel.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { closeGradientEngines } from '../core/supernet/training/gradient-workers.ts';
import { DEMO_NETWORK, DEMO_TRAIN_CONFIG } from '../core/supernet/training/recipes.ts';
import { SupernetTrainer } from '../core/supernet/training/supernet-trainer.ts';
import { initBackend } from '../core/tensor/backend.ts';
import { parallelHeadroom, simdHeadroom } from './parallel-control.ts';
import { TorchWorker, fixedBatchDataset, torchMissingReason, writeTorchInputs } from './pytorch-compare.ts';
import { numberFlags, runAsScript, writeBenchResult } from './cli.ts';

const BATCH = 32;

export interface DataParallelOptions {
  rounds?: number;
  steps?: number;
  maxWorkers?: number;
  log?: (line: string) => void;
}

export async function runDataParallelBench(opts: DataParallelOptions = {}): Promise<Record<string, unknown>> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const rounds = opts.rounds ?? 5;
  const steps = opts.steps ?? 8;
  // The scaling curve up to the machine's cores (not the training default, which is 1).
  const maxWorkers = opts.maxWorkers ?? os.availableParallelism();
  const load = os.loadavg()[0];
  const backend = await initBackend({ prefer: 'wasm' });
  const spec = loadNetwork(DEMO_NETWORK);
  const base = syntheticClassification({ trainSize: 512, heldoutSize: 32, testSize: 0, seed: 1 });
  const batch = base.split('train').batch(0, BATCH, { seed: 1, epoch: 0, dropLast: true });
  const dataset = fixedBatchDataset(base, batch);
  const counts = Array.from({ length: maxWorkers }, (_, i) => i + 1);
  // Ordered dropout from the first step: no full-network warm-up epochs.
  const trainers = new Map<string, SupernetTrainer>();
  for (const n of counts) {
    trainers.set(`plain-${n}`, SupernetTrainer.create({ spec, dataset, config: { ...DEMO_TRAIN_CONFIG, orderedDropout: false, epochs: 1000, batchSize: BATCH, seed: 1, workers: n } }));
    trainers.set(`od-${n}`, SupernetTrainer.create({ spec, dataset, config: { ...DEMO_TRAIN_CONFIG, fullNetworkEpochs: 0, epochs: 1000, batchSize: BATCH, seed: 1, workers: n } }));
  }
  // The shard alone: the plain step at the batch of one of maxWorkers shards, on one thread.
  const shardBatch = Math.floor(BATCH / maxWorkers);
  const shardData = fixedBatchDataset(base, base.split('train').batch(0, shardBatch, { seed: 1, epoch: 0, dropLast: true }));
  if (maxWorkers > 1) trainers.set('plain-shard', SupernetTrainer.create({ spec, dataset: shardData, config: { ...DEMO_TRAIN_CONFIG, orderedDropout: false, epochs: 1000, batchSize: shardBatch, seed: 1, workers: 1 } }));
  const missing = torchMissingReason();
  if (missing) log(`PyTorch side skipped: ${missing}`);
  const torch = new Map<number, TorchWorker>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netadapt-dp-'));
  let torchVersion: unknown;
  try {
    if (!missing) {
      writeTorchInputs(dir, trainers.get('plain-1') as SupernetTrainer, batch);
      for (const n of counts) {
        const worker = new TorchWorker(n);
        const loaded = await worker.call({ cmd: 'load', dir });
        if (loaded['macs'] !== resolveNetwork(spec).macs) throw new Error('the PyTorch network is not the project\'s network (MACs differ)');
        torchVersion = loaded['torch'];
        await worker.call({ cmd: 'time', steps: 2, threads: n });
        torch.set(n, worker);
      }
    }
    // Warm-up: starts every engine's threads; a new thread's first ~5 steps are several times slower (JIT, XNNPACK
    // operators, the wasm heap growing), so each trainer runs 8.
    for (const t of trainers.values()) for (let i = 0; i < 8; i++) await t.trainStep();
    const times = new Map<string, number[]>();
    const headroom: number[] = [];
    const simd: number[] = [];
    const shardTimes: number[] = [];
    const push = (key: string, values: number[]) => times.set(key, [...(times.get(key) ?? []), ...values]);
    for (let r = 0; r < rounds; r++) {
      const line: string[] = [];
      for (const n of counts) {
        for (const kind of ['plain', 'od']) {
          const trainer = trainers.get(`${kind}-${n}`) as SupernetTrainer;
          const own: number[] = [];
          for (let i = 0; i < steps; i++) {
            const t0 = performance.now();
            await trainer.trainStep();
            own.push((performance.now() - t0) / 1000);
          }
          push(`${kind}-${n}`, own);
          line.push(`${kind} ${n}w ${(BATCH / median(own)).toFixed(0)}`);
        }
        const worker = torch.get(n);
        if (worker) {
          const t = (await worker.call({ cmd: 'time', steps, threads: n }))['times'] as number[];
          push(`torch-${n}`, t);
          line.push(`torch ${n}t ${(BATCH / median(t)).toFixed(0)}`);
        }
      }
      if (maxWorkers > 1) {
        const shard = trainers.get('plain-shard') as SupernetTrainer;
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          await shard.trainStep();
          shardTimes.push((performance.now() - t0) / 1000);
        }
        headroom.push((await parallelHeadroom(maxWorkers)).speedup);
        simd.push((await simdHeadroom(maxWorkers)).speedup);
      }
      log(`  round ${r + 1}/${rounds} (img/s): ${line.join(', ')}${maxWorkers > 1 ? `; controls on ${maxWorkers} threads: busy loop ${(headroom.at(-1) as number).toFixed(2)}×, SIMD matMul ${(simd.at(-1) as number).toFixed(2)}×` : ''}`);
    }
    const rate = (key: string) => (times.has(key) ? BATCH / median(times.get(key) as number[]) : undefined);
    const curve = counts.map((n) => {
      const plain = rate(`plain-${n}`) as number;
      const od = rate(`od-${n}`) as number;
      const pytorch = rate(`torch-${n}`);
      return {
        workers: n,
        plainImagesPerSec: plain,
        orderedDropoutImagesPerSec: od,
        plainSpeedupOverOneWorker: plain / (rate('plain-1') as number),
        orderedDropoutSpeedupOverOneWorker: od / (rate('od-1') as number),
        ...(pytorch !== undefined ? { pytorchThreads: n, pytorchImagesPerSec: pytorch, plainRatioToPytorch: plain / pytorch } : {}),
      };
    });
    const two = curve[1];
    // The split batch's bound: a shard's step with no synchronization, and the SIMD arithmetic's parallel gain.
    const shardStepSec = shardTimes.length > 0 ? median(shardTimes) : undefined;
    const halfBatchGain = shardStepSec !== undefined ? median(times.get('plain-1') as number[]) / shardStepSec : undefined;
    const splitBound = halfBatchGain !== undefined && simd.length > 0 ? (halfBatchGain * median(simd)) / maxWorkers : undefined;
    const results = {
      network: DEMO_NETWORK,
      backend: backend.description,
      ...(torchVersion !== undefined ? { torch: torchVersion } : { torchSkipped: missing }),
      cores: os.cpus().length,
      loadAverageAtStart: load,
      loadAverageAtEnd: os.loadavg()[0],
      batch: BATCH,
      rounds,
      stepsPerRound: steps,
      curve,
      goal: '2 workers ≥ 1.7 × 1 worker',
      // What the machine offered meanwhile: a CPU-bound loop on maxWorkers threads vs one, once per round.
      busyLoopControl: { threads: maxWorkers, speedups: headroom, median: headroom.length > 0 ? median(headroom) : undefined },
      simdControl: { threads: maxWorkers, what: 'tfjs-wasm float32 matMul 256×256, 150 per thread', speedups: simd, median: simd.length > 0 ? median(simd) : undefined },
      ...(shardStepSec !== undefined ? {
        shard: { batch: shardBatch, plainStepSec: shardStepSec, oneThreadStepAt32OverStepAtShard: halfBatchGain, splitBatchBound: splitBound },
      } : {}),
      ...(two ? { twoWorkersPlainSpeedup: two.plainSpeedupOverOneWorker, twoWorkersOrderedDropoutSpeedup: two.orderedDropoutSpeedupOverOneWorker } : {}),
      measuredAt: new Date().toISOString(),
    };
    if (headroom.length > 0) log(`controls: ${maxWorkers} threads did ${median(headroom).toFixed(2)}× the work of one (busy loop), ${median(simd).toFixed(2)}× (SIMD matMul) (medians of the rounds)`);
    if (halfBatchGain !== undefined && splitBound !== undefined) {
      log(`a shard alone: the 1-thread step at ${BATCH} takes ${halfBatchGain.toFixed(2)}× its step at ${shardBatch}; with the SIMD control, a split batch can gain at most ${splitBound.toFixed(2)}× here`);
    }
    for (const p of curve) {
      log(`${p.workers} worker(s): plain ${p.plainImagesPerSec.toFixed(0)} img/s (${p.plainSpeedupOverOneWorker.toFixed(2)}×), ordered dropout ${p.orderedDropoutImagesPerSec.toFixed(0)} img/s (${p.orderedDropoutSpeedupOverOneWorker.toFixed(2)}×)` +
        (p.pytorchImagesPerSec !== undefined ? `; PyTorch ${p.workers} thread(s) ${p.pytorchImagesPerSec.toFixed(0)} img/s, ratio ${(p.plainRatioToPytorch as number).toFixed(2)}` : ''));
    }
    return results;
  } finally {
    for (const w of torch.values()) w.close();
    for (const t of trainers.values()) t.dispose();
    closeGradientEngines();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (runAsScript(import.meta.url)) {
  writeBenchResult('data-parallel', await runDataParallelBench(numberFlags({ rounds: 'rounds', steps: 'steps', maxWorkers: 'max-workers' })));
}
