/**
 * Where one sample's ONNX evaluation spends its time (onnx-evaluator.ts phases, one thread): materialize, reading the
 * raw weights, exporting + creating the calibration session, the calibration runs, folding + exporting + creating the
 * scoring session, and the scoring runs; medians over sub-networks of the demo network (weights as initialized: the
 * phases' times do not depend on what was learned), and ONNX Runtime's per-node profile of the full network's
 * calibration and scoring runs aggregated by operator. Writes bench/results/fast-eval-phases.json.
 *
 *   npx tsx bench/fast-eval-phases.ts [--subnets 12]
 */
import { loadNetwork, resolveNetwork } from '../core/arch/index.ts';
import { syntheticClassification } from '../core/data/synthetic-classification.ts';
import { median } from '../core/stats.ts';
import { exportOnnxNetwork, ONNX_INPUT, statisticsOutputs } from '../core/export/onnx/network.ts';
import { createOnnxSession } from '../core/export/runtime/onnxruntime.ts';
import { evaluationImages } from '../core/supernet/evaluate.ts';
import { materialize } from '../core/supernet/materialize.ts';
import { pickSubnetsOverMacs } from '../core/supernet/ranking.ts';
import { DEMO_NETWORK, demoTrainConfig } from '../core/supernet/training/recipes.ts';
import { BN_EPSILON, SupernetWeights } from '../core/supernet/weights.ts';
import { initBackend } from '../core/tensor/backend.ts';
import type * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const load = os.loadavg()[0];
const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-'));
await initBackend();
const args = process.argv.slice(2);
const subnets = Number(args[args.indexOf('--subnets') + 1] ?? 12) || 12;
const spec = loadNetwork(DEMO_NETWORK);
const weights = SupernetWeights.init(spec, 1);
const dataset = syntheticClassification({ trainSize: 2000, heldoutSize: 1000, testSize: 0, seed: 1 });
const images = evaluationImages({ dataset, limit: 500, calibrationBatches: 3 });
const picked = pickSubnetsOverMacs(spec, 'shrink', subnets, demoTrainConfig(2), 3);
const phases = new Map<string, number[]>();
const add = (name: string, ms: number) => (phases.get(name) ?? phases.set(name, []).get(name)!).push(ms);
const read = (t: tf.Tensor) => new Float32Array(t.dataSync() as Float32Array);

for (const [k, p] of [{ config: undefined, macs: resolveNetwork(spec).macs }, ...picked].entries()) {
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    if (k > 0) add(name, now - t); // the first sub-network warms up
    t = now;
  };
  const slim = materialize(weights, p.config);
  lap('materialize');
  const raw = new Map();
  const bn = new Map();
  for (const [id, q] of slim.params) {
    if (q.kind === 'se') raw.set(id, { kind: 'se', reduce: read(q.reduce), reduceBias: read(q.reduceBias), expand: read(q.expand), expandBias: read(q.expandBias) });
    else if (q.kind === 'fc') raw.set(id, { kind: 'fc', kernel: read(q.kernel), bias: read(q.bias) });
    else {
      const m = q.kind === 'conv' ? (q.kernel.shape[3] as number) : (q.kernel.shape[2] as number);
      raw.set(id, { kind: q.kind, kernel: read(q.kernel), bias: q.bias ? read(q.bias) : new Float32Array(m) });
      if (q.bn) bn.set(id, { gamma: read(q.bn.gamma), beta: read(q.bn.beta) });
    }
  }
  lap('read raw weights');
  const calibModel = exportOnnxNetwork(slim.resolved, raw, { batchNorm: bn, epsilon: BN_EPSILON });
  lap('export calibration graph');
  const calib = await createOnnxSession(calibModel, { threads: 1, optimization: 'basic', ...(k === 0 ? { profilePrefix: path.join(profileDir, 'calibration') } : {}) });
  lap('create calibration session');
  const fetch = [...bn.keys()].flatMap((id) => Object.values(statisticsOutputs(id)));
  for (const b of images.calibration) await calib.run({ [ONNX_INPUT]: { data: b.images, dims: [b.size, b.height, b.width, 3] } }, fetch);
  lap('calibration runs (3×64)');
  calib.endProfiling();
  calib.dispose();
  const folded = slim.foldedWeights();
  lap('fold weights');
  const model = exportOnnxNetwork(slim.resolved, folded);
  lap('export scoring graph');
  const session = await createOnnxSession(model, { threads: 1, optimization: 'all', ...(k === 0 ? { profilePrefix: path.join(profileDir, 'scoring') } : {}) });
  lap('create scoring session');
  for (const b of images.heldOut) await session.run({ [ONNX_INPUT]: { data: b.images, dims: [b.size, b.height, b.width, 3] } });
  lap('scoring runs (500)');
  session.endProfiling();
  session.dispose();
  slim.dispose();
  lap('dispose');
}
let total = 0;
const medians: Record<string, number> = {};
for (const [name, ms] of phases) {
  medians[name] = median(ms);
  total += median(ms);
  console.log(`${name.padEnd(28)} ${median(ms).toFixed(1).padStart(7)} ms (median of ${ms.length})`);
}
console.log(`${'sum of medians'.padEnd(28)} ${total.toFixed(1).padStart(7)} ms → ${((500 / total) * 1000).toFixed(0)} held-out img/s per thread`);

/** Kernel time per operator in ORT's profile (chrome-trace JSON: "Node" events named …_kernel_time). */
function operatorShares(prefix: string): Record<string, number> {
  const file = fs.readdirSync(profileDir).find((f) => f.startsWith(prefix));
  if (!file) return {};
  const events = JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')) as { cat: string; name: string; dur: number; args: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args.op_name) byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
  const sum = [...byOp.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries([...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([op, us]) => [op, Number((us / sum).toFixed(3))]));
}
const results = {
  network: DEMO_NETWORK,
  cores: os.cpus().length,
  loadAverageAtStart: load,
  loadAverageAtEnd: os.loadavg()[0],
  subnetworks: subnets,
  heldoutImages: 500,
  calibrationImages: images.calibration.length * 64,
  medianMsPerPhase: medians,
  sumOfMediansMs: total,
  heldoutImagesPerSecPerThread: (500 / total) * 1000,
  kernelTimeShareByOperator: { calibration: operatorShares('calibration'), scoring: operatorShares('scoring') },
  measuredAt: new Date().toISOString(),
};
fs.rmSync(profileDir, { recursive: true, force: true });
const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', 'fast-eval-phases.json');
fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
