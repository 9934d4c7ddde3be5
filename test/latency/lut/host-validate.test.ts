/**
 * Issue #5 "Must show": the host profiler's latency table predicts whole sub-networks. A small validate on
 * mobilenet-v1-32 (32×32 input, ~1M MACs, 27 layers of 0.5–20 µs each, so invocation overhead and timing noise
 * matter as much as they can): the table is filled lazily for 16 random sub-networks, the per-model overhead is
 * fitted on 8 of them and the error is reported on the other 8.
 *
 * The goal is median ≤ 5 %, p90 ≤ 10 % (measured: see the report of issue #5). This box is shared by other
 * processes, so the test asserts a looser bound that still fails for the old method (median 31 %, p90 49 %):
 * median ≤ 10 %, p90 ≤ 25 %.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNetwork } from '../../../core/arch/load.ts';
import { openWorkspace } from '../../../core/store/workspace.ts';
import { createHostProfiler } from '../../../latency/host/host-profiler.ts';
import { validateLatencyTable } from '../../../latency/lut/validate.ts';
import { LatencyStore } from '../../../latency/store/latency-store.ts';

describe('host latency table accuracy (lut validate)', () => {
  // One retry: a timing measurement on a shared machine; a second run re-measures everything.
  it('predicts whole mobilenet-v1-32 sub-networks from the per-layer sum plus a fitted overhead', { retry: 1, timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netadapt-lut-validate-'));
    const workspace = openWorkspace(join(dir, 'ws.sqlite'));
    try {
      const store = new LatencyStore(workspace);
      const profiler = await createHostProfiler();
      const started = performance.now();
      const result = await validateLatencyTable({ spec: loadNetwork('mobilenet-v1-32'), profiler, store, samples: 16, seed: 5 });
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `host validate mobilenet-v1-32, 16 sub-networks: median ${(result.medianRelativeError * 100).toFixed(1)}%, ` +
          `p90 ${(result.p90RelativeError * 100).toFixed(1)}%, overhead ${result.overheadUs.toFixed(1)} µs, ${seconds.toFixed(1)} s`,
      );
      expect(result.evaluated).toBe(8);
      for (const pair of result.pairs) {
        expect(pair.measuredUs).toBeGreaterThan(0);
        expect(pair.layerSumUs).toBeGreaterThan(0);
      }
      expect(result.medianRelativeError).toBeLessThanOrEqual(0.1);
      expect(result.p90RelativeError).toBeLessThanOrEqual(0.25);
    } finally {
      workspace.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
