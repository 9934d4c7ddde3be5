/** The zoo: network summaries (with the largest training batch that fits in memory), architecture views, sampling. */
import { parseSubnet, resolveNetwork, zooNames, zooSummary } from '../../../core/arch/index.ts';
import { maxTrainBatch } from '../../../core/supernet/batch-memory.ts';
import { architectureView } from '../architecture.ts';
import type { ValidParamsOf } from '../contract/methods.ts';
import type { ArchitectureView, NetworkSummary, SearchSpaceSampling } from '../contract/types.ts';
import type { JobContext } from '../engine.ts';
import { runJobInWorker } from '../worker-runner.ts';
import { loadZooNetwork, type EngineContext } from './context.ts';

export class NetworkOperations {
  private networks: NetworkSummary[] | undefined;

  constructor(private readonly ctx: EngineContext) {}

  async listNetworks(): Promise<NetworkSummary[]> {
    // The zoo is fixed for the life of the process: resolve it once.
    this.networks ??= zooNames().map((name) => {
      const spec = loadZooNetwork(name);
      const network = resolveNetwork(spec);
      return {
        name,
        summary: zooSummary(name) ?? '',
        task: spec.task,
        input: { height: spec.input.height, width: spec.input.width, channels: spec.input.channels },
        macs: network.macs,
        params: network.params,
        searchableLayers: network.space.layers.length,
        widthLevels: spec.widthLevels,
        maxTrainBatch: maxTrainBatch(network),
      };
    });
    return this.networks.map((n) => ({ ...n, input: { ...n.input } }));
  }

  async getArchitecture(params: ValidParamsOf<'getArchitecture'>): Promise<ArchitectureView> {
    const spec = loadZooNetwork(params.network);
    const subnet = params.subnet ? parseSubnet(spec, params.subnet, 'subnet') : undefined;
    return architectureView(spec, subnet);
  }

  async sampleSearchSpace(params: ValidParamsOf<'sampleSearchSpace'>, job: JobContext): Promise<SearchSpaceSampling> {
    loadZooNetwork(params.network);
    return (await runJobInWorker({ job: 'sampleSearchSpace', params }, job, { workerUrl: this.ctx.options.workerUrl })) as SearchSpaceSampling;
  }
}
