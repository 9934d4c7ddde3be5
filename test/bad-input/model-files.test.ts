/**
 * Bad network files, sub-network files, .tflite files and checkpoints: refused with the layer, field and allowed
 * values in the message, before anything is allocated or written (the output file of `export` is never created).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zooSpec } from '../../core/arch/zoo/index.ts';
import { cli, expectRefused, listing } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'bad-input-models-'));
const base = zooSpec('mobilenet-v1-32') as { input: Record<string, number>; layers: Record<string, unknown>[] };

function network(name: string, change: (spec: typeof base) => void): string {
  const spec = structuredClone(base);
  change(spec);
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

const CASES: [string, (spec: typeof base) => void, RegExp][] = [
  ['filters 1e9', (s) => void ((s.layers[0] as Record<string, unknown>).filters = 1e9), /layers\[0\] "conv1"\.filters: filters must be a whole number from 1 to 16,384 \(got 1000000000\)/],
  ['stride 64', (s) => void ((s.layers[0] as Record<string, unknown>).stride = 64), /layers\[0\] "conv1"\.stride: stride must be 1 or 2 \(got 64\)/],
  ['a 100000×100000 input', (s) => Object.assign(s.input, { height: 100000, width: 100000 }), /input\.height: height \(pixels\) must be a whole number from 1 to 4,096 \(got 100000\)/],
  ['kernel 4', (s) => void ((s.layers[1] as Record<string, unknown>).kernel = 4), /layers\[1\] "dw2"\.kernel: kernel size must be odd/],
  ['kernel 99', (s) => void ((s.layers[1] as Record<string, unknown>).kernel = 99), /kernel size must be a whole number from 1 to 15/],
  ['an unknown layer type', (s) => void ((s.layers[2] as Record<string, unknown>).type = 'lstm'), /layers\[2\] "pw2"\.type: .*'conv' \| 'dwconv' \| 'mbconv' .* \(got "lstm"\)/],
  ['activation "gelu"', (s) => void ((s.layers[0] as Record<string, unknown>).act = 'gelu'), /act must be one of relu, relu6, hswish, none/],
  ['no layers', (s) => void (s.layers = []), /a network needs at least one layer/],
  ['duplicate names', (s) => void ((s.layers[2] as Record<string, unknown>).name = 'conv1'), /layers\[2\] "conv1": duplicate layer name/],
];

describe('bad network files', () => {
  it.each(CASES)('%s: arch and export refuse it, export writes nothing', async (name, change, problem) => {
    const file = network(name.replace(/\W+/g, '-'), change);
    expectRefused(await cli('arch', file), problem);
    const before = listing(dir);
    expectRefused(await cli('export', '--network', file, '--out', join(dir, 'out', 'm.tflite')), problem);
    expect(listing(dir)).toEqual(before);
  });

  it('a network within the file limits whose weights no tensor can hold: refused before allocating', async () => {
    const file = network('huge-weights', (s) => {
      s.input.height = 64;
      s.input.width = 64;
      s.layers.splice(1, 0, { type: 'conv', name: 'wide1', filters: 16384, kernel: 15, act: 'relu' }, { type: 'conv', name: 'wide2', filters: 16384, kernel: 15, act: 'relu' });
    });
    const before = listing(dir);
    const outcome = await cli('export', '--network', file, '--out', join(dir, 'big.tflite'));
    expectRefused(outcome, /layer "wide2" would hold 6\.04e\+10 values, above the limit of 1,073,741,824 \(4 GiB of float32\) for one tensor/);
    expect(listing(dir)).toEqual(before);
  });

  it('a file that is not JSON, and one that is not there', async () => {
    writeFileSync(join(dir, 'text.json'), 'layers: conv');
    expectRefused(await cli('arch', join(dir, 'text.json')), /text\.json is not valid JSON/);
    expectRefused(await cli('arch', join(dir, 'gone.json')), /gone\.json does not exist; check the path/);
  });
});

describe('bad sub-network files', () => {
  it('names the layer and the allowed values', async () => {
    const sub = join(dir, 'sub.json');
    writeFileSync(sub, JSON.stringify({ layers: { dw2: { kernel: 4 }, pw2: { level: 42 }, nope: { level: 1 } } }));
    const outcome = await cli('export', '--network', 'mobilenet-v1-32', '--subnet', sub, '--out', join(dir, 's.tflite'));
    expectRefused(outcome, /layer "dw2"\.kernel: 4 is even; kernel sizes are odd/);
    expect(outcome.stderr).toMatch(/layer "pw2"\.level: 42 is outside 0\.\.8/);
    expect(outcome.stderr).toMatch(/layer "nope": no searchable layer of that id/);
  });
});

describe('bad model and checkpoint files', () => {
  it('inspect of a file that is not a .tflite model', async () => {
    writeFileSync(join(dir, 'fake.tflite'), 'definitely not a flatbuffer');
    expectRefused(await cli('inspect', join(dir, 'fake.tflite')), /fake\.tflite/);
  });

  it('a truncated .tflite model', async () => {
    const good = join(dir, 'good.tflite');
    expect((await cli('export', '--network', 'mobilenet-v1-32', '--out', good)).code).toBe(0);
    const bytes = readFileSync(good);
    writeFileSync(join(dir, 'cut.tflite'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    expectRefused(await cli('inspect', join(dir, 'cut.tflite')), /cut\.tflite/);
  });

  it('export --weights from a folder without a checkpoint', async () => {
    expectRefused(await cli('export', '--network', 'mobilenet-v1-32', '--weights', dir, '--out', join(dir, 'w.tflite')), /no super-network checkpoint in .*missing manifest/);
  });
});
