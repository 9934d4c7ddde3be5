/**
 * The Electron security checklist as plain functions over the few Electron objects they touch, so each item is
 * unit-tested without Electron's binary (test/electron/hardening.test.ts):
 * - every renderer sandboxed (`app.enableSandbox()`, before the app is ready);
 * - no permission ever granted: permission checks, permission requests and device (HID, serial, USB) access denied;
 * - no navigation away from the app page (`will-navigate`, `will-frame-navigate`, `will-redirect`), no new windows,
 *   no <webview>; links open in the system browser only for https URLs of a short allow-list of hosts;
 * - the renderer folder comes from NETADAPT_RENDERER_DIR only in development, never in a packaged build;
 * - the engine's utility process gets an explicit, minimal environment, not the main process's whole one;
 * - DevTools only in development.
 */
import type { App, Session, WebContents } from 'electron';
import { isAllowedNavigation } from './ipc-validation.ts';

/** Hosts whose https pages the app may open in the system browser (the paper, the code, benchmark_model's docs). */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['arxiv.org', 'openaccess.thecvf.com', 'github.com', 'www.tensorflow.org', 'ai.google.dev', 'developer.android.com'];

/** An https URL on an allowed host, default port, without credentials. */
export function isExternalLinkAllowed(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.port === '' && parsed.username === '' && parsed.password === '' && EXTERNAL_LINK_HOSTS.includes(parsed.hostname);
}

type AppLike = Pick<App, 'enableSandbox' | 'on'>;

/** Before `app.whenReady()`: sandbox every renderer, and guard every web contents the app ever creates. */
export function hardenApp(app: AppLike, openExternal: (url: string) => Promise<void>): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, openExternal));
}

type SessionLike = Pick<Session, 'setPermissionCheckHandler' | 'setPermissionRequestHandler' | 'setDevicePermissionHandler'>;

/** The app needs no permission (camera, notifications, HID, serial, USB, …): every check and request is denied. */
export function hardenSession(session: SessionLike): void {
  session.setPermissionCheckHandler(() => false);
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setDevicePermissionHandler(() => false);
}

type WebContentsLike = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** The page never leaves app://netadapt, opens no window and attaches no webview; allowed links go to the browser. */
export function guardWebContents(contents: WebContentsLike, openExternal: (url: string) => Promise<void>): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-frame-navigate', (details) => {
    if (!isAllowedNavigation(details.url)) details.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalLinkAllowed(url)) void openExternal(url).catch(() => undefined);
    return { action: 'deny' };
  });
}

/** The built renderer's folder: NETADAPT_RENDERER_DIR (a dev server's build) only when the app is not packaged. */
export function rendererDir(options: { isPackaged: boolean; env: NodeJS.ProcessEnv; bundledDir: string }): string {
  const fromEnv = options.env.NETADAPT_RENDERER_DIR;
  return !options.isPackaged && fromEnv !== undefined && fromEnv !== '' ? fromEnv : options.bundledDir;
}

/**
 * Variables the engine process may see: finding and starting adb (PATH, the home folder with adb's keys, its server
 * port), temp folders, locale, Windows' system folders (sockets and crypto need them), and the engine's own settings.
 * Nothing else of the main process's environment (NODE_OPTIONS, ELECTRON_RUN_AS_NODE, LD_PRELOAD, tokens, keys) passes.
 */
export const ENGINE_ENV_ALLOWED: readonly string[] = [
  'PATH', 'Path', 'HOME', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'HOMEDRIVE', 'HOMEPATH',
  'TMPDIR', 'TEMP', 'TMP', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ',
  'SystemRoot', 'SYSTEMROOT', 'windir', 'ComSpec', 'PATHEXT',
  'ANDROID_ADB_SERVER_PORT', 'ANDROID_ADB_SERVER_ADDRESS', 'ANDROID_HOME', 'ANDROID_SDK_ROOT', 'ADB_VENDOR_KEYS',
  'NETADAPT_BENCHMARK_TOOL', 'NETADAPT_BACKEND', 'NETADAPT_LITERT_LOG',
];

/**
 * The engine utility process's environment: the allowed variables that are set, the workspace it opens and, in
 * development, the Electron build of better-sqlite3 (`sqliteBinding`, from build/electron-native.ts).
 */
export function engineEnvironment(env: NodeJS.ProcessEnv, workspace: string, sqliteBinding?: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ENGINE_ENV_ALLOWED) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  out.NETADAPT_WORKSPACE = workspace;
  if (sqliteBinding !== undefined) out.NETADAPT_SQLITE_BINDING = sqliteBinding;
  return out;
}
