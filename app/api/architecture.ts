/** The architecture view (Table 8 rows plus totals) of a network or one of its sub-networks. */
import { architectureRows, fullSubnet, parseSubnet, resolveNetwork, subnetToJson } from '../../core/arch/index.ts';
import type { NetworkSpec, SubnetConfig } from '../../core/arch/index.ts';
import type { ArchitectureView } from './contract/types.ts';

export function architectureView(spec: NetworkSpec, subnet?: SubnetConfig): ArchitectureView {
  const network = resolveNetwork(spec, subnet);
  const full = subnet ? resolveNetwork(spec) : network;
  return {
    network: spec.name,
    description: spec.description ?? '',
    task: spec.task,
    rows: architectureRows(network),
    macs: network.macs,
    params: network.params,
    output: { ...network.output },
    subnet: subnetToJson(network.space, subnet ?? fullSubnet(network.space)),
    fullMacs: full.macs,
    fullParams: full.params,
  };
}

/** A sub-network given in its JSON form (validated against the network; ValidationError lists every problem). */
export function architectureOfJson(spec: NetworkSpec, subnetJson: unknown): ArchitectureView {
  return architectureView(spec, parseSubnet(spec, subnetJson, 'subnet'));
}
