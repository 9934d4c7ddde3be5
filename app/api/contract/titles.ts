/** What a job does, in words, for the jobs bar and History (the server titles every job it starts with these). */
import type { MethodName } from './methods.ts';

const NAMES: Partial<Record<MethodName, string>> = {
  deviceSetup: 'Setting up a phone',
  watchDevices: 'Watching for phones',
  sampleSearchSpace: 'Sampling the search space',
  buildLatencyTable: 'Building a latency table',
  validateLatencyTable: 'Validating a latency table',
  trainSupernet: 'Training a super-network',
  startSearch: 'Search',
  resumeSearch: 'Continuing a search',
};

function field(params: unknown, key: string): unknown {
  return typeof params === 'object' && params !== null ? (params as Record<string, unknown>)[key] : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** "Training a super-network of mobilenet-v3-demo-32", "Search: mobilenet-v3-demo-32 to 50% of its latency on host". */
export function jobTitle(method: string, params: unknown): string {
  const name = NAMES[method as MethodName] ?? method;
  const network = text(field(params, 'network'));
  const device = text(field(params, 'deviceId'));
  switch (method) {
    case 'trainSupernet':
    case 'sampleSearchSpace':
      return network ? `${name} of ${network}` : name;
    case 'buildLatencyTable':
    case 'validateLatencyTable':
      return [name, network ? `for ${network}` : '', device ? `on ${device === 'host' ? 'this computer' : device}` : ''].filter((p) => p).join(' ');
    case 'startSearch': {
      const target = text(field(params, 'target')) ?? '50%';
      const metric = text(field(params, 'metric')) ?? 'latency';
      const of = metric === 'latency' ? 'its latency' : metric === 'params' ? 'its parameters' : 'its MACs';
      const target2 = /%/.test(target) ? `${target} of ${of}` : `${target} ${metric === 'latency' ? 'ms' : metric}`;
      return `${name}: ${network ?? 'a network'} to ${target2}${metric === 'latency' && device ? ` on ${device === 'host' ? 'this computer' : device}` : ''}`;
    }
    case 'resumeSearch': {
      const run = text(field(params, 'runId'));
      return run ? `${name} (run ${run})` : name;
    }
    case 'deviceSetup':
      return device ? `${name}: ${device}` : name;
    default:
      return name;
  }
}

/**
 * A latency table's runtime options ("mask=all;runs=30;threads=1;warmup=5;…", latency/store/runtime-options.ts) in
 * words: "1 thread · all cores · 30 runs after 5 warm-up · XNNPACK".
 */
export function describeRuntimeOptions(options: string): string {
  if (options.trim() === '') return 'no table yet';
  const pairs = new Map(options.split(';').map((pair) => pair.split('=') as [string, string]).filter((p) => p.length === 2));
  const parts: string[] = [];
  const threads = pairs.get('threads');
  if (threads) parts.push(`${threads} thread${threads === '1' ? '' : 's'}`);
  const mask = pairs.get('mask');
  if (mask) parts.push(mask === 'all' ? 'all cores' : `cores 0x${mask}`);
  const runs = pairs.get('runs');
  const warmup = pairs.get('warmup');
  if (runs) parts.push(`${runs} runs${warmup ? ` after ${warmup} warm-up` : ''}`);
  const delegate = pairs.get('delegate');
  parts.push(delegate === undefined || delegate === 'xnnpack' ? 'XNNPACK' : delegate.toUpperCase());
  // A table of int8 models is another table of the same device: say so (float32 is the default, unnamed).
  const dtype = pairs.get('dtype');
  if (dtype) parts.push(dtype);
  return parts.join(' · ');
}
