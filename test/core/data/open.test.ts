import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDataset, parseDatasetShorthand, parseDatasetSpec } from '../../../core/data/open.ts';
import { UserError, ValidationError } from '../../../core/errors.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'netadapt-open-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('dataset specs', () => {
  it('parses the CLI shorthand', () => {
    expect(parseDatasetShorthand('synthetic')).toEqual({ type: 'synthetic-classification' });
    expect(parseDatasetShorthand('synthetic?classes=12&difficulty=0.8&seed=3')).toEqual({ type: 'synthetic-classification', classes: 12, difficulty: 0.8, seed: 3 });
    expect(parseDatasetShorthand('synthetic-depth?size=32')).toEqual({ type: 'synthetic-depth', size: 32 });
    expect(parseDatasetShorthand('cifar10:/data/cifar')).toEqual({ type: 'cifar10', dir: '/data/cifar' });
    expect(parseDatasetShorthand('folder:/data/my pets?size=64&heldoutSize=500')).toEqual({ type: 'image-folder', dir: '/data/my pets', size: 64, heldoutSize: 500 });
    expect(parseDatasetShorthand('depth-pairs:C:\\nyu')).toEqual({ type: 'depth-pairs', dir: 'C:\\nyu' });
  });

  it('shorthand errors say what is wrong', () => {
    expect(validationError(() => parseDatasetShorthand('imagenet:/x')).message).toMatch(/unknown dataset type "imagenet"/);
    expect(validationError(() => parseDatasetShorthand('cifar10')).message).toMatch(/cifar10 needs a folder/);
    expect(validationError(() => parseDatasetShorthand('synthetic:/x')).message).toMatch(/takes no path/);
    expect(validationError(() => parseDatasetShorthand('synthetic?classes')).message).toMatch(/key=value/);
  });

  it('validation errors name the field and the value', () => {
    const tooMany = validationError(() => parseDatasetShorthand('synthetic?classes=40'));
    expect(tooMany.message).toMatch(/classes/);
    expect(tooMany.message).toContain('40');
    const fraction = validationError(() => parseDatasetSpec({ type: 'synthetic-depth', size: 31.5 }));
    expect(fraction.details[0]).toMatch(/^size: .*whole number.*31\.5/);
    const unknownField = validationError(() => parseDatasetSpec({ type: 'cifar10', dir: '/x', colour: 'red' }));
    expect(unknownField.details[0]).toBe('colour: unknown field (got "red")');
    const badType = validationError(() => parseDatasetSpec({ type: 'mnist' }));
    expect(badType.details[0]).toMatch(/^type: must be one of synthetic-classification, .* \(got "mnist"\)/);
    const noDir = validationError(() => parseDatasetSpec({ type: 'image-folder' }));
    expect(noDir.details[0]).toMatch(/^dir: .*\(got nothing\)/);
    const text = validationError(() => parseDatasetShorthand('synthetic?difficulty=hard'));
    expect(text.details[0]).toMatch(/difficulty: .*"hard"/);
  });

  it('openDataset opens synthetic datasets from objects and shorthand', async () => {
    const cls = await openDataset({ type: 'synthetic-classification', trainSize: 50, heldoutSize: 10, testSize: 5, classes: 4 });
    expect(cls.numClasses).toBe(4);
    expect(cls.split('heldout').size).toBe(10);
    const depth = await openDataset('synthetic-depth?size=16&trainSize=5&heldoutSize=1&testSize=0');
    expect(depth.kind).toBe('depth');
    expect(depth.inputShape).toEqual([16, 16, 3]);
    expect(depth.splitNames).toEqual(['train', 'heldout']);
    const b = depth.split('train').get([0]);
    expect(b.depth?.length).toBe(256);
  });

  it('openDataset reports a missing folder as a user error', async () => {
    await expect(openDataset(`folder:${path.join(root, 'absent')}`)).rejects.toBeInstanceOf(UserError);
    await expect(openDataset(`cifar10:${path.join(root, 'absent')}`)).rejects.toThrow(/CIFAR-10 folder not found/);
    await expect(openDataset({ type: 'synthetic-classification', trainSize: 0 })).rejects.toThrow(/trainSize must be ≥ 1 \(got 0\)/);
  });
});
