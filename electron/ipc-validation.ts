/**
 * Checks on what reaches the main process from a renderer: the sender must be our app:// page, and the message
 * must look like an API request before it is forwarded to the engine (which validates the parameters).
 */
import { METHOD_NAMES, isMethodName, type MethodName } from '../app/api/contract/methods.ts';
import type { ApiErrorBody } from '../app/api/contract/types.ts';
import { APP_HOST, APP_ORIGIN, APP_SCHEME } from './csp.ts';

/** True for a frame URL on our own app:// origin (not file://, not http, not another host). */
export function isTrustedFrameUrl(url: string | undefined | null): boolean {
  if (typeof url !== 'string' || url === '') return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}

/** The renderer never navigates: the app is one page, so only reloads of that page are allowed. */
export function isAllowedNavigation(url: string): boolean {
  return isTrustedFrameUrl(url) && new URL(url).origin === new URL(APP_ORIGIN).origin;
}

export type IpcCheck = { ok: true; method: MethodName; params: unknown } | { ok: false; error: ApiErrorBody };

export function checkIpcRequest(senderUrl: string | undefined | null, method: unknown, params: unknown): IpcCheck {
  if (!isTrustedFrameUrl(senderUrl)) {
    return { ok: false, error: { code: 'invalid_request', message: 'request refused: it does not come from the NetAdapt Studio page', details: [] } };
  }
  if (typeof method !== 'string' || !isMethodName(method)) {
    return {
      ok: false,
      error: {
        code: 'unknown_method',
        message: `unknown method "${String(method).slice(0, 100)}"`,
        details: [`methods: ${METHOD_NAMES.join(', ')}`],
      },
    };
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    return { ok: false, error: { code: 'invalid_request', message: 'params must be an object', details: [] } };
  }
  return { ok: true, method, params: params ?? {} };
}
