import type { Command } from 'commander';
import {
  architectureRows,
  loadNetwork,
  parseSubnet,
  readJsonFile,
  renderArchitectureTable,
  resolveNetwork,
  subnetToJson,
  zooNames,
  zooSummary,
} from '../../../core/arch/index.ts';

export function register(program: Command): void {
  program
    .command('arch')
    .description('print the architecture table of a zoo network or a network JSON file (like the paper\'s Table 8)')
    .argument('<network>', `zoo name (${zooNames().join(', ')}) or path to a network .json`)
    .option('--subnet <file>', 'sub-network JSON: {"layers": {"<layer id>": {"level"|"filters": n, "kernel": k}}}')
    .option('--json', 'print the resolved network as JSON instead of a table')
    .action((networkArg: string, options: { subnet?: string; json?: boolean }) => {
      const spec = loadNetwork(networkArg);
      const subnet = options.subnet ? parseSubnet(spec, readJsonFile(options.subnet), options.subnet) : undefined;
      const network = resolveNetwork(spec, subnet);
      if (options.json) {
        console.log(
          JSON.stringify(
            {
              network: spec,
              subnet: subnetToJson(network.space, subnet ?? { levels: network.space.layers.map(() => spec.widthLevels - 1), kernels: network.space.layers.map((l) => l.fullKernel) }),
              rows: architectureRows(network),
              layers: network.layers,
              totals: { macs: network.macs, params: network.params, output: network.output },
            },
            null,
            2,
          ),
        );
        return;
      }
      console.log(`${spec.name}${spec.description ? ` — ${spec.description}` : ''}${subnet ? ` (sub-network ${options.subnet})` : ''}`);
      console.log(renderArchitectureTable(network));
    });

  program
    .command('zoo')
    .description('list the networks of the model zoo')
    .action(() => {
      for (const name of zooNames()) {
        const network = resolveNetwork(loadNetwork(name));
        console.log(
          `${name.padEnd(24)} ${(network.macs / 1e6).toFixed(1).padStart(8)}M MACs ${(network.params / 1e6).toFixed(2).padStart(7)}M params  ${zooSummary(name) ?? ''}`,
        );
      }
    });
}
