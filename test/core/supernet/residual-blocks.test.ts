/**
 * Residual blocks with channel-level bypass (docs/forward-semantics.md): a residual block carries every channel of its
 * input, and one whose every layer is removed is the identity. Checked through every consumer of the shapes: the
 * masked super-network, the slim (materialized) network, and the TFLite export run in LiteRT.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadNetwork, parseNetworkSpec, randomSubnet, resolveNetwork, searchSpace, type NetworkSpec, type SubnetConfig,
} from '../../../core/arch/index.ts';
import { exportNetwork } from '../../../core/export/network.ts';
import { loadTfliteRuntime, type TfliteRuntime } from '../../../core/export/runtime/litert.ts';
import { Rng } from '../../../core/random.ts';
import { maskedForward } from '../../../core/supernet/forward.ts';
import { materialize } from '../../../core/supernet/materialize.ts';
import { planBatch } from '../../../core/supernet/plan.ts';
import { SupernetWeights } from '../../../core/supernet/weights.ts';
import { useTestBackend } from './backend.ts';
import { randomImages, randomizedWeights, relativeError, smallSpec } from './fixtures.ts';

let runtime: TfliteRuntime;
beforeAll(async () => {
  await useTestBackend();
  runtime = await loadTfliteRuntime();
});
afterAll(() => undefined);

/** Units whose full-network projection is residual and removable (T > 0). */
function removableResidualUnits(spec: NetworkSpec): string[] {
  const space = searchSpace(spec);
  return resolveNetwork(spec).layers
    .filter((l) => l.residual && space.byId.get(l.id)?.minLevel === 0)
    .map((l) => l.unit);
}

function removeUnit(spec: NetworkSpec, config: SubnetConfig, unit: string): SubnetConfig {
  const space = searchSpace(spec);
  const out = { levels: config.levels.slice(), kernels: config.kernels.slice() };
  space.layers.forEach((layer, i) => {
    if (layer.unit === unit) out.levels[i] = 0;
  });
  return out;
}

/** The network without `unit`, and a sub-network config of it that makes the same choices as `config` elsewhere. */
function withoutUnit(spec: NetworkSpec, config: SubnetConfig, unit: string): { spec: NetworkSpec; config: SubnetConfig } {
  const smaller = parseNetworkSpec({ ...spec, name: `${spec.name}-without-${unit}`, layers: spec.layers.filter((u) => u.name !== unit) });
  const space = searchSpace(spec);
  const kept = space.layers.map((l, i) => [l, i] as const).filter(([l]) => l.unit !== unit).map(([, i]) => i);
  expect(searchSpace(smaller).layers.map((l) => l.id)).toEqual(kept.map((i) => space.layers[i]?.id));
  return { spec: smaller, config: { levels: kept.map((i) => config.levels[i] as number), kernels: kept.map((i) => config.kernels[i] as number) } };
}

function maskedOutput(weights: SupernetWeights, x: tf.Tensor4D, config: SubnetConfig): tf.Tensor {
  const plan = planBatch(weights.spec, x.shape[0], new Array<SubnetConfig>(x.shape[0]).fill(config));
  try {
    return tf.tidy(() => maskedForward(weights, x, { training: false, plan }));
  } finally {
    plan.dispose();
  }
}

function slimOutput(weights: SupernetWeights, x: tf.Tensor4D, config: SubnetConfig): tf.Tensor {
  const slim = materialize(weights, config);
  try {
    return slim.predict(x);
  } finally {
    slim.dispose();
  }
}

