import { describe, expect, it } from 'vitest';
import { architectureRows, loadNetwork, parseSubnet, readJsonFile, resolveNetwork } from '../../../core/arch/index.ts';
import { TABLE_8, TABLE_9, paperMismatches } from './paper-tables.ts';

const relErr = (a: number, b: number) => Math.abs(a - b) / b;

function paperNetwork(network: string, file: string) {
  const spec = loadNetwork(network);
  return resolveNetwork(spec, parseSubnet(spec, readJsonFile(`core/arch/zoo/paper/${file}`), file));
}

describe("the paper's discovered networks as sub-networks of its initial networks (App. A.1, B)", () => {
  it('Table 8 (51 ms) in netadaptv2-latency: 225M MACs within 1%, every cell as printed in the paper', () => {
    const net = paperNetwork('netadaptv2-latency', 'table8.json');
    expect(relErr(net.macs, 225e6)).toBeLessThan(0.01);
    expect(net.macs).toBe(224_661_632);
    expect(paperMismatches(architectureRows(net), TABLE_8)).toEqual([]);
  });

  it('Table 9 (314M MACs) in netadaptv2-macs: within 2%, every cell as printed in the paper', () => {
    const net = paperNetwork('netadaptv2-macs', 'table9.json');
    expect(relErr(net.macs, 314e6)).toBeLessThan(0.02);
    expect(net.macs).toBe(311_295_744);
    expect(paperMismatches(architectureRows(net), TABLE_9)).toEqual([]);
  });

  it('the comparison notices a dropped entry (an SE the initial network cannot hold, a narrower layer)', () => {
    const net = paperNetwork('netadaptv2-latency', 'table8.json');
    const rows = architectureRows(net).map((r) => ({ ...r }));
    (rows[12] as { se: string }).se = '128';
    (rows[1] as { exp: string }).exp = '-';
    expect(paperMismatches(rows, TABLE_8)).toEqual(['row 2 exp: - vs the paper\'s 8', 'row 13 se: 128 vs the paper\'s 256']);
  });

  it('both tables remove block 12, which stays the identity: the 14×14×128 / 14×14×96 stream goes through', () => {
    const lat = paperNetwork('netadaptv2-latency', 'table8.json');
    const b11 = lat.layers.filter((l) => l.unit === 'b11');
    expect(b11.every((l) => l.identity && l.macs === 0)).toBe(true);
    expect(b11.at(-1)?.output).toEqual({ height: 14, width: 14, channels: 128 });
    const mac = paperNetwork('netadaptv2-macs', 'table9.json');
    expect(mac.layers.filter((l) => l.unit === 'b11').at(-1)?.output).toEqual({ height: 14, width: 14, channels: 96 });
  });
});
