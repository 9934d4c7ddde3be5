/**
 * Ops with their own gradient kernels on the wasm and cpu backends (JavaScript loops over the backends' memory):
 * hard-swish and hard-sigmoid here (core/tensor/kernels/activations.ts), training batch norm in
 * core/supernet/batch-norm.ts (kernels/batch-norm.ts). On other backends the same math runs as tf ops.
 */
import * as tf from '@tensorflow/tfjs';
import { HARD_SIGMOID, HARD_SIGMOID_GRAD, HARD_SWISH, HARD_SWISH_GRAD, activationKernelConfigs } from './kernels/activations.ts';
import { batchNormKernelConfigs } from './kernels/batch-norm.ts';

const KERNEL_BACKENDS = ['wasm', 'cpu'] as const;
let registered = false;

function ensureRegistered(): void {
  if (registered) return;
  registered = true;
  for (const backend of KERNEL_BACKENDS) {
    for (const config of [...activationKernelConfigs(backend), ...batchNormKernelConfigs(backend)]) {
      if (tf.getKernel(config.kernelName, backend) === undefined) tf.registerKernel(config);
    }
  }
}

/** True when the active backend runs the fused kernels (registering them on first call). */
export function fusedKernelsAvailable(): boolean {
  ensureRegistered();
  return (KERNEL_BACKENDS as readonly string[]).includes(tf.getBackend());
}

function fused<T extends tf.Tensor>(forward: string, backward: string, x: T): T {
  const op = tf.customGrad((input, saveArg) => {
    (saveArg as tf.GradSaveFunc)([input as tf.Tensor]);
    return {
      value: tf.engine().runKernel(forward, { x: input as tf.Tensor }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(backward, { x: saved[0] as tf.Tensor, dy }) as tf.Tensor,
    };
  });
  return op(x) as T;
}

/** relu6(x + 3) / 6 */
export function hardSigmoid<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && fusedKernelsAvailable()) return fused(HARD_SIGMOID, HARD_SIGMOID_GRAD, x);
  return tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6);
}

/** x · relu6(x + 3) / 6 */
export function hardSwish<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && fusedKernelsAvailable()) return fused(HARD_SWISH, HARD_SWISH_GRAD, x);
  return tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6));
}
