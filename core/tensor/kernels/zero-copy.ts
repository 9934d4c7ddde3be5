/**
 * Zero-copy Identity and same-dtype Cast for the wasm backend.
 *
 * tfjs clones (Identity) every tensor it saves for the backward pass, and gradient functions cast float32 masks to
 * float32. The wasm backend's Identity and Cast copy the whole buffer each time — hundreds of full-tensor copies per
 * training step. Tensors are immutable in tfjs, so, like the cpu backend does, we share the buffer and count a
 * reference instead.
 */
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

function shareBuffer(x: TensorInfo, backend: unknown): TensorInfo {
  (backend as KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs['x'];
  if (x === undefined) throw new Error('Identity: missing input x');
  return shareBuffer(x, backend);
};

export const zeroCopyIdentityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity,
};

/** Cast that shares the buffer when the dtype does not change and defers to the backend's own Cast otherwise. */
export function zeroCopyCastConfig(original: KernelConfig): KernelConfig {
  const cast: KernelFunc = (args) => {
    const x = args.inputs['x'];
    const { dtype } = args.attrs as unknown as { dtype: string } & NamedAttrMap;
    if (x !== undefined && x.dtype === dtype && dtype !== 'string') return shareBuffer(x, args.backend);
    return original.kernelFunc(args);
  };
  return { ...original, kernelName: 'Cast', backendName: 'wasm', kernelFunc: cast };
}
