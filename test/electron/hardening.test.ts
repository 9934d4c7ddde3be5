/**
 * The Electron security checklist, item by item, on the pure parts of electron/hardening.ts and window-options.ts
 * (Electron's binary is not needed: the functions get recording stand-ins for app, session and web contents).
 */
import type { App, Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { APP_ENTRY_URL } from '../../electron/csp.ts';
import {
  engineEnvironment,
  guardWebContents,
  hardenApp,
  hardenSession,
  isExternalLinkAllowed,
  rendererDir,
} from '../../electron/hardening.ts';
import { mainWindowOptions } from '../../electron/window-options.ts';

type Listener = (...args: unknown[]) => void;

/** Records `on(event, listener)` and `setWindowOpenHandler`; `emit` returns whether the listener prevented the default. */
function fakeContents() {
  const listeners = new Map<string, Listener>();
  let openHandler: ((details: { url: string }) => { action: string }) | undefined;
  const contents = {
    on(event: string, listener: Listener) {
      listeners.set(event, listener);
      return contents;
    },
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
      openHandler = handler;
    },
  };
  const prevented = (event: string, ...args: unknown[]) => {
    let defaultPrevented = false;
    const e = { preventDefault: () => (defaultPrevented = true), url: args[0] };
    const listener = listeners.get(event);
    if (!listener) throw new Error(`no listener for ${event}`);
    // will-frame-navigate passes one details object carrying the url; the others pass (event, url).
    if (event === 'will-frame-navigate') listener(e);
    else listener(e, ...args);
    return defaultPrevented;
  };
  return { contents: contents as unknown as WebContents, listeners, prevented, open: (url: string) => openHandler?.({ url }) };
}

describe('hardenApp', () => {
  it('sandboxes every renderer and guards every web contents the app creates', () => {
    const calls: string[] = [];
    let created: Listener | undefined;
    const app = {
      enableSandbox: () => calls.push('enableSandbox'),
      on: (event: string, listener: Listener) => {
        calls.push(`on:${event}`);
        created = listener;
      },
    };
    hardenApp(app as unknown as App, async () => undefined);
    expect(calls).toEqual(['enableSandbox', 'on:web-contents-created']);
    const fake = fakeContents();
    created?.({}, fake.contents);
    expect([...fake.listeners.keys()].sort()).toEqual(['will-attach-webview', 'will-frame-navigate', 'will-navigate', 'will-redirect']);
  });
});

describe('hardenSession', () => {
  it('denies every permission check, permission request and device permission', () => {
    const handlers: Record<string, Listener> = {};
    const session = {
      setPermissionCheckHandler: (h: Listener) => (handlers.check = h),
      setPermissionRequestHandler: (h: Listener) => (handlers.request = h),
      setDevicePermissionHandler: (h: Listener) => (handlers.device = h),
    };
    hardenSession(session as unknown as Session);
    expect(Object.keys(handlers).sort()).toEqual(['check', 'device', 'request']);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'serial', 'usb']) {
      expect(handlers.check?.(null, permission, APP_ENTRY_URL, {})).toBe(false);
      const answers: boolean[] = [];
      handlers.request?.(null, permission, (granted: boolean) => answers.push(granted), {});
      expect(answers).toEqual([false]);
    }
    expect(handlers.device?.({ deviceType: 'usb', origin: 'app://netadapt' })).toBe(false);
  });
});

describe('guardWebContents', () => {
  it('keeps the page on app://netadapt: navigation, frame navigation and redirects elsewhere are prevented', () => {
    const fake = fakeContents();
    guardWebContents(fake.contents, async () => undefined);
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(fake.prevented(event, 'https://evil.example/')).toBe(true);
      expect(fake.prevented(event, 'file:///etc/passwd')).toBe(true);
      expect(fake.prevented(event, 'app://other/index.html')).toBe(true);
      expect(fake.prevented(event, APP_ENTRY_URL)).toBe(false);
    }
    expect(fake.prevented('will-attach-webview')).toBe(true);
  });

  it('opens no window; only https links to allowed hosts go to the system browser', async () => {
    const opened: string[] = [];
    const fake = fakeContents();
    guardWebContents(fake.contents, async (url) => {
      opened.push(url);
    });
    for (const url of ['https://arxiv.org/abs/2009.00000', 'https://example.com/', 'http://arxiv.org/', 'file:///etc/passwd', 'javascript:alert(1)', 'https://user:pw@github.com/', 'https://arxiv.org:8443/', APP_ENTRY_URL]) {
      expect(fake.open(url)).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://arxiv.org/abs/2009.00000']);
    expect(isExternalLinkAllowed('https://arxiv.org.evil.example/')).toBe(false);
    expect(isExternalLinkAllowed('https://github.com/denru01/netadapt')).toBe(true);
  });
});

describe('rendererDir', () => {
  it('honours NETADAPT_RENDERER_DIR in development only, never in a packaged build', () => {
    const env = { NETADAPT_RENDERER_DIR: '/tmp/evil' };
    expect(rendererDir({ isPackaged: false, env, bundledDir: '/app/renderer' })).toBe('/tmp/evil');
    expect(rendererDir({ isPackaged: true, env, bundledDir: '/app/renderer' })).toBe('/app/renderer');
    expect(rendererDir({ isPackaged: false, env: {}, bundledDir: '/app/renderer' })).toBe('/app/renderer');
  });
});

describe('engineEnvironment', () => {
  it('passes an explicit minimal environment: what adb and the engine need, the workspace, nothing else', () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/home/u',
      ANDROID_ADB_SERVER_PORT: '5038',
      NETADAPT_BENCHMARK_TOOL: '/opt/benchmark_model',
      NETADAPT_WORKSPACE: '/somewhere/else.sqlite',
      NODE_OPTIONS: '--require /tmp/inject.js',
      ELECTRON_RUN_AS_NODE: '1',
      LD_PRELOAD: '/tmp/evil.so',
      AWS_SECRET_ACCESS_KEY: 'secret',
      GITHUB_TOKEN: 'token',
    };
    expect(engineEnvironment(env, '/data/ws.sqlite')).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/u',
      ANDROID_ADB_SERVER_PORT: '5038',
      NETADAPT_BENCHMARK_TOOL: '/opt/benchmark_model',
      NETADAPT_WORKSPACE: '/data/ws.sqlite',
    });
    expect(engineEnvironment({}, '/w.sqlite', '/dev/better_sqlite3.node')).toEqual({
      NETADAPT_WORKSPACE: '/w.sqlite',
      NETADAPT_SQLITE_BINDING: '/dev/better_sqlite3.node',
    });
  });
});

describe('mainWindowOptions', () => {
  it('has DevTools only in development', () => {
    expect(mainWindowOptions('/p.cjs', { devTools: false }).webPreferences?.devTools).toBe(false);
    expect(mainWindowOptions('/p.cjs').webPreferences?.devTools).toBe(false);
    expect(mainWindowOptions('/p.cjs', { devTools: true }).webPreferences?.devTools).toBe(true);
  });
});
