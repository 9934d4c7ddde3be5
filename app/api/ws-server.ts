/**
 * Browser mode: serves the built renderer over HTTP on 127.0.0.1 and the API over a WebSocket at /api.
 * A random per-launch token guards the API (close code 4401 without it); connections from other hosts, other
 * origins or with a foreign Host header are refused (4403 / HTTP 403). Static files get a strict CSP.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { translateListenError } from '../../core/fs-errors.ts';
import { contentSecurityPolicy, securityHeaders } from './csp.ts';
import { contentTypeOf, isAllowedHost, isAllowedOrigin, isLoopbackAddress, resolveStaticPath, tokensEqual } from './http-security.ts';
import type { ApiServer } from './server.ts';
import type { DownloadInfo } from './contract/types.ts';

export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface UiServerOptions {
  api: ApiServer;
  /** The built renderer (renderer/dist). */
  staticDir: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Default: 32 random bytes, hex. */
  token?: string;
  /** Resolves an export's download id (GET /download/<id>?token=…); absent: no downloads. */
  download?: (downloadId: string) => Promise<DownloadInfo>;
}

export interface UiServer {
  readonly port: number;
  readonly token: string;
  /** The page to open: http://127.0.0.1:PORT/?token=… */
  readonly url: string;
  /** Stops accepting, closes every socket; the ApiServer is closed by its owner. */
  close(): Promise<void>;
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const root = realpathSync(options.staticDir);
  let port = 0;
  const http = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/download/')) void serveDownload(request, response, url, { port, token, download: options.download });
    else serveStatic(request, response, root, port);
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      if (!isLoopbackAddress(request.socket.remoteAddress) || !isAllowedHost(request.headers.host, port) || !isAllowedOrigin(request.headers.origin, port)) {
        ws.close(CLOSE_FORBIDDEN, 'connections are accepted from this computer only');
        return;
      }
      if (!tokensEqual(url.searchParams.get('token'), token)) {
        ws.close(CLOSE_UNAUTHORIZED, 'missing or wrong token: open the URL that `netadapt ui` printed');
        return;
      }
      attach(ws, options.api);
    });
  });

  await new Promise<void>((resolvePromise, reject) => {
    http.once('error', (error) => reject(translateListenError(error, options.port ?? 0, '127.0.0.1')));
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolvePromise();
    });
  });
  port = (http.address() as { port: number }).port;

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    async close() {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolvePromise) => sockets.close(() => resolvePromise()));
      http.closeAllConnections();
      await new Promise<void>((resolvePromise) => http.close(() => resolvePromise()));
    },
  };
}

function attach(ws: WebSocket, api: ApiServer): void {
  const connection = api.connect((message) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  });
  ws.on('message', (data, isBinary) => {
    void connection.receive(isBinary ? '' : data.toString());
  });
  ws.on('close', () => connection.close());
  ws.on('error', () => connection.close());
}

/**
 * An exported file as an attachment: the same checks as the API socket (this computer, this server's Host, the
 * launch token), then the file the engine registered under that id — never a path the request names.
 */
async function serveDownload(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  options: { port: number; token: string; download: UiServerOptions['download'] },
): Promise<void> {
  const headers = securityHeaders(contentSecurityPolicy());
  const fail = (status: number, text: string) => {
    response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(text);
  };
  if (!isLoopbackAddress(request.socket.remoteAddress) || !isAllowedHost(request.headers.host, options.port)) return fail(403, 'forbidden: this server answers requests from this computer only');
  if (request.method !== 'GET') return fail(405, 'method not allowed');
  if (!tokensEqual(url.searchParams.get('token'), options.token)) return fail(401, 'missing or wrong token: open the URL that `netadapt ui` printed');
  if (!options.download) return fail(404, 'downloads are not served here');
  let file: DownloadInfo;
  try {
    file = await options.download(decodeURIComponent(url.pathname.slice('/download/'.length)));
  } catch (error) {
    return fail(404, error instanceof Error ? error.message : 'not found');
  }
  response.writeHead(200, {
    ...headers,
    'Content-Type': file.contentType,
    'Content-Length': String(file.bytes),
    'Content-Disposition': `attachment; filename="${file.fileName.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'Cache-Control': 'no-store',
  });
  createReadStream(file.path)
    .on('error', () => response.destroy())
    .pipe(response);
}

function serveStatic(request: IncomingMessage, response: ServerResponse, root: string, port: number): void {
  const headers = securityHeaders(contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] }));
  const fail = (status: number, text: string) => {
    response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(text);
  };
  if (!isLoopbackAddress(request.socket.remoteAddress) || !isAllowedHost(request.headers.host, port)) {
    fail(403, 'forbidden: this server answers requests from this computer only');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    fail(405, 'method not allowed');
    return;
  }
  const path = resolveStaticPath(root, new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  if (path === null) {
    fail(404, 'not found');
    return;
  }
  let real: string;
  try {
    // A symlink inside the folder must not lead outside it.
    real = realpathSync(path);
    if (!(real === root || real.startsWith(`${root}/`) || real.startsWith(`${root}\\`)) || !statSync(real).isFile()) throw new Error('outside');
  } catch {
    fail(404, 'not found');
    return;
  }
  response.writeHead(200, {
    ...headers,
    'Content-Type': contentTypeOf(real),
    'Cache-Control': real.endsWith('index.html') ? 'no-store' : 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(real)
    .on('error', () => response.destroy())
    .pipe(response);
}
