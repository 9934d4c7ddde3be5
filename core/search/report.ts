/**
 * Outputs of a search: the discovered network as JSON (spec + SubnetConfig + the per-layer JSON form), a Markdown
 * and an HTML report (architecture table like the paper's Table 8, trajectory table, accuracy-vs-resource scatter),
 * and the scatter as a standalone SVG.
 */
import { writeFileAtomically } from '../fs-errors.ts';
import { join } from 'node:path';
import { architectureRows, formatCount, resolveNetwork, searchSpace, subnetToJson } from '../arch/index.ts';
import type { ArchRow, NetworkSpec } from '../arch/index.ts';
import { axisUnitOf, formatPercent, formatResource } from '../units.ts';
import { loadSearchResult, type FinalTrainingSummary } from './result.ts';
import { escapeXml, renderScatterSvg } from './scatter-svg.ts';
import { describeTarget } from './targets.ts';
import type { RunRecord, RunStore, SampleRecord, SearchParams, SearchResult } from './types.ts';

export interface SearchReportInput {
  spec: NetworkSpec;
  run: RunRecord;
  result: SearchResult;
  /** Every sample of the run (evaluated or not; only evaluated ones are plotted). */
  samples: readonly SampleRecord[];
  /** What the score is, e.g. "held-out accuracy" or "synthetic score (not an accuracy)". */
  scoreLabel?: string;
  /** The discovered network's final training, when one ran. */
  finalTraining?: FinalTrainingSummary;
  /** A search with targets on several devices: each device's value of the initial and the discovered network. */
  devices?: readonly DeviceResource[];
}

export interface DeviceResource {
  label: string;
  unit: string;
  initial: number;
  discovered: number;
  target: number;
}

export interface SearchOutputFiles {
  network: string;
  markdown: string;
  html: string;
  svg: string;
}

export function loadReportInput(store: RunStore, runId: string, spec: NetworkSpec, scoreLabel?: string): SearchReportInput {
  const run = store.getRun(runId);
  const result = loadSearchResult(store, runId);
  if (!run || !result) throw new Error(`run ${runId} has no evaluated network to report yet`);
  return { spec, run, result, samples: store.getSamples(runId), ...(scoreLabel === undefined ? {} : { scoreLabel }) };
}

export function discoveredNetworkJson(input: SearchReportInput): Record<string, unknown> {
  const { spec, result, run } = input;
  const space = searchSpace(spec);
  const network = resolveNetwork(spec, result.best.config);
  return {
    format: 'netadapt-discovered-network/1',
    runId: result.runId,
    status: result.status,
    metric: run.metric,
    unit: result.unit,
    resource: result.best.resource,
    initialResource: result.initialResource,
    finalTarget: result.finalTarget,
    score: result.best.score,
    scoreLabel: input.scoreLabel ?? 'score',
    macs: network.macs,
    params: network.params,
    config: result.best.config,
    subnet: subnetToJson(space, result.best.config),
    ...(input.finalTraining ? { finalTraining: input.finalTraining } : {}),
    ...(input.devices ? { devices: input.devices } : {}),
    spec,
  };
}

/** Summary lines of the final training (empty when none ran). */
export function finalTrainingLines(input: SearchReportInput): [string, string][] {
  const f = input.finalTraining;
  if (!f) return [];
  const metric = (m: Record<string, number>) =>
    m['rmse'] !== undefined ? `δ1 ${formatPercent(m['delta1'] ?? 0)}, RMSE ${(m['rmse'] ?? 0).toFixed(3)} m` : `top-1 ${formatPercent(m['top1'] ?? 0)}`;
  const lines: [string, string][] = [
    ['final training', `${f.mode === 'supernet' ? 'from the super-network weights' : f.mode === 'scratch' ? 'from scratch' : 'along the architecture trajectory'}${f.distill ? ', distilled from the full network' : ''}: ${f.steps} steps in ${f.seconds.toFixed(0)} s`],
    ['final held-out score', `${f.heldout.score.toFixed(4)} (${metric(f.heldout.metrics)})${f.before === undefined ? '' : `, before the final training ${f.before.toFixed(4)}`}`],
  ];
  if (f.test) lines.push(['final test score', `${f.test.score.toFixed(4)} (${metric(f.test.metrics)})`]);
  lines.push(['trained network', `${formatCount(f.macs)} MACs, ${formatCount(f.params)} parameters; weights ${f.weightsPath}${f.tflite ? `; ${f.tflite}` : ''}`]);
  const q = f.int8;
  if (q) {
    const points = 100 * (q.int8.score - q.float.score);
    lines.push([
      'int8 model (LiteRT)',
      `${q.split} ${metric(q.int8.metrics)} vs float ${metric(q.float.metrics)} (${points >= 0 ? '+' : ''}${points.toFixed(1)} points); ` +
        `${q.int8Path} (${formatCount(q.int8Bytes)} bytes, ${q.calibrationImages} calibration images), ${q.floatPath} (${formatCount(q.floatBytes)} bytes)`,
    ]);
  }
  return lines;
}

