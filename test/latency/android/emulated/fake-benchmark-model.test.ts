import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBenchmarkOutput } from '../../../../latency/android/benchmark/parse.ts';
import { A_OKAY, A_WRTE, encodePacket, PacketDecoder } from './adb-packets.ts';
import { runFakeBenchmarkModel, sizeDerivedExecuteModel } from './fake-benchmark-model.ts';
import type { BenchmarkToolIo, OpenModel } from './fake-benchmark-model.ts';
import { fakeTfliteModel } from '../../fake-models.ts';

const MODEL = fakeTfliteModel(4000, 'open-model-test');

function toolIo(openModel: OpenModel | undefined): { io: BenchmarkToolIo; output: () => string } {
  let text = '';
  return {
    io: {
      stdout: (chunk) => (text += chunk),
      stderr: (chunk) => (text += chunk),
      readFile: (path) => (path === '/m.tflite' ? Buffer.from(MODEL) : undefined),
      executeModel: () => Promise.reject(new Error('executeModel must not be used when openModel is set')),
      openModel,
      affinity: [7],
      garbageOutput: false,
      signal: new AbortController().signal,
    },
    output: () => text,
  };
}

describe('emulated benchmark_model with a model loader', () => {
  it('loads the model once, runs warm-up then timed runs on it, reports the measured load as Init and closes it', async () => {
    const loads: Uint8Array[] = [];
    const executed: number[] = [];
    let closed = 0;
    const loadDelayMs = 15;
    const openModel: OpenModel = async (bytes) => {
      loads.push(bytes);
      await new Promise((resolve) => setTimeout(resolve, loadDelayMs));
      return {
        execute: async (runs) => {
          executed.push(runs);
          return Array.from({ length: runs }, (_, i) => 100 + executed.length * 10 + i);
        },
        close: () => void closed++,
      };
    };
    const { io, output } = toolIo(openModel);
    const status = await runFakeBenchmarkModel(
      ['--graph=/m.tflite', '--num_threads=1', '--warmup_runs=5', '--warmup_min_secs=0', '--num_runs=30', '--min_secs=0'],
      io,
    );
    expect(status).toBe(0);
    expect(loads).toHaveLength(1);
    expect(Buffer.from(loads[0]!).equals(Buffer.from(MODEL))).toBe(true);
    expect(executed).toEqual([5, 30]);
    expect(closed).toBe(1);
    const measurement = parseBenchmarkOutput(output());
    expect(measurement.count).toBe(30);
    expect(measurement.warmup?.count).toBe(5);
    expect(measurement.minUs).toBe(120);
    expect(measurement.initUs).toBeGreaterThanOrEqual((loadDelayMs - 2) * 1000);
  });

  it('closes the loaded model when a run fails', async () => {
    let closed = 0;
    const { io } = toolIo(async () => ({
      execute: () => Promise.reject(new Error('delegate crashed')),
      close: () => void closed++,
    }));
    await expect(runFakeBenchmarkModel(['--graph=/m.tflite', '--num_runs=3', '--min_secs=0'], io)).rejects.toThrow('delegate crashed');
    expect(closed).toBe(1);
  });

  it('without a loader keeps the size-derived stand-in (fixed Init, executeModel per phase)', async () => {
    const { io, output } = toolIo(undefined);
    io.executeModel = sizeDerivedExecuteModel;
    expect(await runFakeBenchmarkModel(['--graph=/m.tflite', '--warmup_runs=2', '--warmup_min_secs=0', '--num_runs=4', '--min_secs=0'], io)).toBe(0);
    const measurement = parseBenchmarkOutput(output());
    expect(measurement.count).toBe(4);
    expect(measurement.initUs).toBe(150 + Math.round(MODEL.length / 400));
  });
});

describe('PacketDecoder', () => {
  it('decodes back-to-back packets split at arbitrary points, in order and intact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const wire = Buffer.concat(
            payloads.map((payload, i) => encodePacket({ command: i % 2 ? A_OKAY : A_WRTE, arg0: i, arg1: 7, payload: Buffer.from(payload) })),
          );
          const decoder = new PacketDecoder(4096);
          const packets = [];
          let offset = 0;
          for (let i = 0; offset < wire.length; i++) {
            const step = cuts[i % cuts.length] ?? 1;
            packets.push(...decoder.push(wire.subarray(offset, offset + step)));
            offset += step;
          }
          expect(packets.map((p) => p.arg0)).toEqual(payloads.map((_, i) => i));
          packets.forEach((packet, i) => expect(Buffer.compare(packet.payload, Buffer.from(payloads[i]!))).toBe(0));
        },
      ),
    );
  });
});
