import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MacsMetric } from '../../../core/metrics/index.ts';
import { SearchOptimizer } from '../../../core/search/optimizer.ts';
import { loadReportInput, renderMarkdownReport, writeSearchOutputs } from '../../../core/search/report.ts';
import { renderScatterSvg } from '../../../core/search/scatter-svg.ts';
import { niceTicks } from '../../../core/units.ts';
import { SyntheticEvaluator } from '../../../core/search/synthetic-evaluator.ts';
import { memoryStore, mobilenet, params } from './helpers.ts';

describe('search outputs', () => {
  it('network JSON, Markdown and HTML reports with the architecture and trajectory tables, and the SVG scatter', async () => {
    const spec = mobilenet();
    const store = memoryStore();
    const optimizer = new SearchOptimizer({ spec, metric: new MacsMetric(spec), evaluator: new SyntheticEvaluator(spec), store });
    const result = await optimizer.start(params({ reduction: 0.15, samplesPerIteration: 5, target: { kind: 'fraction', value: 0.7 } }));
    const input = loadReportInput(store, result.runId, spec, 'synthetic score');
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const files = writeSearchOutputs(dir, input);

    const network = JSON.parse(readFileSync(files.network, 'utf8')) as Record<string, unknown>;
    expect(network.config).toEqual(result.best.config);
    expect(network.resource).toBe(result.best.resource);
    expect((network.spec as { name: string }).name).toBe(spec.name);
    expect(Object.keys((network.subnet as { layers: object }).layers).length).toBe(result.best.config.levels.length);

    const markdown = readFileSync(files.markdown, 'utf8');
    expect(markdown).toContain('| # | name | type | T | k | s | exp | dw | pw | se | output | MACs | params |');
    expect(markdown).toMatch(/\| 1 \| conv1 \| conv/);
    expect(markdown).toContain('L = 4 (chosen layers shrunk one step at a time, round-robin, stopping once the iteration target is met: a sample may change fewer than L layers)');
    const trajectoryRows = markdown.split('\n').filter((l) => /^\| (initial|\d+) \| .* \| \d+ \|$/.test(l) && !/conv|dw|pw|pool|fc/.test(l));
    expect(trajectoryRows.length).toBe(result.trajectory.length);
    expect(markdown).toBe(renderMarkdownReport(input));

    const svg = readFileSync(files.svg, 'utf8');
    const dots = svg.match(/<circle cx="[\d.]+" cy="[\d.]+" r="2.2"\/>/g) ?? [];
    expect(dots.length).toBe(result.samplesEvaluated);
    expect(svg).toContain('class="trajectory"');
    expect(svg).toContain('class="target"');
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('<th>params</th>');
    expect(html).not.toMatch(/<script/);
  });

  it('scatter coordinates map the data range into the plot and escape labels', () => {
    const svg = renderScatterSvg({
      samples: [
        { resource: 100, score: 1 },
        { resource: 200, score: 2 },
      ],
      trajectory: [],
      xLabel: 'a < b',
      yLabel: 'score & more',
      width: 400,
      height: 300,
    });
    const [first, second] = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="2.2"\/>/g)].map((m) => [Number(m[1]), Number(m[2])]) as [number, number][];
    expect((first as [number, number])[0]).toBeLessThan((second as [number, number])[0]);
    expect((first as [number, number])[1]).toBeGreaterThan((second as [number, number])[1]);
    expect(svg).toContain('a &lt; b');
    expect(svg).toContain('score &amp; more');
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1_830_000, 3_050_000)).toEqual([2_000_000, 2_250_000, 2_500_000, 2_750_000, 3_000_000]);
  });
});
