import { UserError } from '../errors.ts';

/** The final target cannot be met at all, or not from where the search stands. */
export class TargetUnreachableError extends UserError {}

/** A run is being searched by another live process, or does not exist. */
export class RunStateError extends UserError {}
