import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  fullSubnet,
  loadNetwork,
  minimalSubnet,
  randomSubnet,
  resolveNetwork,
  searchSpace,
  type NetworkSpec,
  type SubnetConfig,
} from '../../../core/arch/index.ts';
import { Rng } from '../../../core/random.ts';
import { maskedForward } from '../../../core/supernet/forward.ts';
import { materialize } from '../../../core/supernet/materialize.ts';
import { planBatch } from '../../../core/supernet/plan.ts';
import { randomImages, randomizedWeights, relativeError, smallSpec } from './fixtures.ts';
import { useTestBackend } from './backend.ts';

beforeAll(async () => {
  await useTestBackend();
});

/** Sub-networks that exercise removed layers, removed blocks, bottlenecks and kernels cut from larger ones. */
function interestingSubnets(spec: NetworkSpec, count: number, seed: number): SubnetConfig[] {
  const space = searchSpace(spec);
  const rng = new Rng(seed);
  const out: SubnetConfig[] = [fullSubnet(space), minimalSubnet(space)];
  const units = [...new Set(space.layers.map((l) => l.unit))];
  while (out.length < count) {
    const config = randomSubnet(space, rng);
    // Remove one or two whole blocks (every layer of the unit at level 0 when allowed).
    for (let r = 0; r < 1 + rng.int(2); r++) {
      const unit = rng.pick(units);
      space.layers.forEach((layer, i) => {
        if (layer.unit === unit) config.levels[i] = layer.minLevel;
      });
    }
    // Many removed single layers.
    space.layers.forEach((layer, i) => {
      if (rng.next() < 0.2) config.levels[i] = layer.minLevel;
    });
    out.push(config);
  }
  return out;
}

function compareMaskedAndSlim(spec: NetworkSpec, configs: SubnetConfig[], batchPerConfig: number, seed: number): number[] {
  const weights = randomizedWeights(spec, seed);
  const errors: number[] = [];
  try {
    const x = randomImages(batchPerConfig * configs.length, spec.input.height, spec.input.width, spec.input.channels, seed + 7);
    // One masked pass over all sub-networks at once (each image its own sub-network)...
    const subnets = configs.flatMap((c) => new Array<SubnetConfig>(batchPerConfig).fill(c));
    const plan = planBatch(spec, subnets.length, subnets);
    const masked = tf.tidy(() => maskedForward(weights, x, { training: false, plan }));
    plan.dispose();
    configs.forEach((config, i) => {
      const slim = materialize(weights, config);
      const xi = tf.slice(x, [i * batchPerConfig, 0, 0, 0], [batchPerConfig, -1, -1, -1]);
      const out = slim.predict(xi);
      const fromMasked = tf.slice(masked, [i * batchPerConfig, ...new Array<number>(masked.rank - 1).fill(0)], [batchPerConfig, ...new Array<number>(masked.rank - 1).fill(-1)]);
      expect(out.shape).toEqual(fromMasked.shape.slice(0, out.rank));
      errors.push(relativeError(fromMasked, out));
      const folded = slim.folded();
      const outFolded = folded.predict(xi);
      errors.push(relativeError(out, outFolded));
      tf.dispose([xi, out, fromMasked, outFolded]);
      folded.dispose();
      slim.dispose();
    });
    tf.dispose([x, masked]);
  } finally {
    weights.dispose();
  }
  return errors;
}

