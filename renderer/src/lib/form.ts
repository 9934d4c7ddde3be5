/** Inline form validation with the API's own zod schemas: one message per field, keyed by its path. */
import type { z } from 'zod';

export type FieldErrors = Record<string, string>;

export function fieldErrors(schema: z.ZodType, value: unknown): FieldErrors {
  const result = schema.safeParse(value);
  if (result.success) return {};
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join('.') || '(form)';
    errors[key] ??= issue.message;
  }
  return errors;
}

/** A number input's value: '' and non-numbers stay as they are so the schema reports them. */
export function numberOrRaw(text: string): number | string {
  if (text.trim() === '') return text;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}
