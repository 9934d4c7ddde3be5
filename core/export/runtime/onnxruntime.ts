/**
 * ONNX Runtime on this computer (onnxruntime-node: the native CPU build with its MLAS kernels), loaded on first use
 * so a machine without it still runs everything else. Sessions run on the calling thread; `threads` sets the size of
 * the session's own intra-op pool (1 = no extra threads: one session per worker thread when parallelizing).
 */
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../../errors.ts';

type Ort = typeof OrtModule;

export interface OnnxSessionOptions {
  /** Intra-op threads (default 1). */
  threads?: number;
  /** Symbolic dimensions fixed for this session (e.g. { N: 64 }), which lets the runtime plan memory once. */
  fixedDims?: Record<string, number>;
  /**
   * Graph optimizations at session creation (default 'all', with the NCHWc conv layouts); 'basic' creates a
   * session faster, for graphs run only a few times.
   */
  optimization?: 'basic' | 'extended' | 'all';
  /** Write ORT's per-node profile (JSON) to files starting with this prefix. */
  profilePrefix?: string;
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; `fetch` limits the outputs computed (default: all). Outputs are the runtime's own arrays. */
  run(feeds: Readonly<Record<string, OnnxFeed>>, fetch?: readonly string[]): Promise<Record<string, Float32Array>>;
  /** Ends profiling and writes the profile file (`profilePrefix`…json in the working directory). */
  endProfiling(): void;
  dispose(): void;
}

export interface OnnxFeed {
  data: Float32Array | BigInt64Array | Int32Array;
  dims: readonly number[];
}

export class OnnxRuntimeUnavailableError extends UserError {}

let ortModule: Promise<Ort> | undefined;

/** Loads onnxruntime-node once; rejects with OnnxRuntimeUnavailableError when it is not installed or fails to load. */
export function loadOnnxRuntime(): Promise<Ort> {
  ortModule ??= import('onnxruntime-node').catch((err: unknown) => {
    ortModule = undefined;
    throw new OnnxRuntimeUnavailableError(`ONNX Runtime (onnxruntime-node) could not be loaded: ${firstLine(err)}`, [
      'run npm install (it is a dependency of NetAdapt Studio), or use the tfjs evaluator',
    ]);
  });
  return ortModule;
}

export async function createOnnxSession(model: Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const ort = await loadOnnxRuntime();
  const sessionOptions: InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.optimization ?? 'all',
    logSeverityLevel: 3,
    ...(options.fixedDims ? { freeDimensionOverrides: options.fixedDims } : {}),
    ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
  };
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, sessionOptions);
  } catch (err) {
    throw new Error(`ONNX Runtime rejected a generated model: ${firstLine(err)}`);
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetch) {
      const tensors: Record<string, Tensor> = {};
      for (const [name, feed] of Object.entries(feeds)) {
        const type = feed.data instanceof Float32Array ? 'float32' : feed.data instanceof Int32Array ? 'int32' : 'int64';
        tensors[name] = new ort.Tensor(type, feed.data, feed.dims);
      }
      const results = fetch ? await session.run(tensors, [...fetch]) : await session.run(tensors);
      const out: Record<string, Float32Array> = {};
      for (const [name, t] of Object.entries(results)) out[name] = t.data as Float32Array;
      return out;
    },
    endProfiling: () => {
      if (options.profilePrefix) session.endProfiling();
    },
    dispose: () => void session.release(),
  };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0] ?? message;
}
