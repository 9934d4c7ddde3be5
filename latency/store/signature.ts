import { ValidationError } from '../../core/errors.ts';

/**
 * Layer signatures come from core/arch and are opaque to the store (a canonical string such as
 * `v1;op=conv;in=32x32x16;f=32;...`). The store only checks that one is a sane single-line string and reads its
 * `op=` field for statistics.
 */
const MAX_SIGNATURE_LENGTH = 2_000;

export function checkSignature(signature: string): void {
  if (signature.length === 0) throw new ValidationError('a layer signature is empty');
  if (signature.length > MAX_SIGNATURE_LENGTH) {
    throw new ValidationError(`a layer signature is longer than ${MAX_SIGNATURE_LENGTH} characters: ${signature.slice(0, 80)}...`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(signature)) {
    throw new ValidationError(`the layer signature ${JSON.stringify(signature)} contains a control character`);
  }
}

/** The `op=` field of a signature (e.g. 'conv'), or 'unknown' when it has none. */
export function signatureOp(signature: string): string {
  const match = /(?:^|;)op=([^;]*)/.exec(signature);
  return match?.[1] || 'unknown';
}
