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

/** The dataset picker's text fields as the API's dataset choice (numbers parsed; the schema reports bad text). */
export function datasetFromForm(form: { kind: string; path: string; trainImages: string; heldoutImages: string; testImages: string }): Record<string, unknown> {
  return {
    kind: form.kind,
    ...(form.path.trim() !== '' ? { path: form.path.trim() } : {}),
    trainImages: numberOrRaw(form.trainImages),
    heldoutImages: numberOrRaw(form.heldoutImages),
    testImages: numberOrRaw(form.testImages),
  };
}

export function formFromDataset(choice: { kind: string; path?: string; trainImages: number; heldoutImages: number; testImages: number }) {
  return {
    kind: choice.kind as 'synthetic',
    path: choice.path ?? '',
    trainImages: String(choice.trainImages),
    heldoutImages: String(choice.heldoutImages),
    testImages: String(choice.testImages),
  };
}
