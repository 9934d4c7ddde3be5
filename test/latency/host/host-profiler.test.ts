import { describe, expect, it } from 'vitest';
import { loadNetwork } from '../../../core/arch/load.ts';
import { enumerateLayerVariants } from '../../../core/arch/resolve.ts';
import { createHostProfiler, fastestWindow, HOST_MEASUREMENT_METHOD } from '../../../latency/host/host-profiler.ts';
import { invokeOverheadModel, layerModel } from '../../../latency/lut/layer-models.ts';
import type { Measurement } from '../../../latency/profiler.ts';

describe('fastestWindow', () => {
  it('takes the fastest sample as the entry value and keeps the statistics of all samples', () => {
    const m = fastestWindow([12, 10, 11, 30, 10.5, 13]);
    expect(m.meanUs).toBe(10);
    expect(m.minUs).toBe(10);
    expect(m.count).toBe(6);
    expect(m.medianUs).toBeCloseTo(11); // of the samples left after rejecting the outlier 30
    expect(m.flags).not.toContain('unstable-repeats');
  });

  it('flags an entry whose rounds disagree (the machine was busy throughout some rounds)', () => {
    const steady = fastestWindow([10, 11, 10.2, 10.8, 10.1, 12], 2);
    expect(steady.flags).not.toContain('unstable-repeats');
    const unsteady = fastestWindow([10, 11, 16, 17, 15, 18], 2);
    expect(unsteady.meanUs).toBe(10);
    expect(unsteady.flags).toContain('unstable-repeats');
  });
});

describe('host profiler', () => {
  it('keys its tables by the measurement method and the options, so old entries are never reused silently', async () => {
    const a = await createHostProfiler();
    const b = await createHostProfiler({ sampleUs: 100 });
    expect(a.runtimeOptions).toContain(`method=${HOST_MEASUREMENT_METHOD}`);
    expect(a.runtimeOptions).not.toBe(b.runtimeOptions);
    expect(a.deviceId).toBe(b.deviceId);
  });

  it('measures a batch round-robin: a bigger layer takes longer than a small one, a broken model fails alone', async () => {
    const variants = [...enumerateLayerVariants(loadNetwork('mobilenet-v1-32')).values()];
    const macs = (l: (typeof variants)[number]): number => l.output.height * l.output.width * l.filters * l.input.channels;
    const byMacs = variants.filter((l) => l.op === 'conv' && l.kernel === 1 && l.stride === 1).sort((x, y) => macs(x) - macs(y));
    const small = layerModel(byMacs[0]!);
    const big = layerModel(byMacs[byMacs.length - 1]!);
    const nullModel = invokeOverheadModel(small.key);
    const profiler = await createHostProfiler({ warmupRuns: 2, numRuns: 6, repeats: 3, sampleUs: 100 });
    const results = new Map<string, Measurement>();
    const failures: string[] = [];
    await profiler.measure(
      [small, { key: 'garbage', bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) }, big, nullModel],
      { onResult: (key, m) => results.set(key, m), onFailure: (key) => failures.push(key) },
    );
    expect(failures).toEqual(['garbage']);
    expect([...results.keys()].sort()).toEqual([big.key, nullModel.key, small.key].sort());
    for (const m of results.values()) {
      expect(m.meanUs).toBeGreaterThan(0);
      expect(m.meanUs).toBeLessThanOrEqual(m.medianUs);
      expect(m.count).toBeGreaterThanOrEqual(6);
    }
    expect(results.get(big.key)!.meanUs).toBeGreaterThan(2 * results.get(small.key)!.meanUs);
  }, 60_000);
});

describe('host profiler capabilities', () => {
  it('says clearly which runtime options it cannot measure with, and keys its tables by the delegate it has', async () => {
    await expect(createHostProfiler({ delegate: 'gpu' })).rejects.toThrow(
      'the host profiler (LiteRT wasm on this computer) cannot measure with the gpu delegate (it has XNNPACK only)',
    );
    const error = (await createHostProfiler({ threads: 4, cpuMask: 'f0', pinFrequency: true }).catch((e: unknown) => e)) as Error & { details: string[] };
    expect(error.message).toMatch(/cannot measure with 4 threads \(LiteRT's wasm build runs one\), a CPU mask \(f0\): the host does not pin cores, frequency pinning$/);
    expect(error.details).toContain('measure these options on a phone: --device <adb serial>');
    const host = await createHostProfiler({ delegate: 'xnnpack', threads: 1 });
    expect(host.runtimeOptions).toContain('delegate=xnnpack');
  });
});
