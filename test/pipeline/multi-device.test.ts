/**
 * One search meeting latency targets on two devices at once (pipeline "deviceTargets", core/metrics/multi-target.ts):
 * two phones' complete tables in a workspace, with different cost profiles, so the binding device changes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { enumerateLayerVariants, loadNetwork, resolveNetwork } from '../../core/arch/index.ts';
import { invokeOverheadSignature } from '../../core/arch/signature.ts';
import { SqliteRunStore } from '../../core/search/run-store.ts';
import { openWorkspace } from '../../core/store/workspace.ts';
import { LatencyStore } from '../../latency/store/latency-store.ts';
import { parseSearchConfig } from '../../pipeline/config.ts';
import { runSearchJob } from '../../pipeline/job.ts';
import { tinyLutNetwork } from '../latency/lut/tiny-network.ts';
import { OPTIONS, entry } from '../latency/store/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'multi-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Phone A's cost follows MACs; phone B pays heavily for depthwise layers (a different binding constraint). */
function buildTables(workspacePath: string, networkFile: string): void {
  const spec = loadNetwork(networkFile);
  const workspace = openWorkspace(workspacePath);
  const store = new LatencyStore(workspace);
  for (const [id, label] of [['phone-a', 'Phone A'], ['phone-b', 'Phone B']] as const) {
    store.upsertDevice(id, { model: label }, label);
    let i = 0;
    const timed = (signature: string, us: number) =>
      entry(id, i++, { signature, runtimeOptions: OPTIONS, meanUs: us, medianUs: us, minUs: us * 0.95, maxUs: us * 1.1, stdUs: us * 0.01, flags: [] });
    const variants = [...enumerateLayerVariants(spec)];
    // Each layer's entry and the invocation overhead of a model with its input shape (what a LUT build measures).
    const overheads = new Set(variants.map(([signature]) => invokeOverheadSignature(signature)));
    store.putEntries([
      ...variants.map(([signature, layer]) => timed(signature, 5 + (id === 'phone-a' ? layer.macs / 2000 : layer.op === 'dwconv' ? layer.macs / 100 : layer.macs / 8000))),
      ...[...overheads].map((signature) => timed(signature, 2)),
    ]);
  }
  workspace.close();
}

describe('a search with targets on two devices', () => {
  const networkFile = join(dir, 'tiny.json');
  writeFileSync(networkFile, JSON.stringify(tinyLutNetwork));
  const workspacePath = join(dir, 'ws.sqlite');
  buildTables(workspacePath, networkFile);
  const base = {
    network: networkFile,
    metric: 'latency-lut',
    algorithm: 'mcd',
    J: 4,
    L: 2,
    reduction: '5%',
    evaluator: { kind: 'synthetic' },
    workspace: workspacePath,
  };

  it('reaches both targets; every sample of every iteration meets every device\'s iteration target; the report shows both', async () => {
    const config = parseSearchConfig({ ...base, deviceTargets: [{ device: 'phone-a', target: '60%' }, { device: 'phone-b', target: '45%' }] });
    const outcome = await runSearchJob({ config, output: join(dir, 'out') });
    expect(outcome.result.status).toBe('done');
    const devices = outcome.report?.devices ?? [];
    expect(devices.map((d) => d.label)).toEqual(['Phone A (phone-a)', 'Phone B (phone-b)']);
    for (const d of devices) {
      expect(d.discovered).toBeLessThanOrEqual(d.target);
      expect(d.target).toBeLessThan(d.initial);
    }
    // The scalar resource is the largest ratio to the targets: each sample within its iteration's target means every
    // device within that multiple of its own target.
    const workspace = openWorkspace(workspacePath);
    try {
      const store = new SqliteRunStore(workspace);
      for (const iteration of store.listIterations(outcome.result.runId).filter((it) => it.iteration >= 0)) {
        for (const sample of store.getSamples(outcome.result.runId, iteration.iteration)) expect(sample.resource).toBeLessThanOrEqual(iteration.target + 1e-12);
      }
    } finally {
      workspace.close();
    }
    expect(outcome.result.best.resource).toBeLessThanOrEqual(1);
    expect(resolveNetwork(loadNetwork(networkFile), outcome.result.best.config).macs).toBeLessThan(resolveNetwork(loadNetwork(networkFile)).macs);
  });

  it('says which device cannot be met when the targets cannot all be reached', async () => {
    const config = parseSearchConfig({ ...base, deviceTargets: [{ device: 'phone-a', target: '60%' }, { device: 'phone-b', target: '1%' }] });
    const failure = runSearchJob({ config, output: false });
    await expect(failure).rejects.toThrow(/the targets cannot all be met/);
    await expect(failure).rejects.toMatchObject({ details: [expect.stringMatching(/^Phone B \(phone-b\): even the smallest sub-network needs .* the target is/)] });
  });

  it('refuses a configuration that mixes "target" with "deviceTargets" or names one device', () => {
    expect(() => parseSearchConfig({ ...base, target: '50%', deviceTargets: [{ device: 'phone-a', target: '60%' }, { device: 'phone-b', target: '45%' }] })).toThrow(/not both/);
    expect(() => parseSearchConfig({ ...base, deviceTargets: [{ device: 'phone-a', target: '60%' }] })).toThrow(
      expect.objectContaining({ details: [expect.stringMatching(/deviceTargets: needs at least two devices/)] }),
    );
  });
});
