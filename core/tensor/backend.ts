/**
 * One place that picks and initializes the tfjs backend for the whole engine.
 *
 * Order for 'auto': tfjs-node (native TensorFlow, optional dependency) → wasm (XNNPACK, SIMD, one thread, with our
 * gradient kernels from wasm-gradients.ts) → the pure-JS cpu backend. NETADAPT_BACKEND=node|wasm|cpu overrides 'auto'.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ValidationError } from '../errors.ts';
import { registerWasmGradientKernels } from './wasm-gradients.ts';

export type TensorBackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | 'node' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  /** Which backend to try first; the ones after it in the order node → wasm → cpu are fallbacks. Default 'auto'. */
  prefer?: BackendPreference;
  /** Receives one line per decision (which backend runs, why another one was skipped). */
  log?: (msg: string) => void;
  /** Folder holding the tfjs-backend-wasm *.wasm binaries; default: the installed package's dist folder. */
  wasmDir?: string;
}

export interface TensorBackend {
  tf: typeof tf;
  name: TensorBackendName;
  /** Human-readable description, e.g. "wasm (SIMD, 1 thread)". */
  description: string;
}

export const BACKEND_ENV_VAR = 'NETADAPT_BACKEND';

const FALLBACK_ORDER: readonly Exclude<BackendPreference, 'auto'>[] = ['node', 'wasm', 'cpu'];

let initialized: Promise<TensorBackend> | undefined;

/**
 * Initializes the tfjs backend once per process and returns it. Later calls return the same result whatever
 * options they pass (the first call decides), so every caller can simply `await initBackend()`.
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<TensorBackend> {
  initialized ??= chooseBackend(opts).catch((err: unknown) => {
    initialized = undefined;
    throw err;
  });
  return initialized;
}

/** Resolves the effective preference: an explicit non-'auto' option wins, then the env var, then 'auto'. */
export function resolvePreference(
  prefer: BackendPreference | undefined,
  env: NodeJS.ProcessEnv = process.env,
): BackendPreference {
  if (prefer !== undefined && prefer !== 'auto') return prefer;
  const fromEnv = env[BACKEND_ENV_VAR]?.trim().toLowerCase();
  if (fromEnv === undefined || fromEnv === '' || fromEnv === 'auto') return 'auto';
  if (fromEnv === 'node' || fromEnv === 'wasm' || fromEnv === 'cpu') return fromEnv;
  throw new ValidationError(
    `${BACKEND_ENV_VAR}='${env[BACKEND_ENV_VAR] ?? ''}' is not a tensor backend; use one of: node, wasm, cpu, auto.`,
  );
}

/** The candidates to try, in order, for a preference. */
export function candidateOrder(preference: BackendPreference): Exclude<BackendPreference, 'auto'>[] {
  if (preference === 'auto') return [...FALLBACK_ORDER];
  return FALLBACK_ORDER.slice(FALLBACK_ORDER.indexOf(preference));
}

async function chooseBackend(opts: InitBackendOptions): Promise<TensorBackend> {
  const log = opts.log ?? (() => undefined);
  const preference = resolvePreference(opts.prefer);
  for (const candidate of candidateOrder(preference)) {
    const result = await tryCandidate(candidate, opts, log);
    if (result !== undefined) {
      log(`tensor backend: ${result.description}`);
      return result;
    }
  }
  // The cpu backend is pure JS and always registered; failing here means tfjs itself is broken.
  throw new Error('No tfjs backend could be initialized (not even cpu).');
}

async function tryCandidate(
  candidate: Exclude<BackendPreference, 'auto'>,
  opts: InitBackendOptions,
  log: (msg: string) => void,
): Promise<TensorBackend | undefined> {
  switch (candidate) {
    case 'node':
      return tryNode(log);
    case 'wasm':
      return tryWasm(opts.wasmDir, log);
    case 'cpu':
      return (await activate('cpu', log))
        ? { tf, name: 'cpu', description: 'cpu (pure JavaScript, slow)' }
        : undefined;
  }
}

async function tryNode(log: (msg: string) => void): Promise<TensorBackend | undefined> {
  // A variable specifier keeps TypeScript from requiring the (optional, usually absent) package's types.
  const specifier = '@tensorflow/tfjs-node';
  try {
    // eslint-disable-next-line layers/imports -- an optional npm package, not a module of this project
    await import(specifier);
  } catch (err) {
    log(`tfjs-node not available (${firstLine(err)}); trying the next backend`);
    return undefined;
  }
  return (await activate('tensorflow', log))
    ? { tf, name: 'tensorflow', description: 'tensorflow (native, tfjs-node)' }
    : undefined;
}

async function tryWasm(wasmDir: string | undefined, log: (msg: string) => void): Promise<TensorBackend | undefined> {
  try {
    const dir = wasmDir ?? defaultWasmDir();
    // Checked here because a missing binary makes the emscripten loader print several lines of abort noise.
    const binary = path.join(dir, 'tfjs-backend-wasm-simd.wasm');
    if (!existsSync(binary)) throw new Error(`${binary} does not exist`);
    // The prefix is concatenated with the binary's file name, so it needs the trailing separator.
    setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  } catch (err) {
    log(`wasm backend binaries not found (${firstLine(err)}); trying the next backend`);
    return undefined;
  }
  registerWasmGradientKernels();
  if (!(await activate('wasm', log))) return undefined;
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  return { tf, name: 'wasm', description: `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)` };
}

function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function activate(name: TensorBackendName, log: (msg: string) => void): Promise<boolean> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (err) {
    log(`backend '${name}' failed to initialize (${firstLine(err)}); trying the next backend`);
    return false;
  }
  if (!ok) {
    log(`backend '${name}' failed to initialize; trying the next backend`);
    return false;
  }
  await tf.ready();
  silenceCpuInstallHint();
  return true;
}

/**
 * The cpu backend prints an "install tfjs-node" banner on first use in Node. The choice of backend is made (and
 * logged) here, so the banner is noise; the cpu backend exposes no option for it, only this field.
 */
export function silenceCpuInstallHint(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu !== null && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n', 1)[0] ?? message;
}
