/** Which elements of every parameter a sub-network uses, derived from the one slicing implementation (materialize). */
import type * as tf from '@tensorflow/tfjs';
import type { SubnetConfig } from '../arch/index.ts';
import { materialize } from './materialize.ts';
import { SupernetWeights } from './weights.ts';

/** Which elements of each parameter belong to a sub-network: 1 = in its slice. */
export type SliceMasks = Map<string, Uint8Array>;

/**
 * The sub-network's slice of every parameter, found with `materialize` (the single source of the slicing rules):
 * it slices a copy of the layout whose elements hold their own index + 1, and every value that comes out marks an
 * element in the slice. Parameters of layers the sub-network removes are all-zero masks.
 */
export function subnetSliceMasks(weights: SupernetWeights, subnet: SubnetConfig): SliceMasks {
  const probe = new SupernetWeights(weights.spec, (info) => {
    const size = info.shape.reduce((a, b) => a * b, 1);
    if (size >= 2 ** 24) throw new Error(`parameter ${info.name} is too large to probe its slice`);
    return Float32Array.from({ length: size }, (_, i) => i + 1);
  });
  const masks: SliceMasks = new Map();
  for (const info of probe.layout) masks.set(info.name, new Uint8Array(info.shape.reduce((a, b) => a * b, 1)));
  const slim = materialize(probe, subnet);
  try {
    const mark = (name: string, t: tf.Tensor | undefined) => {
      if (!t) return;
      const mask = masks.get(name) as Uint8Array;
      for (const v of t.dataSync() as Float32Array) mask[v - 1] = 1;
    };
    for (const [id, p] of slim.params) {
      if (p.kind === 'se') {
        mark(`${id}.reduce`, p.reduce);
        mark(`${id}.reduce_bias`, p.reduceBias);
        mark(`${id}.expand`, p.expand);
        mark(`${id}.expand_bias`, p.expandBias);
      } else if (p.kind === 'fc') {
        mark(`${id}.kernel`, p.kernel);
        mark(`${id}.bias`, p.bias);
      } else {
        mark(`${id}.kernel`, p.kernel);
        mark(`${id}.bias`, p.bias);
        if (p.bn) {
          mark(`${id}.gamma`, p.bn.gamma);
          mark(`${id}.beta`, p.bn.beta);
          mark(`${id}.mean`, p.bn.mean);
          mark(`${id}.variance`, p.bn.variance);
        }
      }
    }
  } finally {
    slim.dispose();
    probe.dispose();
  }
  return masks;
}
