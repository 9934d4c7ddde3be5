/** The app:// origin the renderer is served from, and its Content-Security-Policy (no network access at all). */
import { contentSecurityPolicy } from '../app/api/csp.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'netadapt';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The renderer talks to the engine over IPC only, so connect-src stays 'none'. */
export function electronCsp(): string {
  return contentSecurityPolicy();
}
