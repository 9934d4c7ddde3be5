import { ValidationError } from '../../../core/errors.ts';

export interface CoreInfo {
  index: number;
  /** cpuinfo_max_freq in kHz, or null when the core exposes no cpufreq (offline, or no permission). */
  maxFreqKHz: number | null;
}

const MAX_CORES = 1024;

/** Hex affinity mask for `taskset`, e.g. cores [4, 5, 6, 7] → "f0". */
export function coresToHexMask(cores: readonly number[]): string {
  if (cores.length === 0) throw new ValidationError('a CPU mask needs at least one core');
  let mask = 0n;
  for (const core of cores) {
    if (!Number.isInteger(core) || core < 0 || core >= MAX_CORES) throw new ValidationError(`not a CPU core index: ${core}`);
    mask |= 1n << BigInt(core);
  }
  return mask.toString(16);
}

/** Core indices in a hex mask ("0x" prefix allowed); throws ValidationError for anything that is not a non-zero hex number. */
export function hexMaskToCores(mask: string): number[] {
  const digits = normalizeCpuMask(mask);
  const value = BigInt(`0x${digits}`);
  const cores: number[] = [];
  for (let core = 0; value >> BigInt(core) !== 0n; core++) if ((value >> BigInt(core)) & 1n) cores.push(core);
  return cores;
}

/** Lower-case hex digits without "0x" and leading zeros; rejects empty, zero and non-hex masks. */
export function normalizeCpuMask(mask: string): string {
  const digits = mask.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,256}$/.test(digits) || BigInt(`0x${digits}`) === 0n) {
    throw new ValidationError(`not a CPU mask: ${JSON.stringify(mask)}`, ['give a non-zero hexadecimal mask such as f0 (cores 4-7) or 80 (core 7)']);
  }
  return BigInt(`0x${digits}`).toString(16);
}

/**
 * The cores latency is measured on by default: the cluster with the highest max frequency (on phones with
 * a single "prime" core that is one big core). When that cluster has fewer cores than threads, the fastest
 * `threads` cores. Without any frequency information, all cores.
 */
export function defaultCpuCores(cores: readonly CoreInfo[], threads = 1): number[] {
  const known = cores.filter((core): core is { index: number; maxFreqKHz: number } => core.maxFreqKHz !== null);
  if (known.length === 0) return cores.map((core) => core.index);
  const fastest = Math.max(...known.map((core) => core.maxFreqKHz));
  const cluster = known.filter((core) => core.maxFreqKHz === fastest).map((core) => core.index);
  if (cluster.length >= threads) return cluster;
  return [...known]
    .sort((a, b) => b.maxFreqKHz - a.maxFreqKHz || a.index - b.index)
    .slice(0, threads)
    .map((core) => core.index)
    .sort((a, b) => a - b);
}

export function defaultCpuMask(cores: readonly CoreInfo[], threads = 1): string {
  return coresToHexMask(defaultCpuCores(cores, threads));
}

/** Parse a sysfs CPU list such as "0-3,6,8-9". */
export function parseCpuList(text: string): number[] {
  const cores: number[] = [];
  for (const part of text.trim().split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) continue;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (let core = from; core <= to && core < MAX_CORES; core++) cores.push(core);
  }
  return cores;
}