describe('a network with every layer of a residual block removed equals the network without that block', () => {
  for (const [name, seed] of [['small-test', 1], ['netadaptv2-latency-32', 2], ['mobilenet-v3-demo-deep-cbc-32', 3]] as const) {
    it(`${name}: each removable residual block, on a random sub-network elsewhere: masked and slim outputs at 1e-5, MACs`, () => {
      const spec = name === 'small-test' ? smallSpec() : loadNetwork(name);
      const units = removableResidualUnits(spec);
      expect(units.length).toBeGreaterThanOrEqual(2);
      const weights = randomizedWeights(spec, seed);
      const values = weights.snapshot();
      const rng = new Rng(seed * 31);
      const x = randomImages(2, spec.input.height, spec.input.width, spec.input.channels, seed + 5);
      try {
        for (const unit of units) {
          const config = removeUnit(spec, randomSubnet(searchSpace(spec), rng), unit);
          const other = withoutUnit(spec, config, unit);
          expect(resolveNetwork(spec, config).macs).toBe(resolveNetwork(other.spec, other.config).macs);
          expect(resolveNetwork(spec, config).params).toBe(resolveNetwork(other.spec, other.config).params);
          const otherWeights = new SupernetWeights(other.spec, (info) => values.get(info.name) as Float32Array);
          try {
            const outputs = [
              maskedOutput(weights, x, config), maskedOutput(otherWeights, x, other.config),
              slimOutput(weights, x, config), slimOutput(otherWeights, x, other.config),
            ];
            expect(relativeError(outputs[1] as tf.Tensor, outputs[0] as tf.Tensor), `${unit} masked`).toBeLessThan(1e-5);
            expect(relativeError(outputs[3] as tf.Tensor, outputs[2] as tf.Tensor), `${unit} slim`).toBeLessThan(1e-5);
            tf.dispose(outputs);
          } finally {
            otherWeights.dispose();
          }
        }
      } finally {
        x.dispose();
        weights.dispose();
      }
    });
  }
});

/** Random sub-networks that remove one or two residual blocks, remove a projection only, or narrow it below Cb. */
function residualSubnets(spec: NetworkSpec, count: number, rng: Rng): SubnetConfig[] {
  const space = searchSpace(spec);
  const units = removableResidualUnits(spec);
  const out: SubnetConfig[] = [];
  while (out.length < count) {
    let config = randomSubnet(space, rng);
    const kind = out.length % 3;
    space.layers.forEach((layer, i) => {
      if (layer.role !== 'project' || !units.includes(layer.unit)) return;
      if (kind === 1 && rng.next() < 0.5) config.levels[i] = 0; // projection alone removed, the block's other layers kept
      if (kind === 2 && rng.next() < 0.5) config.levels[i] = 1; // narrowest projection: M < Cb, often below T
    });
    for (let r = 0; r < 1 + rng.int(2); r++) config = removeUnit(spec, config, rng.pick(units));
    out.push(config);
  }
  return out;
}

describe('masked super-network == slim sub-network == exported TFLite (LiteRT) on sub-networks without residual blocks', () => {
  for (const [name, count] of [['small-test', 9], ['netadaptv2-latency-32', 6], ['mobilenet-v3-demo-deep-cbc-32', 6]] as const) {
    it(`${name}: ${count} sub-networks within 1e-4`, async () => {
      const spec = name === 'small-test' ? smallSpec() : loadNetwork(name);
      const configs = residualSubnets(spec, count, new Rng(name.length));
      const weights = randomizedWeights(spec, 13);
      const { height, width, channels } = spec.input;
      const x = randomImages(1, height, width, channels, 17);
      const image = x.dataSync() as Float32Array;
      let worstMasked = 0;
      let worstTflite = 0;
      try {
        for (const config of configs) {
          const resolved = resolveNetwork(spec, config);
          expect(resolved.layers.some((l) => l.residual && l.identity)).toBe(true);
          const masked = maskedOutput(weights, x, config);
          const slim = materialize(weights, config);
          const out = slim.predict(x);
          worstMasked = Math.max(worstMasked, relativeError(masked, out));
          const model = await runtime.load(exportNetwork(resolved, slim.foldedWeights(), { softmax: false }));
          try {
            const [lite] = await model.run([image]);
            const fromLite = tf.tensor(lite as Float32Array, out.shape);
            worstTflite = Math.max(worstTflite, relativeError(out, fromLite));
            fromLite.dispose();
          } finally {
            model.close();
          }
          tf.dispose([masked, out]);
          slim.dispose();
        }
      } finally {
        x.dispose();
        weights.dispose();
      }
      console.log(`${name}: masked vs slim ${worstMasked.toExponential(2)}, slim vs LiteRT ${worstTflite.toExponential(2)}`);
      expect(worstMasked).toBeLessThan(1e-4);
      expect(worstTflite).toBeLessThan(1e-4);
    });
  }
});
