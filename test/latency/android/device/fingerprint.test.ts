import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../core/errors.ts';
import { coresToHexMask, defaultCpuCores, defaultCpuMask, hexMaskToCores, parseCpuList } from '../../../../latency/android/device/cpu-mask.ts';
import {
  canonicalJson,
  fingerprintId,
  fingerprintScript,
  parseFingerprintOutput,
  readDeviceFingerprint,
} from '../../../../latency/android/device/fingerprint.ts';
import { adbBinary, AdbTestEnvironment } from '../adb-harness.ts';
import { BENCHMARK_TOOL_PATH, EmulatedAdbDevice, FAKE_BENCHMARK_TOOL_BYTES } from '../emulated/adbd.ts';
import { ShellSession } from '../emulated/shell-interpreter.ts';
import { fakeElfBinary } from '../../fake-models.ts';

describe('CPU masks', () => {
  it('converts core lists to taskset hex masks and back', () => {
    expect(coresToHexMask([4, 5, 6, 7])).toBe('f0');
    expect(coresToHexMask([7])).toBe('80');
    expect(coresToHexMask([0, 64])).toBe('10000000000000001');
    expect(hexMaskToCores('0xF0')).toEqual([4, 5, 6, 7]);
    expect(hexMaskToCores('10000000000000001')).toEqual([0, 64]);
    expect(() => hexMaskToCores('0')).toThrow(ValidationError);
    expect(() => hexMaskToCores('f0; reboot')).toThrow(ValidationError);
    expect(() => coresToHexMask([])).toThrow(ValidationError);
  });

  it('defaults to the fastest cluster, widening to the fastest cores when threads need more', () => {
    const cores = [1804800, 1804800, 1804800, 1804800, 2419200, 2419200, 2419200, 2841600].map((maxFreqKHz, index) => ({ index, maxFreqKHz }));
    expect(defaultCpuMask(cores, 1)).toBe('80');
    expect(defaultCpuCores(cores, 2)).toEqual([4, 7]);
    const bigLittle = [1, 1, 1, 1, 2, 2, 2, 2].map((f, index) => ({ index, maxFreqKHz: f * 1_000_000 }));
    expect(defaultCpuMask(bigLittle, 1)).toBe('f0');
    expect(defaultCpuMask([{ index: 0, maxFreqKHz: null }, { index: 1, maxFreqKHz: null }])).toBe('3');
    expect(parseCpuList('0-3,6,8-9\n')).toEqual([0, 1, 2, 3, 6, 8, 9]);
  });
});

describe('fingerprint parsing', () => {
  async function scriptOutput(device: EmulatedAdbDevice): Promise<string> {
    let output = '';
    await new ShellSession(device.state, new AbortController().signal).run(fingerprintScript(), (_fd, text) => (output += text));
    return output;
  }

  it('reads everything from the one-round-trip script (run by the emulated shell)', async () => {
    const device = await EmulatedAdbDevice.start({ coreMaxFreqKHz: [1000, 1000, 2000, 2000], governor: 'performance' });
    try {
      const fingerprint = parseFingerprintOutput(await scriptOutput(device));
      expect(fingerprint).toMatchObject({
        model: 'NetAdapt Emulated Phone',
        platform: 'kona',
        socModel: 'SM8250',
        sdk: 33,
        abi: 'arm64-v8a',
        governor: 'performance',
        threads: 1,
        cpuMask: 'c',
        benchmarkToolSha256: createHash('sha256').update(FAKE_BENCHMARK_TOOL_BYTES).digest('hex'),
      });
      expect(fingerprint.cores).toEqual([
        { index: 0, maxFreqKHz: 1000 },
        { index: 1, maxFreqKHz: 1000 },
        { index: 2, maxFreqKHz: 2000 },
        { index: 3, maxFreqKHz: 2000 },
      ]);
      // Without the tool, sha256sum fails and the fingerprint says so instead of guessing.
      device.fs.remove(BENCHMARK_TOOL_PATH);
      expect(parseFingerprintOutput(await scriptOutput(device)).benchmarkToolSha256).toBeNull();
      // A core without cpufreq (offline) is listed with an unknown frequency.
      device.fs.remove('/sys/devices/system/cpu/cpu1', { recursive: true });
      expect(parseFingerprintOutput(await scriptOutput(device)).cores[1]).toEqual({ index: 1, maxFreqKHz: null });
    } finally {
      await device.close();
    }
  });

  it('rejects truncated output and masks naming cores the device lacks', async () => {
    const device = await EmulatedAdbDevice.start({ coreMaxFreqKHz: [1000, 2000] });
    try {
      const output = await scriptOutput(device);
      expect(() => parseFingerprintOutput(output.slice(0, output.length / 2))).toThrow(/did not answer/);
      expect(() => parseFingerprintOutput(output, { cpuMask: '4' })).toThrow(ValidationError);
      expect(parseFingerprintOutput(output, { cpuMask: '0x3', threads: 2 })).toMatchObject({ cpuMask: '3', threads: 2 });
    } finally {
      await device.close();
    }
  });

  it('canonical JSON ignores key order; the id changes with any field', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    const base = parseFingerprintOutput(
      ['__NETADAPT_SECTION_props__', '[ro.product.model]: [X]', '__NETADAPT_SECTION_possible__', '0-1', '__NETADAPT_SECTION_end__'].join('\n'),
    );
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as typeof base;
    expect(fingerprintId(reordered)).toBe(fingerprintId(base));
    expect(fingerprintId(base)).toMatch(/^[0-9a-f]{64}$/);
    const variants = [
      { ...base, threads: 2 },
      { ...base, cpuMask: '1' },
      { ...base, buildFingerprint: 'other' },
      { ...base, benchmarkToolSha256: 'a'.repeat(64) },
      { ...base, governor: 'powersave' },
      { ...base, cores: [{ index: 0, maxFreqKHz: 1 }] },
    ];
    const ids = new Set([fingerprintId(base), ...variants.map(fingerprintId)]);
    expect(ids.size).toBe(variants.length + 1);
  });
});

describe.skipIf(!adbBinary)('readDeviceFingerprint through adb', () => {
  let env: AdbTestEnvironment;

  beforeAll(async () => {
    env = await AdbTestEnvironment.start({ model: 'FP Phone' });
  });

  afterAll(async () => {
    await env?.stop();
  });

  it('reads the fingerprint in one shell round trip and its id tracks the tool binary and settings', async () => {
    const before = env.device.shellCommands.length;
    const fingerprint = await readDeviceFingerprint(env.bridge, env.serial);
    expect(env.device.shellCommands.length - before).toBe(1);
    expect(fingerprint).toMatchObject({ model: 'FP Phone', cpuMask: '80', threads: 1, governor: 'schedutil', sdk: 33 });
    expect(fingerprint.cores).toHaveLength(8);
    const id = fingerprintId(fingerprint);
    expect(fingerprintId(await readDeviceFingerprint(env.bridge, env.serial))).toBe(id);
    expect(fingerprintId(await readDeviceFingerprint(env.bridge, env.serial, { threads: 2 }))).not.toBe(id);
    expect(fingerprintId(await readDeviceFingerprint(env.bridge, env.serial, { cpuMask: 'f0' }))).not.toBe(id);
    await env.bridge.push(env.serial, fakeElfBinary('v2'), BENCHMARK_TOOL_PATH, 0o755);
    const updated = await readDeviceFingerprint(env.bridge, env.serial);
    expect(updated.benchmarkToolSha256).toBe(createHash('sha256').update(fakeElfBinary('v2')).digest('hex'));
    expect(fingerprintId(updated)).not.toBe(id);
  });
});
