/**
 * Errors a user can act on. The CLI prints `message` (and `details`, one per line) without a stack trace;
 * anything that is not a UserError is a bug and is printed with its stack under --debug.
 */
export class UserError extends Error {
  /** One line per problem, printed after the message. */
  readonly details: readonly string[];

  constructor(message: string, details: readonly string[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Input (a JSON file, a CLI option, an API request) failed validation. */
export class ValidationError extends UserError {}

/** A file is missing, unreadable or corrupt. */
export class FileFormatError extends UserError {}

/** The same error (same class, message and stack) with more detail lines, e.g. what was saved before it happened. */
export function withDetails<E extends UserError>(error: E, lines: readonly string[]): E {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as E;
  Object.assign(copy, error, { details: [...error.details, ...lines] });
  Object.defineProperty(copy, 'message', { value: error.message, writable: true, configurable: true });
  Object.defineProperty(copy, 'stack', { value: error.stack, writable: true, configurable: true });
  return copy;
}
