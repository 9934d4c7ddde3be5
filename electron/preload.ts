/**
 * The only bridge between the sandboxed renderer and the app: `window.netadapt.request(method, params)` and
 * `window.netadapt.onEvent(listener)`, plus the native Save and folder dialogs. No Node, no ipcRenderer, no arbitrary channels reach the page.
 * Bundled to CommonJS (sandboxed preloads cannot be ES modules).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { EventMessage, ResponseMessage } from '../app/api/contract/protocol.ts';
import { EVENT_CHANNEL, PICK_FOLDER_CHANNEL, REQUEST_CHANNEL, SAVE_CHANNEL } from './ipc-channels.ts';

contextBridge.exposeInMainWorld('netadapt', {
  request(method: string, params: unknown): Promise<ResponseMessage> {
    return ipcRenderer.invoke(REQUEST_CHANNEL, String(method), params ?? {}) as Promise<ResponseMessage>;
  },
  /** Shows a Save dialog for an export (its downloadId) and copies the file there; resolves with the path or null. */
  saveExport(downloadId: string): Promise<string | null> {
    return ipcRenderer.invoke(SAVE_CHANNEL, String(downloadId)) as Promise<string | null>;
  },
  /** Shows a folder picker; resolves with the folder or null. */
  pickFolder(title: string): Promise<string | null> {
    return ipcRenderer.invoke(PICK_FOLDER_CHANNEL, String(title)) as Promise<string | null>;
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
