/** The architecture table of a (sub-)network, one row per unit, like the paper's Tables 8 and 9. */
import type { ResolvedLayer } from './layers.ts';
import type { ResolvedNetwork } from './resolve.ts';
import { formatLimit, type Activation } from './spec.ts';
import { formatCount } from '../units.ts';

export interface ArchRow {
  index: number;
  name: string;
  type: string;
  limit: string;
  kernel: string;
  stride: string;
  /** Batch norm after the unit's convolutions: '✓' or '-' (the paper's BN column). */
  bn: string;
  /** Activation as the paper abbreviates it: HS (hard-swish), RE (ReLU), RE6 (ReLU6), '-' (none). */
  act: string;
  /** Expansion filters, or the filters of a plain conv / pw / fc layer. */
  exp: string;
  dw: string;
  pw: string;
  se: string;
  output: string;
  removed: boolean;
  bypass: boolean;
  macs: number;
  params: number;
}

export function architectureRows(network: ResolvedNetwork): ArchRow[] {
  const byUnit = new Map<number, ResolvedLayer[]>();
  for (const layer of network.layers) {
    const list = byUnit.get(layer.unitIndex) ?? [];
    list.push(layer);
    byUnit.set(layer.unitIndex, list);
  }
  const rows: ArchRow[] = [];
  network.spec.layers.forEach((unit, index) => {
    const layers = byUnit.get(index) ?? [];
    const find = (role: string) => layers.find((l) => l.role === role);
    const last = layers[layers.length - 1];
    const macs = layers.reduce((sum, l) => sum + l.macs, 0);
    const params = layers.reduce((sum, l) => sum + l.params, 0);
    const conv = layers.filter((l) => l.op === 'conv' || l.op === 'dwconv');
    const removed = conv.length > 0 && conv.every((l) => l.removed);
    const bypass = conv.some((l) => l.bypassChannels > 0 && !l.residual);
    const shape = last ? `${last.output.height}×${last.output.width}×${last.output.channels}` : '-';
    const dash = '-';
    const first = conv[0];
    const base = {
      index: index + 1, name: unit.name, output: shape, removed, bypass, macs, params,
      bn: first?.bn ? '✓' : dash, act: first ? activationLabel(first.act) : unit.type === 'fc' ? activationLabel(unit.act) : dash,
    };
    switch (unit.type) {
      case 'conv':
      case 'dwconv': {
        const l = layers[0] as ResolvedLayer;
        const isPw = unit.type === 'conv' && unit.kernel === 1;
        rows.push({
          ...base,
          type: unit.type === 'dwconv' ? 'dw' : isPw ? 'pw' : 'conv',
          limit: formatLimit(l.limit),
          kernel: String(l.kernel),
          stride: String(l.stride),
          exp: unit.type === 'conv' ? String(l.filters) : dash,
          dw: unit.type === 'dwconv' ? String(l.filters) : dash,
          pw: dash,
          se: dash,
        });
        break;
      }
      case 'mbconv': {
        const dw = find('dw') as ResolvedLayer;
        const project = find('project') as ResolvedLayer;
        rows.push({
          ...base,
          type: project.residual ? 'mnv3 block (res)' : 'mnv3 block',
          limit: formatLimit(project.limit),
          kernel: removed ? '0' : String(dw.kernel),
          stride: String(dw.stride),
          exp: find('expand') ? String(find('expand')?.filters) : dash,
          dw: String(dw.filters),
          pw: String(project.filters),
          se: find('se') ? String(find('se')?.filters) : dash,
        });
        break;
      }
      case 'fd_decoder': {
        const dw = find('dw') as ResolvedLayer;
        const pw = find('pw') as ResolvedLayer;
        rows.push({
          ...base,
          type: `decoder (↑${unit.upsample})`,
          limit: formatLimit(pw.limit),
          kernel: String(dw.kernel),
          stride: '1',
          exp: dash,
          dw: String(dw.filters),
          pw: String(pw.filters),
          se: dash,
        });
        break;
      }
      case 'gap':
      case 'upsample':
      case 'fc':
        rows.push({
          ...base,
          type: unit.type === 'gap' ? 'global avg pool' : unit.type === 'fc' ? 'fc' : `upsample ×${unit.scale}`,
          limit: dash,
          kernel: unit.type === 'fc' ? '1' : dash,
          stride: unit.type === 'fc' ? '1' : dash,
          exp: unit.type === 'fc' ? String(unit.units) : dash,
          dw: dash,
          pw: dash,
          se: dash,
        });
        break;
    }
  });
  return rows;
}

function activationLabel(act: Activation): string {
  return { hswish: 'HS', relu: 'RE', relu6: 'RE6', none: '-' }[act];
}

export { formatCount };

/** Plain-text rendering for the terminal. */
export function renderArchitectureTable(network: ResolvedNetwork): string {
  const rows = architectureRows(network);
  const header = ['#', 'name', 'type', 'T', 'k', 's', 'BN', 'act', 'exp', 'dw', 'pw', 'se', 'output', 'MACs', 'params'];
  const body = rows.map((r) => [
    String(r.index),
    r.name,
    r.type + (r.removed ? ' [removed]' : r.bypass ? ' [bypass]' : ''),
    r.limit,
    r.kernel,
    r.stride,
    r.bn,
    r.act,
    r.exp,
    r.dw,
    r.pw,
    r.se,
    r.output,
    formatCount(r.macs),
    formatCount(r.params),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  out.push('');
  out.push(
    `total: ${formatCount(network.macs)} MACs (${network.macs}), ${formatCount(network.params)} params (${network.params}); ` +
      `output ${network.output.height}×${network.output.width}×${network.output.channels}`,
  );
  return out.join('\n');
}
