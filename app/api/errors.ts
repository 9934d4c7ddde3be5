/** Errors of the API layer and their wire form. */
import { UserError, ValidationError } from '../../core/errors.ts';
import type { ApiErrorBody, ApiErrorCode } from './contract/types.ts';

/** The operation needs an engine module that this build does not contain yet. */
export class NotAvailableError extends UserError {
  constructor(operation: string, missing: string) {
    super(`${operation} is not available in this build: ${missing} is not part of it yet`);
  }
}

/** A run, job or device the request names does not exist. */
export class NotFoundError extends UserError {}

/** The job was cancelled (by the user or because the app is closing). */
export class CancelledError extends UserError {
  constructor(reason = 'cancelled') {
    super(reason);
  }
}

/** Thrown by the server for malformed requests; carries its code. */
export class RequestError extends UserError {
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, details: readonly string[] = []) {
    super(message, details);
    this.code = code;
  }
}

/** Maps any thrown value to the wire error; unexpected errors keep their message (the UI shows it) but say so. */
export function toErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof RequestError) return { code: error.code, message: error.message, details: [...error.details] };
  if (error instanceof NotAvailableError) return body('not_available', error);
  if (error instanceof NotFoundError) return body('not_found', error);
  if (error instanceof CancelledError) return body('cancelled', error);
  if (error instanceof ValidationError) return body('invalid_request', error);
  if (error instanceof UserError) return body('user_error', error);
  if (isErrorBody(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `internal error: ${message}`, details: [] };
}

function body(code: ApiErrorCode, error: UserError): ApiErrorBody {
  return { code, message: error.message, details: [...error.details] };
}

export function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string' && Array.isArray(v.details);
}

/** Rebuilds a throwable from a wire error (e.g. one sent back by a worker thread), keeping its code. */
export function fromErrorBody(body: ApiErrorBody): RequestError {
  return new RequestError(body.code, body.message, body.details);
}
