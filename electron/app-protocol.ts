/** Maps app://netadapt/<path> to a file of the built renderer (no traversal, no hidden files). */
import { resolveStaticPath } from '../app/api/http-security.ts';
import { APP_HOST, APP_SCHEME } from './csp.ts';

export function appUrlToFile(url: string, rendererDir: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  return resolveStaticPath(rendererDir, parsed.pathname);
}