describe('materialized sub-networks equal the masked super-network', () => {
  it('small test network: 24 sub-networks (removed layers and blocks, bottlenecks, 3×3 from 7×7), folded == unfolded', () => {
    const spec = smallSpec();
    const configs = interestingSubnets(spec, 24, 11);
    const space = searchSpace(spec);
    const b2dw = space.layers.findIndex((l) => l.id === 'b2.dw');
    configs[2]!.kernels[b2dw] = 3;
    const removedSomewhere = configs.some((c) => resolveNetwork(spec, c).layers.some((l) => l.removed && l.op !== 'se'));
    expect(removedSomewhere).toBe(true);
    const errors = compareMaskedAndSlim(spec, configs, 2, 3);
    expect(Math.max(...errors)).toBeLessThan(1e-4);
  });

  it('the same sub-network gives the same output whatever the other images in the batch run', () => {
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 5);
    const space = searchSpace(spec);
    const configs = interestingSubnets(spec, 4, 9);
    const x = randomImages(4, 16, 16, 3, 1);
    const planMixed = planBatch(spec, 4, configs);
    const mixed = tf.tidy(() => maskedForward(weights, x, { training: false, plan: planMixed }));
    const planSame = planBatch(spec, 4, new Array<SubnetConfig>(4).fill(configs[3]!));
    const same = tf.tidy(() => maskedForward(weights, x, { training: false, plan: planSame }));
    const a = tf.slice(mixed, [3, 0], [1, -1]);
    const b = tf.slice(same, [3, 0], [1, -1]);
    expect(relativeError(a, b)).toBeLessThan(1e-5);
    expect(space.layers.length).toBeGreaterThan(10);
    tf.dispose([x, mixed, same, a, b]);
    planMixed.dispose();
    planSame.dispose();
    weights.dispose();
  });

  for (const [name, count] of [['mobilenet-v3-large-32', 6], ['netadaptv2-latency-32', 6], ['fastdepth-64', 4]] as const) {
    it(`${name}: ${count} sub-networks`, () => {
      const spec = loadNetwork(name);
      const configs = interestingSubnets(spec, count, 21);
      const errors = compareMaskedAndSlim(spec, configs, 1, 4);
      expect(Math.max(...errors)).toBeLessThan(1e-4);
    });
  }
});

describe('slim inference path (BN folded once, fused ops)', () => {
  it('a prediction made before recalibration does not leave stale folded weights behind; no tensors leak', () => {
    const spec = smallSpec();
    const weights = randomizedWeights(spec, 31);
    try {
      const config = interestingSubnets(spec, 3, 5)[2] as SubnetConfig;
      const start = tf.memory().numTensors;
      const x = randomImages(4, spec.input.height, spec.input.width, spec.input.channels, 9);
      const batches = [randomImages(8, spec.input.height, spec.input.width, spec.input.channels, 10)];
      const used = materialize(weights, config);
      const fresh = materialize(weights, config);
      tf.dispose(used.predict(x)); // folds and caches with the stored statistics
      used.recalibrate(batches);
      fresh.recalibrate(batches);
      const a = used.predict(x);
      const b = fresh.predict(x);
      expect(relativeError(b, a)).toBeLessThan(1e-6);
      tf.dispose([a, b]);
      used.dispose();
      fresh.dispose();
      tf.dispose([x, ...batches]);
      expect(tf.memory().numTensors).toBe(start);
    } finally {
      weights.dispose();
    }
  });
});

describe('depthwise layers with bypass channels run as one widened depthwise conv', () => {
  it('relu depthwise layers with bypass (stride 1 and 2) after a relu expansion match the masked network', () => {
    const spec = loadNetwork('mobilenet-v3-large-32');
    const space = searchSpace(spec);
    const rng = new Rng(77);
    // Sub-networks where a relu depthwise layer keeps bypass channels right after a full relu expansion conv.
    const qualifies = (config: SubnetConfig, stride: number): boolean => {
      const layers = resolveNetwork(spec, config).layers;
      return layers.some((l, i) => {
        const prev = layers[i - 1];
        return l.op === 'dwconv' && l.act === 'relu' && l.stride === stride && l.filters > 0 && l.bypassChannels > 0 &&
          prev !== undefined && prev.op === 'conv' && prev.act === 'relu' && prev.filters > 0 && prev.bypassChannels === 0;
      });
    };
    const configs: SubnetConfig[] = [];
    for (const stride of [1, 2]) {
      let found: SubnetConfig | undefined;
      for (let i = 0; i < 500 && !found; i++) {
        const c = randomSubnet(space, rng);
        if (qualifies(c, stride)) found = c;
      }
      expect(found, `a sub-network with a stride-${stride} relu depthwise bypass`).toBeDefined();
      configs.push(found as SubnetConfig);
    }
    const errors = compareMaskedAndSlim(spec, configs, 2, 8);
    expect(Math.max(...errors)).toBeLessThan(1e-4);
  });
});
