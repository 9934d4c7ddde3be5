/**
 * What a latency measurement depends on: the phone, its build, the benchmark binary, the cores and
 * threads used. A latency table belongs to one fingerprint id; any change gives a new id.
 */
import { canonicalJson, sha256Hex } from '../../../core/hash.ts';
import { ValidationError } from '../../../core/errors.ts';
import type { DeviceBridge } from './bridge.ts';
import { DeviceCommandError } from './errors.ts';
import { defaultCpuMask, hexMaskToCores, normalizeCpuMask, parseCpuList } from './cpu-mask.ts';
import type { CoreInfo } from './cpu-mask.ts';

export const BENCHMARK_TOOL_PATH = '/data/local/tmp/benchmark_model';

export interface DeviceFingerprint {
  model: string;
  device: string;
  manufacturer: string;
  /** ro.board.platform, e.g. "kona". */
  platform: string;
  /** ro.soc.model (Android 12+), e.g. "SM8250"; null when the property is absent. */
  socModel: string | null;
  socManufacturer: string | null;
  sdk: number;
  buildFingerprint: string;
  abi: string;
  cores: CoreInfo[];
  /** scaling_governor of the measured cores (distinct values joined by ","), "unknown" if unreadable. */
  governor: string;
  /** sha256 of /data/local/tmp/benchmark_model, or null when it is not installed. */
  benchmarkToolSha256: string | null;
  threads: number;
  /** Hex taskset mask of the cores the benchmark is pinned to. */
  cpuMask: string;
  /**
   * The frequency the measured cores were pinned to (userspace governor, see frequency-pin.ts). Absent when not
   * pinned, so the ids of unpinned phones stay what they were.
   */
  pinnedFreqKHz?: number;
}

export interface FingerprintOptions {
  threads?: number;
  /** Hex mask; default: the fastest cluster (see defaultCpuMask). */
  cpuMask?: string;
  pinnedFreqKHz?: number;
}

const SECTION = '__NETADAPT_SECTION';
const CPU_DIR = '/sys/devices/system/cpu';

/** One shell round trip that prints everything the fingerprint needs, in marked sections. */
export function fingerprintScript(): string {
  const section = (name: string): string => `echo ${SECTION}_${name}__`;
  return [
    section('props'),
    'getprop',
    section('possible'),
    `cat ${CPU_DIR}/possible`,
    section('maxfreq'),
    `grep -H . ${CPU_DIR}/cpu[0-9]*/cpufreq/cpuinfo_max_freq`,
    section('governor'),
    `grep -H . ${CPU_DIR}/cpu[0-9]*/cpufreq/scaling_governor`,
    section('nproc'),
    'nproc',
    section('sha'),
    `sha256sum ${BENCHMARK_TOOL_PATH} || toybox sha256sum ${BENCHMARK_TOOL_PATH}`,
    section('end'),
  ].join('; ');
}

function splitSections(output: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const header = new RegExp(`^${SECTION}_([a-z]+)__$`).exec(line);
    if (header) sections.set(header[1] ?? '', (current = []));
    else current?.push(line);
  }
  return sections;
}

function perCoreValues(lines: readonly string[], file: string): Map<number, string> {
  const values = new Map<number, string>();
  const pattern = new RegExp(`^${CPU_DIR}/cpu(\\d+)/cpufreq/${file}:(.*)$`);
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) values.set(Number(match[1]), (match[2] ?? '').trim());
  }
  return values;
}

/** Turn the fingerprint script's output into a fingerprint (exported for tests). */
export function parseFingerprintOutput(output: string, options: FingerprintOptions = {}): DeviceFingerprint {
  const sections = splitSections(output);
  if (!sections.has('end')) {
    throw new DeviceCommandError('the device did not answer the fingerprint query completely', output.split('\n').slice(0, 5));
  }
  const props = new Map<string, string>();
  for (const line of sections.get('props') ?? []) {
    const match = /^\[([^\]]*)\]: \[(.*)\]$/.exec(line);
    if (match) props.set(match[1] ?? '', match[2] ?? '');
  }
  const maxFreqs = perCoreValues(sections.get('maxfreq') ?? [], 'cpuinfo_max_freq');
  const governors = perCoreValues(sections.get('governor') ?? [], 'scaling_governor');
  let indices = parseCpuList((sections.get('possible') ?? []).join(','));
  if (indices.length === 0) {
    const nproc = Number((sections.get('nproc') ?? [])[0]);
    indices = Number.isInteger(nproc) && nproc > 0 ? Array.from({ length: nproc }, (_, i) => i) : [...maxFreqs.keys()];
  }
  const cores: CoreInfo[] = indices.map((index) => {
    const khz = Number(maxFreqs.get(index));
    return { index, maxFreqKHz: Number.isInteger(khz) && khz > 0 ? khz : null };
  });
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new ValidationError(`threads must be 1..64, got ${threads}`);
  const cpuMask = options.cpuMask === undefined ? defaultCpuMask(cores, threads) : normalizeCpuMask(options.cpuMask);
  const measured = hexMaskToCores(cpuMask);
  const unknownCore = measured.find((core) => !indices.includes(core));
  if (unknownCore !== undefined) {
    throw new ValidationError(`CPU mask ${cpuMask} names core ${unknownCore}, but the device has cores ${indices.join(',')}`);
  }
  const measuredGovernors = [...new Set(measured.map((core) => governors.get(core)).filter((g): g is string => !!g))];
  const sha = (sections.get('sha') ?? []).map((line) => /^([0-9a-f]{64})\s/.exec(line)?.[1]).find((hash) => hash !== undefined);
  const prop = (key: string): string => props.get(key) ?? '';
  const optionalProp = (key: string): string | null => (props.get(key) ? (props.get(key) ?? null) : null);
  return {
    model: prop('ro.product.model'),
    device: prop('ro.product.device'),
    manufacturer: prop('ro.product.manufacturer'),
    platform: prop('ro.board.platform'),
    socModel: optionalProp('ro.soc.model'),
    socManufacturer: optionalProp('ro.soc.manufacturer'),
    sdk: Number(prop('ro.build.version.sdk')) || 0,
    buildFingerprint: prop('ro.build.fingerprint'),
    abi: prop('ro.product.cpu.abi'),
    cores,
    governor: measuredGovernors.length > 0 ? measuredGovernors.join(',') : 'unknown',
    benchmarkToolSha256: sha ?? null,
    threads,
    cpuMask,
    ...(options.pinnedFreqKHz !== undefined ? { pinnedFreqKHz: options.pinnedFreqKHz } : {}),
  };
}

/** Read the fingerprint of a device in one shell round trip. */
export async function readDeviceFingerprint(bridge: DeviceBridge, serial: string, options: FingerprintOptions = {}): Promise<DeviceFingerprint> {
  const { stdout } = await bridge.shell(serial, fingerprintScript(), { timeoutMs: 30_000 });
  return parseFingerprintOutput(stdout, options);
}

export { canonicalJson } from '../../../core/hash.ts';

/** Stable id of a fingerprint: sha256 (hex) of its canonical JSON. */
export function fingerprintId(fingerprint: DeviceFingerprint): string {
  return sha256Hex(canonicalJson(fingerprint));
}