/** Scores called an accuracy (top-1, δ1) are fractions shown as percentages; other scores (synthetic) stay numbers. */
export function isAccuracyLabel(label: string | undefined): boolean {
  return label !== undefined && /accuracy/.test(label) && !/not an accuracy/.test(label);
}

function formatScoreFor(input: SearchReportInput, score: number): string {
  return isAccuracyLabel(input.scoreLabel) ? formatPercent(score) : score.toFixed(4);
}

function percent(part: number, whole: number): string {
  return formatPercent(part / whole);
}

function summaryLines(input: SearchReportInput): [string, string][] {
  const { run, result } = input;
  const p = run.params;
  const fmt = (v: number) => formatResource(v, result.unit);
  const lines: [string, string][] = [
    ['status', `${result.status} — ${result.message}`],
    ['network', run.network],
    ['metric', `${run.metric} (${result.unit})`],
    ['initial network', `${fmt(result.initialResource)}, ${input.scoreLabel ?? 'score'} ${result.trajectory[0] ? formatScoreFor(input, result.trajectory[0].score) : '-'}`],
    ['final target', `${fmt(result.finalTarget)} (${describeTarget(p.target, result.unit)})`],
    ['discovered network', `${fmt(result.best.resource)} (${percent(result.best.resource, result.initialResource)} of the initial), ${input.scoreLabel ?? 'score'} ${formatScoreFor(input, result.best.score)}`],
    [
      'optimizer',
      p.algorithm === 'mcd'
        ? `MCD, J = ${p.samplesPerIteration}, L = ${p.layersPerSample} (${describeMcdShrink(p.mcdShrink)}), reduction ${+(p.reduction * 100).toFixed(3)}% decaying ×${p.decay}, seed ${p.seed}`
        : `SCD${p.scdShrinksKernel ? ' (widths and kernels)' : ' (widths)'}, reduction ${+(p.reduction * 100).toFixed(3)}% decaying ×${p.decay}, seed ${p.seed}`,
    ],
    ['iterations / samples', `${result.iterations} / ${result.samplesEvaluated}`],
  ];
  if (p.fineTuneSteps !== undefined) lines.push(['mode', `NetAdaptV1: ${p.fineTuneSteps} fine-tuning steps per sample`]);
  for (const d of input.devices ?? []) {
    const f = (v: number) => formatResource(v, d.unit);
    lines.push([`on ${d.label}`, `${f(d.discovered)} (${percent(d.discovered, d.initial)} of ${f(d.initial)}), target ${f(d.target)} — ${d.discovered <= d.target ? 'met' : 'not met'}`]);
  }
  lines.push(...finalTrainingLines(input));
  return lines;
}

/** How a sample's L chosen layers were shrunk (core/search/mcd.ts), in words for the report. */
export function describeMcdShrink(mode: SearchParams['mcdShrink']): string {
  return mode === 'every-chosen-layer'
    ? 'every chosen layer shrunk one step, then round-robin until the iteration target is met: each sample changes L layers'
    : 'chosen layers shrunk one step at a time, round-robin, stopping once the iteration target is met: a sample may change fewer than L layers';
}

const ARCH_HEADER = ['#', 'name', 'type', 'T', 'k', 's', 'exp', 'dw', 'pw', 'se', 'output', 'MACs', 'params'];

function archCells(row: ArchRow): string[] {
  return [
    String(row.index),
    row.name,
    row.type + (row.removed ? ' [removed]' : row.bypass ? ' [bypass]' : ''),
    row.limit,
    row.kernel,
    row.stride,
    row.exp,
    row.dw,
    row.pw,
    row.se,
    row.output,
    formatCount(row.macs),
    formatCount(row.params),
  ];
}

