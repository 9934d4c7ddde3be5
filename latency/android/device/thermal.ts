/**
 * Measurement stability: the measured cores' clocks and the phone's temperatures, read in one shell round trip
 * before and after each batch. A batch counts as throttled when a measured core's frequency cap
 * (scaling_max_freq, lowered by the thermal framework) or, under a fixed-frequency governor, its current clock
 * (scaling_cur_freq) fell, or when the CPU got much hotter; the profiler then waits for the phone to cool down and
 * measures the batch again (android-profiler.ts). With a dynamic governor scaling_cur_freq follows the load, so it
 * is recorded but not judged.
 */
import type { DeviceBridge } from './bridge.ts';

export interface CoreClock {
  core: number;
  curKHz: number | null;
  maxKHz: number | null;
}

export interface ThermalZone {
  zone: number;
  type: string;
  celsius: number;
}

export interface DeviceConditions {
  readAt: string;
  clocks: CoreClock[];
  governor: string;
  zones: ThermalZone[];
  /** Hottest CPU-like zone (all zones when none looks like a CPU), °C; null when none is readable. */
  cpuCelsius: number | null;
}

export interface StabilityThresholds {
  /** A fall of a core's clock by more than this fraction (default 0.1). */
  freqDrop?: number;
  /** A rise of the CPU temperature by more than this (default 10 °C). */
  tempRiseC?: number;
  /** Or a CPU temperature at or above this after the batch (default 75 °C). */
  hotC?: number;
}

const CPU_DIR = '/sys/devices/system/cpu';
const THERMAL_DIR = '/sys/class/thermal';
const CPU_ZONE = /cpu|soc|tsens|cluster|big|little|mtktscpu|apc/i;
const FIXED_GOVERNORS = new Set(['performance', 'userspace']);

export function conditionsScript(cores: readonly number[]): string {
  const files = (name: string): string => cores.map((core) => `${CPU_DIR}/cpu${core}/cpufreq/${name}`).join(' ');
  return [
    `grep -H . ${files('scaling_cur_freq')} ${files('scaling_max_freq')} ${files('scaling_governor')}`,
    `grep -H . ${THERMAL_DIR}/thermal_zone*/type ${THERMAL_DIR}/thermal_zone*/temp`,
    'true',
  ].join('; ');
}

export function parseConditions(output: string, cores: readonly number[], readAt = new Date()): DeviceConditions {
  const cpu = new Map<string, string>();
  const zoneTypes = new Map<number, string>();
  const zoneTemps = new Map<number, number>();
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const core = /^\/sys\/devices\/system\/cpu\/cpu(\d+)\/cpufreq\/(\w+):(.*)$/.exec(line);
    if (core) cpu.set(`${core[1]}/${core[2]}`, (core[3] ?? '').trim());
    const zone = /^\/sys\/class\/thermal\/thermal_zone(\d+)\/(type|temp):(.*)$/.exec(line);
    if (zone?.[2] === 'type') zoneTypes.set(Number(zone[1]), (zone[3] ?? '').trim());
    else if (zone) {
      const value = Number((zone[3] ?? '').trim());
      // Most kernels report m°C, some °C; values outside what a phone can be are sensor errors.
      const celsius = Math.abs(value) >= 1000 ? value / 1000 : value;
      if (Number.isFinite(celsius) && celsius > -40 && celsius < 150) zoneTemps.set(Number(zone[1]), celsius);
    }
  }
  const khz = (core: number, file: string): number | null => {
    const value = Number(cpu.get(`${core}/${file}`));
    return Number.isInteger(value) && value > 0 ? value : null;
  };
  const zones = [...zoneTemps].map(([zone, celsius]) => ({ zone, type: zoneTypes.get(zone) ?? '', celsius })).sort((a, b) => a.zone - b.zone);
  const cpuZones = zones.filter((z) => CPU_ZONE.test(z.type));
  const judged = cpuZones.length > 0 ? cpuZones : zones;
  const governors = [...new Set(cores.map((core) => cpu.get(`${core}/scaling_governor`)).filter((g): g is string => !!g))];
  return {
    readAt: readAt.toISOString(),
    clocks: cores.map((core) => ({ core, curKHz: khz(core, 'scaling_cur_freq'), maxKHz: khz(core, 'scaling_max_freq') })),
    governor: governors.join(',') || 'unknown',
    zones,
    cpuCelsius: judged.length > 0 ? Math.max(...judged.map((z) => z.celsius)) : null,
  };
}

export async function readConditions(bridge: DeviceBridge, serial: string, cores: readonly number[]): Promise<DeviceConditions> {
  const { stdout } = await bridge.shell(serial, conditionsScript(cores), { timeoutMs: 15_000 });
  return parseConditions(stdout, cores);
}

/** Why the batch between `before` and `after` may have run throttled; empty when it looks stable. */
export function throttlingReasons(before: DeviceConditions, after: DeviceConditions, thresholds: StabilityThresholds = {}): string[] {
  const drop = thresholds.freqDrop ?? 0.1;
  const rise = thresholds.tempRiseC ?? 10;
  const hot = thresholds.hotC ?? 75;
  const reasons: string[] = [];
  const fixed = FIXED_GOVERNORS.has(after.governor);
  for (const clock of after.clocks) {
    const earlier = before.clocks.find((c) => c.core === clock.core);
    if (!earlier) continue;
    const fell = (a: number | null, b: number | null): boolean => a !== null && b !== null && b < a * (1 - drop);
    if (fell(earlier.maxKHz, clock.maxKHz)) reasons.push(`core ${clock.core}'s clock cap fell from ${mhz(earlier.maxKHz)} to ${mhz(clock.maxKHz)}`);
    else if (fixed && fell(earlier.curKHz, clock.curKHz)) reasons.push(`core ${clock.core}'s clock fell from ${mhz(earlier.curKHz)} to ${mhz(clock.curKHz)}`);
  }
  if (before.cpuCelsius !== null && after.cpuCelsius !== null) {
    if (after.cpuCelsius - before.cpuCelsius > rise) reasons.push(`the CPU warmed from ${before.cpuCelsius} °C to ${after.cpuCelsius} °C`);
    else if (after.cpuCelsius >= hot) reasons.push(`the CPU is at ${after.cpuCelsius} °C`);
  }
  return reasons;
}

/** Whether the phone is back to the state of `baseline` (clock caps restored, within 3 °C of its temperature). */
export function cooledDown(baseline: DeviceConditions, now: DeviceConditions, thresholds: StabilityThresholds = {}): boolean {
  const clocksBack = throttlingReasons(baseline, now, { ...thresholds, tempRiseC: Number.POSITIVE_INFINITY, hotC: Number.POSITIVE_INFINITY }).length === 0;
  const warm = baseline.cpuCelsius !== null && now.cpuCelsius !== null && now.cpuCelsius > baseline.cpuCelsius + 3;
  return clocksBack && !warm;
}

function mhz(khz: number | null): string {
  return khz === null ? '?' : `${Math.round(khz / 1000)} MHz`;
}
