/**
 * Electron main process: one hardened window over app://netadapt (the built renderer), the engine in a utility
 * process, and one IPC channel between them that only our page may use.
 */
import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, protocol, session, shell, utilityProcess, type UtilityProcess } from 'electron';
import { securityHeaders } from '../app/api/csp.ts';
import { contentTypeOf } from '../app/api/http-security.ts';
import type { ResponseMessage } from '../app/api/contract/protocol.ts';
import type { DownloadInfo } from '../app/api/contract/types.ts';
import { appUrlToFile } from './app-protocol.ts';
import { APP_ENTRY_URL, APP_SCHEME, electronCsp } from './csp.ts';
import { EngineRelay } from './engine-relay.ts';
import type { HostToMain } from './host-protocol.ts';
import { EVENT_CHANNEL, PICK_FOLDER_CHANNEL, REQUEST_CHANNEL, SAVE_CHANNEL } from './ipc-channels.ts';
import { engineEnvironment, hardenApp, hardenSession, rendererDir } from './hardening.ts';
import { checkIpcRequest } from './ipc-validation.ts';
import { mainWindowOptions } from './window-options.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
/** Bundled layout: dist/electron/{main.js, preload.cjs, engine-host.js, job-worker.js}, renderer in renderer/dist. */
const PRELOAD = join(here, 'preload.cjs');
const ENGINE_HOST = join(here, 'engine-host.js');
/** `npm start` builds better-sqlite3 for Electron here (build/electron-native.ts); a packaged app rebuilt its own. */
const DEV_SQLITE_BINDING = join(here, '..', 'electron-native', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
const RENDERER_DIR = rendererDir({ isPackaged: app.isPackaged, env: process.env, bundledDir: join(here, '..', '..', 'renderer', 'dist') });

// Before the app is ready: every renderer sandboxed, every web contents guarded (navigation, windows, links).
hardenApp(app, (url) => shell.openExternal(url));

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } },
]);

let engineProcess: UtilityProcess | undefined;
const windows = new Set<BrowserWindow>();
const relay = new EngineRelay(
  (message) => engineProcess?.postMessage(message),
  (event) => {
    for (const window of windows) if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  },
);

function startEngine(): void {
  const workspace = process.env.NETADAPT_WORKSPACE ?? join(app.getPath('userData'), 'workspace', 'netadapt.sqlite');
  engineProcess = utilityProcess.fork(ENGINE_HOST, [], {
    serviceName: 'NetAdapt Studio engine',
    env: engineEnvironment(process.env, workspace, !app.isPackaged && existsSync(DEV_SQLITE_BINDING) ? DEV_SQLITE_BINDING : undefined),
    stdio: 'inherit',
  });
  engineProcess.on('message', (message: HostToMain) => relay.receive(message));
  engineProcess.on('exit', (code) => relay.engineStopped(`exit code ${code}`));
}

function serveApp(): void {
  const headers = securityHeaders(electronCsp());
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appUrlToFile(request.url, RENDERER_DIR);
    if (file === null) return new Response('not found', { status: 404, headers });
    try {
      return new Response(await readFile(file), { headers: { ...headers, 'Content-Type': contentTypeOf(file) } });
    } catch {
      return new Response('not found', { status: 404, headers });
    }
  });
  // Anything else a page might load (it should not) gets the same policy.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [electronCsp()] } });
  });
  hardenSession(session.defaultSession);
}

function registerIpc(): void {
  ipcMain.handle(REQUEST_CHANNEL, async (event, method: unknown, params: unknown): Promise<ResponseMessage> => {
    const check = checkIpcRequest(event.senderFrame?.url, method, params);
    if (!check.ok) return { id: null, error: check.error };
    return relay.request(check.method, check.params);
  });
  // Exports: the engine names the file (by the id it gave the export), the user names where it goes.
  ipcMain.handle(SAVE_CHANNEL, async (event, downloadId: unknown): Promise<string | null> => {
    const check = checkIpcRequest(event.senderFrame?.url, 'downloadInfo', { downloadId: String(downloadId) });
    if (!check.ok) return null;
    const response = await relay.request('downloadInfo', check.params);
    if ('error' in response) throw new Error(response.error.message);
    const file = response.result as DownloadInfo;
    const window = BrowserWindow.fromWebContents(event.sender);
    const options = { defaultPath: join(app.getPath('downloads'), file.fileName) };
    const chosen = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    if (chosen.canceled || !chosen.filePath) return null;
    await copyFile(file.path, chosen.filePath);
    return chosen.filePath;
  });
  ipcMain.handle(PICK_FOLDER_CHANNEL, async (event, title: unknown): Promise<string | null> => {
    if (!checkIpcRequest(event.senderFrame?.url, 'serverInfo', {}).ok) return null;
    const window = BrowserWindow.fromWebContents(event.sender);
    const options = { title: String(title).slice(0, 200), properties: ['openDirectory' as const] };
    const chosen = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
  });
}

function createWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(PRELOAD, { devTools: !app.isPackaged }));
  windows.add(window);
  window.on('closed', () => windows.delete(window));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(APP_ENTRY_URL);
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => {
  engineProcess?.postMessage({ type: 'shutdown' });
});

void app.whenReady().then(() => {
  serveApp();
  registerIpc();
  startEngine();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
