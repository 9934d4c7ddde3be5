/** The layer rule (build/lint/layers.js): deliberate violations are reported; the tree, Svelte files included, has none. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS, layerViolation } from '../../build/lint/layers.js';

const root = join(import.meta.dirname, '..', '..');

async function lintText(text: string, file: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(text, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
}

describe('layer rule', () => {
  it('reports an engine part importing the pipeline, latency or the app — static and dynamic', async () => {
    const messages = await lintText(
      [
        "import { runSearchJob } from '../../pipeline/job.ts';",
        "export { LatencyStore } from '../../latency/store/latency-store.ts';",
        "export async function f(): Promise<unknown> { return import('../../app/cli/main.ts'); }",
        "export const g = (name: string): Promise<unknown> => import(name);",
        'void runSearchJob;',
      ].join('\n'),
      'core/search/wrong.ts',
    );
    expect(messages).toHaveLength(4);
    expect(messages[0]).toMatch(/core\/search\/ may import only .*; not pipeline\/job\.ts/);
    expect(messages[1]).toMatch(/not latency\/store\/latency-store\.ts/);
    expect(messages[2]).toMatch(/not app\/cli\/main\.ts/);
    expect(messages[3]).toMatch(/string literal/);
  });

  it('allows what the graph allows: type-only imports of search interfaces from the super-network, pipeline → latency', async () => {
    expect(await lintText("import type { FineTuner } from '../search/types.ts';\nexport type F = FineTuner;\n", 'core/supernet/ok.ts')).toEqual([]);
    expect(await lintText("import { FineTuner } from '../search/types.ts';\nexport const f = FineTuner;\n", 'core/supernet/bad.ts')).toHaveLength(1);
    expect(await lintText("import { openProfiler } from '../latency/open-profiler.ts';\nvoid openProfiler;\n", 'pipeline/ok.ts')).toEqual([]);
  });

  it('keeps core/arch pure and the renderer on the browser-safe contract (the .svelte files too)', () => {
    expect(layerViolation('core/arch/x.ts', 'core/supernet/weights.ts', false)).toMatch(/core\/arch\/ may import only/);
    // The super-network scores in ONNX Runtime through core/export; export stays below the super-network.
    expect(layerViolation('core/supernet/x.ts', 'core/export/onnx/network.ts', false)).toBeUndefined();
    expect(layerViolation('core/export/x.ts', 'core/supernet/weights.ts', true)).toMatch(/core\/export\/ may import only/);
    expect(layerViolation('renderer/src/x.ts', 'app/api/engine.ts', true)).toMatch(/renderer\/ may import only renderer\/, app\/api\/contract\//);
    const svelte: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith('.svelte')) svelte.push(full);
      }
    };
    walk(join(root, 'renderer', 'src'));
    expect(svelte.length).toBeGreaterThan(5);
    const problems: string[] = [];
    for (const file of svelte) {
      const rel = relative(root, file);
      for (const match of readFileSync(file, 'utf8').matchAll(/from\s+'(\.[^']+)'/g)) {
        const target = join(rel, '..', match[1] as string);
        const why = layerViolation(rel, target, false);
        if (why) problems.push(`${rel}: ${why}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('top folders', () => {
  /** The top-folder graph the layer table allows (lint checks every import against the table itself). */
  function allowedTopEdges(): Map<string, Set<string>> {
    const top = (folder: string) => folder.replace(/^types:/, '').split('/')[0] as string;
    const edges = new Map<string, Set<string>>();
    for (const layer of LAYERS) {
      const from = top(layer.from);
      const to = edges.get(from) ?? new Set<string>();
      for (const folder of layer.may) if (top(folder) !== from) to.add(top(folder));
      edges.set(from, to);
    }
    return edges;
  }

  it('the layer table allows no cycle between top folders, and only the faces import the app', () => {
    const edges = allowedTopEdges();
    const cycle: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]): boolean => {
      if (state.get(node) === 'done') return false;
      if (state.get(node) === 'open') {
        cycle.push(...path.slice(path.indexOf(node)), node);
        return true;
      }
      state.set(node, 'open');
      for (const next of edges.get(node) ?? []) if (visit(next, [...path, node])) return true;
      state.set(node, 'done');
      return false;
    };
    for (const node of edges.keys()) if (visit(node, [])) break;
    expect(cycle, `cycle: ${cycle.join(' → ')}`).toEqual([]);
    expect([...(edges.get('core') ?? [])]).toEqual([]);
    expect([...edges.keys()].filter((t) => t !== 'app' && edges.get(t)?.has('app')).sort()).toEqual(['electron', 'renderer']);
  });
});
