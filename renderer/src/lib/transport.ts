/**
 * How the renderer reaches the engine: Electron's preload bridge (`window.netadapt`) or, in a browser, the
 * WebSocket of `netadapt ui`. Both carry the same messages (app/api/contract/protocol.ts).
 */
import type { EventMessage, ResponseMessage, ServerMessage } from '../../../app/api/contract/protocol.ts';
import type { ApiErrorBody } from '../../../app/api/contract/types.ts';

export class ApiError extends Error {
  readonly code: ApiErrorBody['code'] | 'disconnected' | 'unauthorized';
  readonly details: string[];

  constructor(body: { code: ApiError['code']; message: string; details?: string[] }) {
    super(body.message);
    this.name = 'ApiError';
    this.code = body.code;
    this.details = body.details ?? [];
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized';

export interface Transport {
  readonly kind: 'electron' | 'websocket';
  /**
   * Takes an export away: Electron shows a Save dialog (resolves with the chosen path or null); the browser downloads
   * GET /download/<id>?token=… (resolves with the file name).
   */
  saveExport(downloadId: string, fileName: string): Promise<string | null>;
  /** A folder picker where there is one (Electron); undefined in a browser (type the path). */
  pickFolder?: (title: string) => Promise<string | null>;
  /** Resolves with the result or rejects with an ApiError. */
  request(method: string, params: unknown): Promise<unknown>;
  /** Subscribes to job events; returns the unsubscribe function. */
  onEvent(listener: (message: EventMessage) => void): () => void;
  onState(listener: (state: ConnectionState, reason: string) => void): () => void;
}

/** What the Electron preload exposes (electron/preload.ts). */
export interface NetadaptBridge {
  request(method: string, params: unknown): Promise<ResponseMessage>;
  onEvent(listener: (message: EventMessage) => void): () => void;
  /** Electron: a Save dialog for an export; the chosen path, or null when cancelled. */
  saveExport?(downloadId: string): Promise<string | null>;
  /** Electron: a folder picker. */
  pickFolder?(title: string): Promise<string | null>;
}

function unwrap(response: ResponseMessage): unknown {
  if ('error' in response) throw new ApiError(response.error);
  return response.result;
}

export function bridgeTransport(bridge: NetadaptBridge): Transport {
  return {
    kind: 'electron',
    request: async (method, params) => unwrap(await bridge.request(method, params)),
    saveExport: async (downloadId) => (bridge.saveExport ? bridge.saveExport(downloadId) : null),
    ...(bridge.pickFolder ? { pickFolder: (title: string) => (bridge.pickFolder as (t: string) => Promise<string | null>)(title) } : {}),
    onEvent: (listener) => bridge.onEvent(listener),
    onState: (listener) => {
      listener('open', '');
      return () => {};
    },
  };
}

interface MinimalSocket {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'message' | 'error', listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
}

/** Starts a browser download of `href` (a same-origin attachment). */
function browserDownload(href: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

/** The WebSocket transport; `createSocket` is injectable for tests; `downloadBase` is this server's /download/ URL. */
export function socketTransport(
  url: string,
  createSocket: (url: string) => MinimalSocket = (u) => new WebSocket(u) as unknown as MinimalSocket,
  download: { base: string; token: string } = { base: '/download/', token: '' },
): Transport {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const eventListeners = new Set<(message: EventMessage) => void>();
  const stateListeners = new Set<(state: ConnectionState, reason: string) => void>();
  const queue: string[] = [];
  let nextId = 1;
  let state: ConnectionState = 'connecting';
  let reason = '';
  const setState = (next: ConnectionState, why: string) => {
    state = next;
    reason = why;
    for (const listener of stateListeners) listener(state, reason);
  };

  const socket = createSocket(url);
  socket.addEventListener('open', () => {
    setState('open', '');
    for (const text of queue.splice(0)) socket.send(text);
  });
  socket.addEventListener('message', (event) => {
    let message: ServerMessage;
    try {
      message = JSON.parse(String(event.data)) as ServerMessage;
    } catch {
      return;
    }
    if ('type' in message && message.type === 'event') {
      for (const listener of eventListeners) listener(message);
      return;
    }
    const response = message as ResponseMessage;
    const entry = typeof response.id === 'number' ? pending.get(response.id) : undefined;
    if (!entry) return;
    pending.delete(response.id as number);
    try {
      entry.resolve(unwrap(response));
    } catch (error) {
      entry.reject(error as Error);
    }
  });
  socket.addEventListener('close', (event) => {
    const unauthorized = event.code === 4401;
    const why = unauthorized
      ? 'the app was opened without its access token: open the URL that `netadapt ui` printed'
      : event.code === 4403
        ? 'the server accepts connections from this computer only'
        : `the connection to NetAdapt Studio closed${event.reason ? `: ${event.reason}` : ''}; is \`netadapt ui\` still running?`;
    setState(unauthorized ? 'unauthorized' : 'closed', why);
    for (const entry of pending.values()) entry.reject(new ApiError({ code: unauthorized ? 'unauthorized' : 'disconnected', message: why }));
    pending.clear();
  });

  return {
    kind: 'websocket',
    async saveExport(downloadId, fileName) {
      browserDownload(`${download.base}${encodeURIComponent(downloadId)}?token=${encodeURIComponent(download.token)}`, fileName);
      return fileName;
    },
    request(method, params) {
      if (state === 'closed' || state === 'unauthorized') {
        return Promise.reject(new ApiError({ code: state === 'unauthorized' ? 'unauthorized' : 'disconnected', message: reason }));
      }
      const id = nextId++;
      const text = JSON.stringify({ id, method, params });
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (state === 'open') socket.send(text);
        else queue.push(text);
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onState(listener) {
      stateListeners.add(listener);
      listener(state, reason);
      return () => stateListeners.delete(listener);
    },
  };
}

/**
 * The token comes in the page URL (`?token=…`); it is kept in sessionStorage so a reload still works, and removed
 * from the address bar so it does not end up in screenshots or bookmarks.
 */
export function takeToken(location: Location, storage: Storage | undefined, history: History | undefined): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    storage?.setItem('netadapt-token', fromUrl);
    history?.replaceState(null, '', location.pathname);
    return fromUrl;
  }
  return storage?.getItem('netadapt-token') ?? '';
}

export function pickTransport(win: Window & { netadapt?: NetadaptBridge }): Transport {
  if (win.netadapt) return bridgeTransport(win.netadapt);
  const token = takeToken(win.location, win.sessionStorage, win.history);
  const scheme = win.location.protocol === 'https:' ? 'wss' : 'ws';
  return socketTransport(`${scheme}://${win.location.host}/api?token=${encodeURIComponent(token)}`, undefined, { base: '/download/', token });
}
