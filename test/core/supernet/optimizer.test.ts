import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Optimizer } from '../../../core/supernet/optimizer.ts';
import { useTestBackend } from './backend.ts';

beforeAll(async () => {
  await useTestBackend();
});

/** A plain SGD optimizer (no momentum, no decay) over one parameter [0, 0, 0]; `lr` 1 makes the update the step itself. */
function sgdStep(grad: number[], clipNorm: number): { norm: number; after: number[] } {
  const variable = tf.variable(tf.zeros([grad.length]));
  const optimizer = new Optimizer({ name: 'sgd', momentum: 0, rmsDecay: 0.9, rmsEpsilon: 1e-3, weightDecay: 0 }, [{ name: 'w', variable, decay: false }]);
  const g = tf.tensor1d(grad);
  const norm = optimizer.apply({ [variable.name]: g }, 1, clipNorm);
  const after = Array.from(variable.dataSync());
  g.dispose();
  optimizer.dispose();
  variable.dispose();
  return { norm, after };
}

describe('Optimizer gradient clipping', () => {
  it('scales the gradients to the global norm limit and reports the norm before clipping', () => {
    const { norm, after } = sgdStep([3, 4, 0], 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(after[0]).toBeCloseTo(-0.6, 5);
    expect(after[1]).toBeCloseTo(-0.8, 5);
  });

  it('leaves gradients below the limit, or with clipping off, unchanged', () => {
    expect(sgdStep([3, 4, 0], 10).after[1]).toBeCloseTo(-4, 5);
    expect(sgdStep([3, 4, 0], 0).after[0]).toBeCloseTo(-3, 5);
  });
});
