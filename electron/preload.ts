/**
 * The only bridge between the sandboxed renderer and the app: `window.netadapt.request(method, params)` and
 * `window.netadapt.onEvent(listener)`. No Node, no ipcRenderer, no arbitrary channels reach the page.
 * Bundled to CommonJS (sandboxed preloads cannot be ES modules).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventMessage, ResponseMessage } from '../app/api/contract/protocol.ts';
import { EVENT_CHANNEL, REQUEST_CHANNEL } from './ipc-channels.ts';

contextBridge.exposeInMainWorld('netadapt', {
  request(method: string, params: unknown): Promise<ResponseMessage> {
    return ipcRenderer.invoke(REQUEST_CHANNEL, String(method), params ?? {}) as Promise<ResponseMessage>;
  },
  onEvent(listener: (message: EventMessage) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a function');
    const wrapped = (_event: IpcRendererEvent, message: EventMessage) => listener(message);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
});
