import { UserError } from '../errors.ts';

/** A latency could not be produced: entries are missing and the latency source could not measure them. */
export class LatencyUnavailableError extends UserError {
  readonly missing: readonly string[];

  constructor(missing: readonly string[], source: string | undefined, reason: string) {
    const shown = missing.slice(0, 20).map((s) => `missing: ${s}`);
    if (missing.length > 20) shown.push(`... and ${missing.length - 20} more`);
    super(
      `${missing.length} layer latency entr${missing.length === 1 ? 'y is' : 'ies are'} missing${source ? ` from ${source}` : ''} ` +
        `and ${reason}; measure them (\`netadapt lut build\` or lazy profiling with a connected device) or use a table that covers this network`,
      shown,
    );
    this.missing = missing;
  }
}
