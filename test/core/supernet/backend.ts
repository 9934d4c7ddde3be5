import { initBackend } from '../../../core/tensor/backend.ts';

/**
 * Tests run on the wasm backend when it loads (fast, single-threaded, deterministic), else on cpu. The kill -9 test's
 * child process calls this too, so both sides compute with the same kernels.
 */
export async function useTestBackend(): Promise<void> {
  await initBackend({ prefer: 'wasm' });
}
