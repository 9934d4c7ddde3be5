/**
 * The TFLite delegates a latency table can be measured with, the benchmark_model flags that select each one, and
 * the check that the tool really applied it (benchmark_model falls back to the CPU when a delegate cannot be
 * created, e.g. NNAPI on a phone without an accelerator driver, and would otherwise time the CPU under a GPU key).
 */
import type { DelegateReport } from './parse.ts';

export const DELEGATES = ['xnnpack', 'cpu', 'gpu', 'nnapi'] as const;
export type Delegate = (typeof DELEGATES)[number];

const DESCRIPTIONS: Record<Delegate, string> = {
  xnnpack: 'XNNPACK (TFLite\'s optimized CPU kernels)',
  cpu: 'plain CPU (TFLite\'s built-in kernels, XNNPACK off)',
  gpu: 'GPU delegate (OpenCL/OpenGL; unsupported ops on the built-in CPU kernels)',
  nnapi: 'NNAPI (the phone\'s accelerator drivers; unsupported ops on the built-in CPU kernels)',
};

export function describeDelegate(delegate: Delegate): string {
  return DESCRIPTIONS[delegate];
}

export function parseDelegate(text: string): Delegate {
  const found = DELEGATES.find((d) => d === text.trim().toLowerCase());
  if (!found) throw new Error(`unknown delegate ${JSON.stringify(text)}`);
  return found;
}

/**
 * Flags for benchmark_model (tensorflow/lite/tools/delegates: --use_xnnpack, --use_gpu, --use_nnapi). XNNPACK is
 * always set explicitly: recent tools apply it by default, so leaving it out would make 'cpu' mean XNNPACK.
 */
export function delegateFlags(delegate: Delegate): string[] {
  switch (delegate) {
    case 'xnnpack':
      return ['--use_xnnpack=true'];
    case 'cpu':
      return ['--use_xnnpack=false'];
    case 'gpu':
      return ['--use_gpu=true', '--use_xnnpack=false'];
    case 'nnapi':
      return ['--use_nnapi=true', '--use_xnnpack=false'];
  }
}

/** The name benchmark_model prints for each delegate ("Explicitly applied GPU delegate, ..."). */
const TOOL_NAMES: Record<Exclude<Delegate, 'cpu'>, string> = { xnnpack: 'XNNPACK', gpu: 'GPU', nnapi: 'NNAPI' };

export interface DelegateCheck {
  /** Set when the measurement does not time the requested delegate: the model fails with this reason. */
  problem?: string;
  /** Flags for the entry, e.g. 'partially-delegated'. */
  flags: string[];
}

/** Whether a benchmark_model log shows the requested delegate at work (see parse.ts for the lines read). */
export function checkDelegate(delegate: Delegate, reports: readonly DelegateReport[], output: string): DelegateCheck {
  if (delegate === 'cpu') {
    const applied = reports.find((r) => r.coverage !== 'none');
    return applied ? { problem: `benchmark_model applied the ${applied.name} delegate although plain CPU was asked for`, flags: [] } : { flags: [] };
  }
  const name = TOOL_NAMES[delegate];
  const report = reports.find((r) => r.name.toUpperCase() === name);
  if (delegate !== 'xnnpack' && /NNAPI acceleration is unsupported|Failed to (?:apply|create) .*delegate/i.test(output)) {
    const line = output.split('\n').find((l) => /NNAPI acceleration is unsupported|Failed to (?:apply|create) .*delegate/i.test(l)) ?? '';
    return { problem: `the ${name} delegate is not available on this phone: ${line.replace(/^\s*(INFO|WARN|WARNING|ERROR):\s*/, '').trim()}`, flags: [] };
  }
  if (!report) {
    // Old tools print nothing about XNNPACK; for the others the run would silently be on the CPU.
    return delegate === 'xnnpack' ? { flags: [] } : { problem: `benchmark_model did not report applying the ${name} delegate (it ran on the CPU)`, flags: [] };
  }
  if (report.coverage === 'none') {
    if (delegate === 'xnnpack') return { flags: ['not-delegated'] };
    return { problem: `the ${name} delegate was created but executes no part of this model (it ran on the CPU)`, flags: [] };
  }
  return { flags: report.coverage === 'partial' ? ['partially-delegated'] : [] };
}
