/**
 * Layout helpers tuned to the wasm backend's kernels (measured on tfjs-backend-wasm 4.22):
 * its Transpose is 5–10× slower on a plain [M, C] → [C, M] than on the same data viewed as [A, B, C] → [C, A, B];
 * its matMul runs on XNNPACK only untransposed and is ~5–10× slower with transposeA/transposeB.
 */
import * as tf from '@tensorflow/tfjs';

/** [M, C] → [C, M], via the backend's fast 3-D transpose path when M has a small divisor. */
export function transposeRows(x: tf.Tensor2D): tf.Tensor2D {
  const [m, c] = x.shape;
  const split = [8, 16, 4, 32, 2, 3, 5, 7].find((b) => m % b === 0 && m / b > 1);
  if (split === undefined) return tf.transpose(x);
  return tf.transpose(x.reshape([m / split, split, c]), [2, 0, 1]).reshape([c, m]);
}
