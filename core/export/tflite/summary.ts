import type { OperatorInfo, OptionsSummaryValue, SubgraphInfo, TensorInfo, TfliteModelInfo } from './reader.ts';

/** Human-readable report of a parsed .tflite model (what `netadapt inspect` prints). */
export function formatTfliteSummary(info: TfliteModelInfo, label: string): string {
  const lines: string[] = [];
  const sizeKb = (info.fileSize / 1024).toFixed(1);
  lines.push(
    `${label}: TFLite schema v${info.version}, ${sizeKb} KiB, ${plural(info.subgraphs.length, 'subgraph')}, ` +
      `${plural(info.buffersCount, 'buffer')}`,
  );
  lines.push(`description: ${info.description ?? '(none)'}`);
  if (info.signatureKeys.length > 0) lines.push(`signatures: ${info.signatureKeys.join(', ')}`);
  lines.push(`operator codes: ${info.operatorCodes.map((c) => `${c.name} v${c.version}`).join(', ')}`);
  info.subgraphs.forEach((sg, i) => {
    lines.push('');
    if (info.subgraphs.length > 1) lines.push(`subgraph ${i}${sg.name ? ` (${sg.name})` : ''}`);
    lines.push(...formatSubgraph(sg));
  });
  return lines.join('\n');
}

function formatSubgraph(sg: SubgraphInfo): string[] {
  const lines: string[] = [];
  const tensorLine = (index: number): string[] => {
    const t = sg.tensors[index];
    return t ? [String(index), t.name, t.type, shapeText(t.shape), quantizationText(t)] : [String(index), '?', '', '', ''];
  };
  lines.push('inputs:');
  lines.push(...table(sg.inputs.map(tensorLine), '  '));
  lines.push('outputs:');
  lines.push(...table(sg.outputs.map(tensorLine), '  '));

  lines.push(`operators (${sg.operators.length}):`);
  const opRows = sg.operators.map((op) => [String(op.index), op.opcode, ioText(sg, op), optionsText(op)]);
  lines.push(...table([['#', 'op', 'inputs -> output', 'options'], ...opRows], '  '));

  const constantBytes = sg.tensors.reduce((sum, t) => sum + t.bufferSize, 0);
  lines.push(`tensors (${sg.tensors.length}, ${constantBytes} bytes of constants):`);
  const tensorRows = sg.tensors.map((t: TensorInfo) => [
    String(t.index),
    t.name,
    t.type,
    shapeText(t.shape),
    t.bufferSize > 0 ? `${t.bufferSize} B` : '',
    quantizationText(t),
  ]);
  lines.push(...table([['#', 'name', 'type', 'shape', 'data', 'quantization'], ...tensorRows], '  '));
  return lines;
}

/** Activation inputs' shapes, then constants as `+name-suffix[shape]`, then the outputs. */
function ioText(sg: SubgraphInfo, op: OperatorInfo): string {
  const data: string[] = [];
  const constants: string[] = [];
  for (const index of op.inputs) {
    if (index < 0) continue;
    const t = sg.tensors[index];
    if (!t) continue;
    if (t.bufferSize > 0) constants.push(shapeText(t.shape));
    else data.push(shapeText(t.shape));
  }
  const outputs = op.outputs.map((index) => shapeText(sg.tensors[index]?.shape ?? []));
  const constText = constants.length > 0 ? ` (const ${constants.join(' ')})` : '';
  return `${data.join(' ')}${constText} -> ${outputs.join(' ')}`;
}

const OPTION_LABELS: Readonly<Record<string, string>> = { fused_activation_function: 'act' };

/** The options worth a glance: non-default values, with strides and filters folded into HxW. */
function optionsText(op: OperatorInfo): string {
  const o = op.options;
  const parts: string[] = [];
  if (typeof o['filter_height'] === 'number') parts.push(`filter ${o['filter_height']}x${String(o['filter_width'])}`);
  if (typeof o['stride_h'] === 'number') parts.push(`stride ${o['stride_h']}x${String(o['stride_w'])}`);
  if (typeof o['padding'] === 'string') parts.push(o['padding']);
  for (const [key, value] of Object.entries(o)) {
    if (/^(stride|filter)_|^padding$|^dilation_/.test(key)) continue;
    if (!isInteresting(key, value)) continue;
    parts.push(`${OPTION_LABELS[key] ?? key}=${Array.isArray(value) ? shapeText(value) : String(value)}`);
  }
  return parts.join(' ');
}

function isInteresting(key: string, value: OptionsSummaryValue): boolean {
  if (key === 'fused_activation_function') return value !== 'NONE';
  if (key === 'pot_scale_int16' || key === 'quantized_bias_type' || key === 'weights_format') return false;
  if (key === 'axis' || key === 'beta' || key === 'keep_dims' || key === 'depth_multiplier') return true;
  return value !== 0 && value !== false;
}

/** "scale 0.0235 zp -128", or for per-axis parameters "per-axis d0: 16 scales 0.0012..0.0045, zp 0". */
export function quantizationText(t: TensorInfo): string {
  const q = t.quantization;
  if (!q) return '';
  if (q.scale.length === 1) return `scale ${num(q.scale[0] ?? 0)} zp ${q.zeroPoint[0] ?? 0}`;
  const zps = [...new Set(q.zeroPoint)];
  return (
    `per-axis d${q.quantizedDimension}: ${q.scale.length} scales ${num(Math.min(...q.scale))}..${num(Math.max(...q.scale))}, ` +
    `zp ${zps.length === 1 ? String(zps[0]) : `${Math.min(...zps)}..${Math.max(...zps)}`}`
  );
}

function num(v: number): string {
  return v.toPrecision(4);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Left-aligned columns separated by two spaces. */
function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    (indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).trimEnd(),
  );
}
