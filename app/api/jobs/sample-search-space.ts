/**
 * Samples random sub-networks of a network and reports their MACs and parameters: a picture of the search space
 * before any training, and a CPU-bound job that runs in a worker thread.
 */
import { loadNetwork, randomSubnet, resolveNetwork } from '../../../core/arch/index.ts';
import { Rng } from '../../../core/random.ts';
import { CancelledError } from '../errors.ts';
import { sampleSearchSpaceParams } from '../contract/schemas.ts';
import type { SearchSpaceSample, SearchSpaceSampling } from '../contract/types.ts';
import type { WorkerJobContext } from '../worker-protocol.ts';

const MAX_POINTS = 2000;

export async function sampleSearchSpace(rawParams: unknown, ctx: WorkerJobContext): Promise<SearchSpaceSampling> {
  const params = sampleSearchSpaceParams.parse(rawParams);
  const spec = loadNetwork(params.network);
  const full = resolveNetwork(spec);
  const rng = new Rng(params.seed);
  const points: SearchSpaceSample[] = [];
  const every = Math.max(1, Math.ceil(params.samples / MAX_POINTS));
  let minMacs = Number.POSITIVE_INFINITY;
  let maxMacs = 0;
  const started = Date.now();
  let lastReport = 0;
  for (let i = 0; i < params.samples; i++) {
    if (ctx.signal.aborted) throw new CancelledError('sampling cancelled');
    const network = resolveNetwork(spec, randomSubnet(full.space, rng));
    minMacs = Math.min(minMacs, network.macs);
    maxMacs = Math.max(maxMacs, network.macs);
    if (i % every === 0) points.push({ macs: network.macs, params: network.params });
    const now = Date.now();
    if (now - lastReport >= 100 || i === params.samples - 1) {
      lastReport = now;
      const done = i + 1;
      const rate = done / Math.max(1, now - started);
      ctx.emit({ kind: 'progress', phase: 'sampling sub-networks', done, total: params.samples, etaSeconds: (params.samples - done) / rate / 1000 });
      // Let the cancel message in.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return { network: spec.name, samples: params.samples, fullMacs: full.macs, fullParams: full.params, points, minMacs, maxMacs };
}
