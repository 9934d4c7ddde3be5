/**
 * The Content-Security-Policy of the renderer, shared by browser mode (an HTTP header) and Electron (a header on
 * the app:// protocol). Scripts and styles only from the app itself, no inline script or style, no eval, no plugins,
 * no framing, no form posts; the only network access is the API socket (browser mode).
 */
export interface CspOptions {
  /** Extra connect-src sources, e.g. "ws://127.0.0.1:5173" for the API socket. */
  connect?: readonly string[];
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const connect = options.connect && options.connect.length > 0 ? options.connect.join(' ') : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Security headers sent with every static file. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}