const TRAJECTORY_HEADER = ['iteration', 'target', 'resource', 'score', 'samples'];

function trajectoryCells(input: SearchReportInput): string[][] {
  const fmt = (v: number) => formatResource(v, input.result.unit);
  return input.result.trajectory.map((t) => [
    t.iteration < 0 ? 'initial' : String(t.iteration),
    t.iteration < 0 ? '-' : fmt(t.target),
    fmt(t.resource),
    formatScoreFor(input, t.score),
    String(t.samples),
  ]);
}

function markdownTable(header: string[], rows: string[][]): string {
  const esc = (cell: string) => cell.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function renderScatter(input: SearchReportInput): string {
  const { result } = input;
  return renderScatterSvg({
    samples: input.samples.filter((s) => s.score !== null).map((s) => ({ resource: s.resource, score: s.score as number })),
    trajectory: result.trajectory,
    best: result.best,
    finalTarget: result.finalTarget,
    xLabel: result.unit === 'ms' ? 'latency' : result.unit,
    xUnit: axisUnitOf(result.unit),
    yLabel: input.scoreLabel ?? 'score',
    yUnit: isAccuracyLabel(input.scoreLabel) ? 'percent' : 'plain',
    title: `${input.run.network}: ${input.scoreLabel ?? 'score'} vs ${input.run.metric} (run ${result.runId})`,
  });
}

export function renderMarkdownReport(input: SearchReportInput, svgFile = 'samples.svg'): string {
  const network = resolveNetwork(input.spec, input.result.best.config);
  const out = [`# Search ${input.result.runId} — ${input.run.network}`, ''];
  for (const [key, value] of summaryLines(input)) out.push(`- **${key}**: ${value}`);
  out.push('', '## Discovered architecture', '');
  out.push(markdownTable(ARCH_HEADER, architectureRows(network).map(archCells)));
  out.push('', `Total: ${formatCount(network.macs)} MACs, ${formatCount(network.params)} parameters.`, '');
  out.push('## Trajectory (best sample of every iteration)', '', markdownTable(TRAJECTORY_HEADER, trajectoryCells(input)), '');
  out.push('## Samples', '', `![${input.scoreLabel ?? 'score'} vs resource of every evaluated sample](${svgFile})`, '');
  return out.join('\n');
}

function htmlTable(header: string[], rows: string[][], rowClass?: (i: number) => string): string {
  const head = `<tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r, i) => `<tr${rowClass ? ` class="${rowClass(i)}"` : ''}>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export function renderHtmlReport(input: SearchReportInput, svg = renderScatter(input)): string {
  const network = resolveNetwork(input.spec, input.result.best.config);
  const rows = architectureRows(network);
  const title = `Search ${input.result.runId} — ${input.run.network}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; }
td:nth-child(2), td:nth-child(3) { text-align: left; }
tr.removed td { color: #999; text-decoration: line-through; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dt { font-weight: 600; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<dl>
${summaryLines(input).map(([k, v]) => `<dt>${escapeXml(k)}</dt><dd>${escapeXml(v)}</dd>`).join('\n')}
</dl>
<h2>Discovered architecture</h2>
${htmlTable(ARCH_HEADER, rows.map(archCells), (i) => (rows[i]?.removed ? 'removed' : ''))}
<p>Total: ${escapeXml(formatCount(network.macs))} MACs, ${escapeXml(formatCount(network.params))} parameters.</p>
<h2>Trajectory</h2>
${htmlTable(TRAJECTORY_HEADER, trajectoryCells(input))}
<h2>Samples</h2>
${svg}
</body>
</html>
`;
}

/** Writes network.json, report.md, report.html and samples.svg into `dir` (created if needed). */
export function writeSearchOutputs(dir: string, input: SearchReportInput): SearchOutputFiles {
  const files: SearchOutputFiles = {
    network: join(dir, 'network.json'),
    markdown: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
    svg: join(dir, 'samples.svg'),
  };
  const svg = renderScatter(input);
  writeFileAtomically(files.network, `${JSON.stringify(discoveredNetworkJson(input), null, 2)}\n`, 'the discovered network file');
  writeFileAtomically(files.svg, `${svg}\n`, 'the report file');
  writeFileAtomically(files.markdown, renderMarkdownReport(input, 'samples.svg'), 'the report file');
  writeFileAtomically(files.html, renderHtmlReport(input, svg), 'the report file');
  return files;
}
