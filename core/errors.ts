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
