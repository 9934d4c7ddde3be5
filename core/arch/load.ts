/** Loading and validating networks and sub-networks from JSON, with one message per problem naming the layer. */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { FileFormatError, ValidationError } from '../errors.ts';
import { translateFileError } from '../fs-errors.ts';
import { levelOfWidth } from './cbc.ts';
import type { SearchSpace } from './layers.ts';
import { searchSpace } from './resolve.ts';
import { networkSpecSchema, type NetworkSpec } from './spec.ts';
import type { SubnetConfig, SubnetJson } from './subnet.ts';
import { zooNames, zooSpec } from './zoo/index.ts';

/** Validates a network given as a JS value; throws ValidationError listing every problem. */
export function parseNetworkSpec(value: unknown, source = 'network'): NetworkSpec {
  const result = networkSpecSchema.safeParse(value);
  if (!result.success) {
    throw new ValidationError(`${source} is not a valid network`, describeIssues(result.error, value));
  }
  const spec = result.data;
  const names = new Set<string>();
  const problems: string[] = [];
  spec.layers.forEach((unit, i) => {
    if (names.has(unit.name)) problems.push(`layers[${i}] "${unit.name}": duplicate layer name`);
    names.add(unit.name);
  });
  if (problems.length > 0) throw new ValidationError(`${source} is not a valid network`, problems);
  return spec;
}

/** A zoo name or a path to a JSON file. */
export function loadNetwork(nameOrPath: string): NetworkSpec {
  const zoo = zooSpec(nameOrPath);
  if (zoo) return parseNetworkSpec(zoo, `zoo network "${nameOrPath}"`);
  if (!nameOrPath.endsWith('.json')) {
    throw new ValidationError(`unknown network "${nameOrPath}": not a zoo name and not a .json file`, [
      `zoo networks: ${zooNames().join(', ')}`,
    ]);
  }
  return parseNetworkSpec(readJsonFile(nameOrPath), nameOrPath);
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const translated = translateFileError(error, { path, what: 'the file', action: 'read' });
    throw translated instanceof Error && translated !== error ? translated : new FileFormatError(`cannot read ${path}: ${String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FileFormatError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Validates a sub-network JSON against its network; every problem is reported, one line each. */
export function parseSubnet(spec: NetworkSpec, value: unknown, source = 'sub-network'): SubnetConfig {
  const space = searchSpace(spec);
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${source} must be a JSON object like {"layers": {"<layer id>": {"level": 4, "kernel": 3}}}`);
  }
  const json = value as Partial<SubnetJson>;
  if (json.network !== undefined && json.network !== spec.name) {
    problems.push(`"network" is "${String(json.network)}" but the network is "${spec.name}"`);
  }
  const layers = json.layers;
  if (typeof layers !== 'object' || layers === null || Array.isArray(layers)) {
    throw new ValidationError(`${source} is not valid`, [...problems, '"layers": missing or not an object']);
  }
  const config: SubnetConfig = {
    levels: space.layers.map(() => space.widthLevels - 1),
    kernels: space.layers.map((layer) => layer.fullKernel),
  };
  for (const [id, choice] of Object.entries(layers)) {
    const layer = space.byId.get(id);
    if (!layer) {
      problems.push(`layer "${id}": no searchable layer of that id in "${spec.name}"`);
      continue;
    }
    problems.push(...applyChoice(space, layer.index, choice, config));
  }
  if (problems.length > 0) throw new ValidationError(`${source} does not fit network "${spec.name}"`, problems);
  return config;
}

function applyChoice(space: SearchSpace, index: number, choice: unknown, config: SubnetConfig): string[] {
  const layer = space.layers[index];
  if (!layer) return [];
  const at = `layer "${layer.id}"`;
  if (typeof choice !== 'object' || choice === null) return [`${at}: expected an object with "level" or "filters" and "kernel"`];
  const { level, filters, kernel } = choice as Record<string, unknown>;
  const problems: string[] = [];
  const maxLevel = space.widthLevels - 1;
  if (level !== undefined) {
    if (!Number.isInteger(level)) problems.push(`${at}.level: expected an integer, got ${JSON.stringify(level)}`);
    else if ((level as number) < layer.minLevel || (level as number) > maxLevel) {
      problems.push(`${at}.level: ${String(level)} is outside ${layer.minLevel}..${maxLevel}${layer.minLevel > 0 ? ' (this layer cannot be removed)' : ''}`);
    } else config.levels[index] = level as number;
  }
  if (filters !== undefined) {
    if (!Number.isInteger(filters) || (filters as number) < 0) {
      problems.push(`${at}.filters: expected a non-negative integer, got ${JSON.stringify(filters)}`);
    } else if ((filters as number) > layer.fullFilters) {
      problems.push(`${at}.filters: ${String(filters)} is above the full width ${layer.fullFilters}`);
    } else {
      const fromFilters = levelOfWidth(layer.fullFilters, space.widthLevels, filters as number);
      if (fromFilters < 0) problems.push(`${at}.filters: ${String(filters)} is not one of the ${space.widthLevels} width levels of ${layer.fullFilters}`);
      else if (fromFilters < layer.minLevel) problems.push(`${at}.filters: this layer cannot be removed`);
      else if (level !== undefined && fromFilters !== level) problems.push(`${at}: level ${String(level)} and filters ${String(filters)} disagree`);
      else config.levels[index] = fromFilters;
    }
  }
  if (kernel !== undefined) {
    if (!Number.isInteger(kernel)) problems.push(`${at}.kernel: expected an integer, got ${JSON.stringify(kernel)}`);
    else if ((kernel as number) % 2 === 0) problems.push(`${at}.kernel: ${String(kernel)} is even; kernel sizes are odd`);
    else if (!layer.kernels.includes(kernel as number)) {
      problems.push(`${at}.kernel: ${String(kernel)} is not one of ${layer.kernels.join(', ')}`);
    } else config.kernels[index] = kernel as number;
  }
  return problems;
}

/** zod issues as "layers[3] "b2".kernel: kernel size must be odd (got 4)". */
function describeIssues(error: z.ZodError, value: unknown): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path, value);
    const got = valueAt(value, issue.path);
    const shown = got === undefined ? '' : ` (got ${truncate(JSON.stringify(got))})`;
    let message = issue.message;
    if (issue.code === 'invalid_union' && issue.path.length === 2 && issue.path[0] === 'layers') {
      message = 'unknown or malformed layer; "type" must be one of conv, dwconv, mbconv, fd_decoder, gap, upsample, fc';
    }
    return `${path || '(root)'}: ${message}${shown}`;
  });
}

function formatPath(path: readonly PropertyKey[], value: unknown): string {
  let out = '';
  let cursor: unknown = value;
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
      cursor = Array.isArray(cursor) ? cursor[key] : undefined;
      const layerName = (cursor as { name?: unknown } | undefined)?.name;
      if (typeof layerName === 'string') out += ` "${layerName}"`;
    } else {
      out += out ? `.${String(key)}` : String(key);
      cursor = typeof cursor === 'object' && cursor !== null ? (cursor as Record<PropertyKey, unknown>)[key] : undefined;
    }
  }
  return out;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cursor: unknown = value;
  for (const key of path) {
    if (typeof cursor !== 'object' || cursor === null) return undefined;
    cursor = (cursor as Record<PropertyKey, unknown>)[key];
  }
  return cursor;
}

function truncate(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
