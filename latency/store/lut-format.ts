import { z } from 'zod';
import { FileFormatError, ValidationError } from '../../core/errors.ts';
import { csvLine, CsvSyntaxError, parseCsv } from './csv.ts';
import type { CsvRecord } from './csv.ts';
import { canonicalRuntimeOptions } from './runtime-options.ts';
import { isObsoleteSignature, upgradeSignature } from '../../core/arch/signature.ts';
import { checkSignature } from './signature.ts';
import { describeIssues, entryValuesSchema, jsonPath, timestampSchema } from './latency-types.ts';
import { implausibleLatency, signatureProblem } from './plausibility.ts';

/**
 * The shareable latency-table file, in two encodings:
 * - JSON (full fidelity): `{format:'netadapt-lut', version:1, device:{id, fingerprint, label}, entries:[...],
 *   modelMeasurements:[...]}`.
 * - CSV (for spreadsheets): one row per entry with the device repeated on every row (a file is one device's table);
 *   whole-model measurements are not part of the CSV form.
 * Both round-trip entries exactly: numbers are written in JavaScript's shortest exact form.
 */
export const LUT_FORMAT = 'netadapt-lut';
export const LUT_VERSION = 1;

const nonEmpty = z.string().min(1, 'must not be empty');

const runtimeOptionsField = z.string().transform((s, ctx) => {
  try {
    return canonicalRuntimeOptions(s);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** The key fields of an entry; the statistics are checked by `entryValuesSchema` (strict: no unknown fields). */
const lutEntryKeySchema = z.object({
  signature: nonEmpty.superRefine((s, ctx) => {
    try {
      checkSignature(s);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return;
    }
    const problem = signatureProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  runtimeOptions: runtimeOptionsField,
});

/** One entry as it appears in the file (the device is implied by the file). */
export type LutEntry = z.output<typeof entryValuesSchema> & { readonly signature: string; readonly runtimeOptions: string };

const modelMeasurementSchema = z.strictObject({
  runtimeOptions: runtimeOptionsField,
  modelKey: nonEmpty,
  measuredUs: z.number().nonnegative(),
  predictedSumUs: z.number().nonnegative(),
  measuredAt: timestampSchema,
});

export type LutModelMeasurement = z.output<typeof modelMeasurementSchema>;

const deviceSchema = z.strictObject({
  id: nonEmpty,
  fingerprint: z.record(z.string(), z.unknown()),
  label: z.string(),
});

/** A parsed file: each entry's place in it ("entries[3]", "line 5"), for messages that name the row. */
export interface ParsedLutFile extends LutFile {
  readonly rowNames: readonly string[];
  /**
   * Entries of an older signature version whose layer changed meaning since (e.g. v1 residual projections): left
   * out — they would never be looked up — and counted in the import report.
   */
  readonly obsolete: readonly string[];
}

export interface LutFile {
  readonly format: typeof LUT_FORMAT;
  readonly version: typeof LUT_VERSION;
  readonly device: { readonly id: string; readonly fingerprint: Readonly<Record<string, unknown>>; readonly label: string };
  readonly entries: readonly LutEntry[];
  readonly modelMeasurements: readonly LutModelMeasurement[];
}

// Entries are validated one by one (below) so a message can name the entry's signature; the file shape first.
const lutFileShape = z.strictObject({
  format: z.literal(LUT_FORMAT),
  version: z.literal(LUT_VERSION),
  device: deviceSchema,
  entries: z.array(z.record(z.string(), z.unknown())),
  modelMeasurements: z.array(z.unknown()).optional(),
});

export const CSV_COLUMNS = [
  'device_id',
  'device_label',
  'device_fingerprint',
  'runtime_options',
  'signature',
  'count',
  'mean_us',
  'median_us',
  'std_us',
  'min_us',
  'max_us',
  'measured_at',
  'model_sha256',
  'flags',
] as const;

/** Flags are joined with '|' in CSV (a flag is [a-z0-9-], so no escaping is needed). */
const CSV_FLAG_SEPARATOR = '|';

export function lutToJson(file: LutFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

export function lutToCsv(file: LutFile): string {
  const fingerprint = JSON.stringify(file.device.fingerprint);
  const lines = [csvLine(CSV_COLUMNS)];
  for (const e of file.entries) {
    lines.push(
      csvLine([
        file.device.id,
        file.device.label,
        fingerprint,
        e.runtimeOptions,
        e.signature,
        e.count,
        e.meanUs,
        e.medianUs,
        e.stdUs,
        e.minUs,
        e.maxUs,
        e.measuredAt,
        e.modelSha256,
        e.flags.join(CSV_FLAG_SEPARATOR),
      ]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses an export file in either encoding (JSON when its first non-blank character is `{`). */
export function parseLutText(text: string, source = 'the file'): ParsedLutFile {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new FileFormatError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
    return parseLutJson(json, source);
  }
  return parseLutCsv(body, source);
}

export function parseLutJson(json: unknown, source = 'the file'): ParsedLutFile {
  if (json !== null && typeof json === 'object' && 'format' in json && json.format !== LUT_FORMAT) {
    throw new FileFormatError(`${source} is not a NetAdapt latency table (format is ${JSON.stringify(json.format)}, expected "${LUT_FORMAT}")`);
  }
  if (json !== null && typeof json === 'object' && 'version' in json && typeof json.version === 'number' && json.version > LUT_VERSION) {
    throw new FileFormatError(`${source} is a version ${json.version} latency table, written by a newer NetAdapt Studio; upgrade to import it`);
  }
  const shape = lutFileShape.safeParse(json);
  if (!shape.success) throw new ValidationError(`${source} is not a valid latency table`, describeIssues(shape.error, jsonPath));
  const problems: string[] = [];
  const obsolete: string[] = [];
  const entries: LutEntry[] = [];
  const rowNames: string[] = [];
  shape.data.entries.forEach((raw, index) => {
    const entry = parseEntry(raw, (field) => `entries[${index}]${field === '' ? '' : `.${field}`}`, problems, obsolete);
    if (entry) {
      entries.push(entry);
      rowNames.push(`entries[${index}]`);
    }
  });
  const modelMeasurements: LutModelMeasurement[] = [];
  (shape.data.modelMeasurements ?? []).forEach((raw, index) => {
    const parsed = modelMeasurementSchema.safeParse(raw);
    if (parsed.success) modelMeasurements.push(parsed.data);
    else problems.push(...describeIssues(parsed.error, (p) => `modelMeasurements[${index}].${jsonPath(p)}`));
  });
  return finish(source, shape.data.device, entries, rowNames, modelMeasurements, problems, obsolete);
}

/**
 * One entry; a signature of an older version is upgraded (upgradeSignature) or, when its layer changed meaning,
 * recorded in `obsolete` and left out.
 */
function parseEntry(input: unknown, where: (field: string) => string, problems: string[], obsolete: string[]): LutEntry | undefined {
  let raw = input;
  const original = (input as { signature?: unknown } | null)?.signature;
  if (typeof original === 'string') {
    const upgraded = upgradeSignature(original);
    if (isObsoleteSignature(upgraded)) {
      obsolete.push(original);
      return undefined;
    }
    raw = { ...(input as object), signature: upgraded };
  }
  const keys = lutEntryKeySchema.safeParse(raw);
  if (!keys.success) {
    problems.push(...describeIssues(keys.error, (p) => where(jsonPath(p))));
    return undefined;
  }
  const { signature: _signature, runtimeOptions: _runtimeOptions, ...rest } = raw as Record<string, unknown>;
  const values = entryValuesSchema.safeParse(rest);
  if (!values.success) {
    problems.push(...describeIssues(values.error, (p) => `${where(jsonPath(p))} (signature ${keys.data.signature})`));
    return undefined;
  }
  const implausible = implausibleLatency(keys.data.signature, values.data.meanUs);
  if (implausible) {
    problems.push(`${where('meanUs')} (signature ${keys.data.signature}): ${implausible}`);
    return undefined;
  }
  return { ...values.data, signature: keys.data.signature, runtimeOptions: keys.data.runtimeOptions };
}

function finish(
  source: string,
  device: LutFile['device'],
  entries: LutEntry[],
  rowNames: string[],
  modelMeasurements: LutModelMeasurement[],
  problems: string[],
  obsolete: readonly string[],
): ParsedLutFile {
  const seen = new Set<string>();
  for (const e of entries) {
    const key = `${e.runtimeOptions}\n${e.signature}`;
    if (seen.has(key)) problems.push(`the entry ${e.signature} (options ${e.runtimeOptions || '(none)'}) appears twice`);
    seen.add(key);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20);
    if (problems.length > 20) shown.push(`... and ${problems.length - 20} more problems`);
    throw new ValidationError(`${source} has ${problems.length} invalid value(s); nothing was imported`, shown);
  }
  return { format: LUT_FORMAT, version: LUT_VERSION, device, entries, modelMeasurements, rowNames, obsolete };
}

export function parseLutCsv(text: string, source = 'the file'): ParsedLutFile {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new FileFormatError(`${source} is not valid CSV: ${error.message}`);
    throw error;
  }
  const [header, ...rows] = records;
  if (!header) throw new FileFormatError(`${source} is empty; expected a JSON or CSV latency table`);
  const columns = header.cells.map((c) => c.trim());
  const missing = CSV_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new FileFormatError(
      `${source} is not a NetAdapt latency table CSV: the header (line ${header.line}) lacks the column(s) ${missing.join(', ')}`,
      [`expected columns: ${CSV_COLUMNS.join(', ')}`],
    );
  }
  if (rows.length === 0) throw new ValidationError(`${source} has a header but no entries; nothing to import`);
  const index = Object.fromEntries(CSV_COLUMNS.map((c) => [c, columns.indexOf(c)])) as Record<(typeof CSV_COLUMNS)[number], number>;
  const problems: string[] = [];
  const obsolete: string[] = [];
  const entries: LutEntry[] = [];
  const rowNames: string[] = [];
  let device: LutFile['device'] | undefined;
  let deviceLine = 0;
  for (const row of rows) {
    const cell = (column: (typeof CSV_COLUMNS)[number]): string => row.cells[index[column]] ?? '';
    const where = (field: string): string => `line ${row.line}${field === '' ? '' : `, column ${csvColumnOf(field)}`}`;
    if (row.cells.length !== columns.length) {
      problems.push(`line ${row.line}: ${row.cells.length} fields, the header has ${columns.length}`);
      continue;
    }
    const rowDevice = parseCsvDevice(cell('device_id'), cell('device_label'), cell('device_fingerprint'), where, problems);
    if (!rowDevice) continue;
    if (!device) {
      device = rowDevice;
      deviceLine = row.line;
    } else if (
      rowDevice.id !== device.id ||
      rowDevice.label !== device.label ||
      JSON.stringify(rowDevice.fingerprint) !== JSON.stringify(device.fingerprint)
    ) {
      problems.push(`line ${row.line}: the device differs from line ${deviceLine}'s; a CSV latency table holds one device`);
      continue;
    }
    const overflowing = NUMBER_COLUMNS.filter((column) => Number.isNaN(Number(cell(column))) === false && !Number.isFinite(Number(cell(column))));
    if (overflowing.length > 0) {
      for (const column of overflowing) problems.push(`line ${row.line}, column ${column}: ${cell(column).trim()} is not a finite number`);
      continue;
    }
    const entry = parseEntry(
      {
        signature: cell('signature'),
        runtimeOptions: cell('runtime_options'),
        count: csvNumber(cell('count')),
        meanUs: csvNumber(cell('mean_us')),
        medianUs: csvNumber(cell('median_us')),
        stdUs: csvNumber(cell('std_us')),
        minUs: csvNumber(cell('min_us')),
        maxUs: csvNumber(cell('max_us')),
        measuredAt: cell('measured_at'),
        modelSha256: cell('model_sha256') === '' ? null : cell('model_sha256'),
        flags: cell('flags') === '' ? [] : cell('flags').split(CSV_FLAG_SEPARATOR),
      },
      where,
      problems,
      obsolete,
    );
    if (entry) {
      entries.push(entry);
      rowNames.push(`line ${row.line}`);
    }
  }
  if (!device) {
    throw new ValidationError(`${source} has no valid rows; nothing was imported`, problems.slice(0, 20));
  }
  return finish(source, device, entries, rowNames, [], problems, obsolete);
}

function parseCsvDevice(
  id: string,
  label: string,
  fingerprintText: string,
  where: (field: string) => string,
  problems: string[],
): LutFile['device'] | undefined {
  let fingerprint: unknown;
  try {
    fingerprint = JSON.parse(fingerprintText);
  } catch {
    problems.push(`${where('device_fingerprint')}: not valid JSON`);
    return undefined;
  }
  const parsed = deviceSchema.safeParse({ id, label, fingerprint });
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error, (p) => where(`device_${jsonPath(p)}`)));
    return undefined;
  }
  return parsed.data;
}

/** A CSV number cell: empty or non-numeric text is kept as text, so validation reports "expected number". */
const NUMBER_COLUMNS = ['count', 'mean_us', 'median_us', 'std_us', 'min_us', 'max_us'] as const;

function csvNumber(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return text;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : text;
}

const CSV_COLUMN_OF_FIELD: Record<string, string> = {
  count: 'count',
  meanUs: 'mean_us',
  medianUs: 'median_us',
  stdUs: 'std_us',
  minUs: 'min_us',
  maxUs: 'max_us',
  measuredAt: 'measured_at',
  modelSha256: 'model_sha256',
  runtimeOptions: 'runtime_options',
  signature: 'signature',
};

function csvColumnOf(field: string): string {
  const head = field.split(/[.[]/)[0] ?? field;
  if (head.startsWith('flags')) return 'flags';
  return CSV_COLUMN_OF_FIELD[head] ?? field;
}
