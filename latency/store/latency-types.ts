import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { canonicalJson } from '../../core/hash.ts';

/** Statistics of one measured layer, in microseconds. */
export interface LatencyStatistics {
  readonly count: number;
  readonly meanUs: number;
  readonly medianUs: number;
  readonly stdUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

export interface LatencyEntry extends LatencyStatistics {
  readonly deviceId: string;
  readonly signature: string;
  /** Canonical runtime options string (see runtime-options.ts). */
  readonly runtimeOptions: string;
  /** ISO 8601, UTC. */
  readonly measuredAt: string;
  /** SHA-256 (hex) of the single-layer model that was measured, when known. */
  readonly modelSha256: string | null;
  /** Sorted, unique; e.g. ['high-std']. */
  readonly flags: readonly string[];
}

/** What a profiler hands to `putEntry`; `measuredAt` defaults to now, `flags` to none. */
export interface LatencyEntryInput extends LatencyStatistics {
  readonly deviceId: string;
  readonly signature: string;
  readonly runtimeOptions: string;
  readonly measuredAt?: string | Date;
  readonly modelSha256?: string | null;
  readonly flags?: readonly string[];
}

export interface DeviceRecord {
  readonly id: string;
  /** The fingerprint object (parsed from the canonical JSON). */
  readonly fingerprint: Readonly<Record<string, unknown>>;
  /** Canonical JSON of the fingerprint: keys sorted at every level, no whitespace. */
  readonly fingerprintJson: string;
  readonly label: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** A whole-model measurement and the per-layer sum the table predicted for the same model when it was measured. */
export interface ModelMeasurement {
  readonly deviceId: string;
  readonly runtimeOptions: string;
  /** Identifies the measured model, e.g. the sub-network's config hash. */
  readonly modelKey: string;
  readonly measuredUs: number;
  readonly predictedSumUs: number;
  readonly measuredAt: string;
}

export interface ModelMeasurementInput extends Omit<ModelMeasurement, 'measuredAt'> {
  readonly measuredAt?: string | Date;
}

export const FLAG = /^[a-z0-9][a-z0-9-]*$/;

const microseconds = z.number().nonnegative();
/** ISO 8601 with a time; stored normalized to UTC (`toISOString`), so stored strings sort by time. */
export const timestampSchema = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

/** The statistics plus metadata of one entry as it appears in an export file (and is validated on `putEntry`). */
export const entryValuesSchema = z
  .strictObject({
    count: z.int().positive(),
    meanUs: microseconds,
    medianUs: microseconds,
    stdUs: microseconds,
    minUs: microseconds,
    maxUs: microseconds,
    measuredAt: timestampSchema,
    modelSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .nullable(),
    flags: z
      .array(z.string().regex(FLAG, 'a flag is lowercase letters, digits and dashes'))
      .transform((flags) => [...new Set(flags)].sort()),
  })
  .superRefine((e, ctx) => {
    // Relative slack of a few ulps: a mean computed as sum/n can land one rounding step outside [min, max].
    const slack = 1e-9 * Math.max(1, e.maxUs);
    if (e.minUs > e.maxUs) ctx.addIssue({ code: 'custom', path: ['minUs'], message: `minUs (${e.minUs}) is above maxUs (${e.maxUs})` });
    for (const key of ['meanUs', 'medianUs'] as const) {
      if (e[key] < e.minUs - slack || e[key] > e.maxUs + slack) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${key} (${e[key]}) is outside [minUs, maxUs] = [${e.minUs}, ${e.maxUs}]` });
      }
    }
  });

export type EntryValues = z.output<typeof entryValuesSchema>;

/** "entries[3].meanUs: expected number, received string" — one line per zod issue, at most `limit`. */
export function describeIssues(error: z.ZodError, describePath: (path: readonly PropertyKey[]) => string, limit = 20): string[] {
  const lines = error.issues.slice(0, limit).map((issue) => `${describePath(issue.path)}: ${issue.message}`);
  if (error.issues.length > limit) lines.push(`... and ${error.issues.length - limit} more problems`);
  return lines;
}

export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out === '' ? '(top level)' : out;
}

export { canonicalJson } from '../../core/hash.ts';

/** Parses and canonicalizes a fingerprint given as JSON text or an object; it must be a JSON object. */
export function canonicalFingerprint(fingerprint: string | Readonly<Record<string, unknown>>): string {
  let value: unknown = fingerprint;
  if (typeof fingerprint === 'string') {
    try {
      value = JSON.parse(fingerprint);
    } catch (error) {
      throw new ValidationError(`the device fingerprint is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError('the device fingerprint must be a JSON object');
  }
  return canonicalJson(value);
}

/**
 * A table entry the device could not measure (the benchmark hung, its output was cut off or unreadable, ...). A
 * build skips failed entries unless asked to retry them; a later successful measurement removes the record.
 */
export interface EntryFailure {
  readonly deviceId: string;
  readonly runtimeOptions: string;
  readonly signature: string;
  /** Short machine-readable cause, e.g. 'timeout', 'cut-off', 'bad-output', 'exit-status'. */
  readonly reason: string;
  readonly message: string;
  /** How many builds tried and failed. */
  readonly attempts: number;
  readonly failedAt: string;
}

export type EntryFailureInput = Omit<EntryFailure, 'attempts' | 'failedAt'> & { readonly failedAt?: string | Date };

/** The phone's clock frequencies and temperatures around one measured batch, and what was done about them. */
export interface BatchConditions {
  readonly deviceId: string;
  readonly runtimeOptions: string;
  /** The adb serial of the phone that measured the batch (identical phones share one table). */
  readonly serial: string;
  readonly recordedAt: string;
  readonly models: number;
  /** 1 for the first measurement of the batch, 2 for its re-measurement after a cool-down, ... */
  readonly attempt: number;
  /** 'stable', 'throttled-remeasured' (the batch was measured again) or 'throttled-kept' (no attempt left). */
  readonly verdict: string;
  /** Why the batch counted as throttled; empty when stable. */
  readonly reasons: readonly string[];
  readonly before: Readonly<Record<string, unknown>>;
  readonly after: Readonly<Record<string, unknown>>;
  readonly cooldownMs: number;
}

export type BatchConditionsInput = Omit<BatchConditions, 'recordedAt'> & { readonly recordedAt?: string | Date };
