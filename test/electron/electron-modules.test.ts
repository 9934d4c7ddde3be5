import { describe, expect, it } from 'vitest';
import { appUrlToFile } from '../../electron/app-protocol.ts';
import { APP_ENTRY_URL, electronCsp } from '../../electron/csp.ts';
import { EngineRelay } from '../../electron/engine-relay.ts';
import type { MainToHost } from '../../electron/host-protocol.ts';
import { isExternalLinkAllowed } from '../../electron/hardening.ts';
import { checkIpcRequest, isAllowedNavigation, isTrustedFrameUrl } from '../../electron/ipc-validation.ts';
import { mainWindowOptions } from '../../electron/window-options.ts';
import type { EventMessage } from '../../app/api/contract/protocol.ts';

describe('mainWindowOptions', () => {
  it('turns every renderer hardening switch on', () => {
    const prefs = mainWindowOptions('/app/preload.cjs').webPreferences;
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('electronCsp', () => {
  const csp = electronCsp();
  const directive = (name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));
  it('allows scripts and styles only from the app, without inline or eval', () => {
    expect(directive('default-src')).toBe("default-src 'none'");
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(directive('style-src')).toBe("style-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });
  it('allows no network connections (IPC only) and no framing', () => {
    expect(directive('connect-src')).toBe("connect-src 'none'");
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive('object-src')).toBe("object-src 'none'");
  });
});

describe('IPC sender and navigation checks', () => {
  it.each([
    [APP_ENTRY_URL, true],
    ['app://netadapt/index.html#/search', true],
    ['app://evil/index.html', false],
    ['file:///etc/passwd', false],
    ['http://127.0.0.1:3000/', false],
    ['https://netadapt/', false],
    ['app://user:pw@netadapt/', false],
    ['', false],
    [undefined, false],
    ['not a url', false],
  ])('isTrustedFrameUrl(%j) = %s', (url, expected) => {
    expect(isTrustedFrameUrl(url)).toBe(expected);
  });

  it('denies navigation away from the app and allows only https external links to allowed hosts', () => {
    expect(isAllowedNavigation('https://example.com/')).toBe(false);
    expect(isAllowedNavigation(APP_ENTRY_URL)).toBe(true);
    expect(isExternalLinkAllowed('https://arxiv.org/abs/2009.00000')).toBe(true);
    expect(isExternalLinkAllowed('https://example.com/')).toBe(false);
    expect(isExternalLinkAllowed('http://example.com')).toBe(false);
    expect(isExternalLinkAllowed('file:///etc/passwd')).toBe(false);
    expect(isExternalLinkAllowed('javascript:alert(1)')).toBe(false);
  });

  it('refuses requests from other frames, unknown methods and non-object params', () => {
    expect(checkIpcRequest('https://evil.example/', 'listNetworks', {})).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(checkIpcRequest(APP_ENTRY_URL, 'eval', {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(checkIpcRequest(APP_ENTRY_URL, 'toString', {})).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    expect(checkIpcRequest(APP_ENTRY_URL, 'listRuns', [1])).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(checkIpcRequest(APP_ENTRY_URL, 'listRuns', undefined)).toEqual({ ok: true, method: 'listRuns', params: {} });
  });
});

describe('appUrlToFile', () => {
  it('maps app URLs into the renderer folder and refuses traversal', () => {
    expect(appUrlToFile('app://netadapt/', '/r')).toBe('/r/index.html');
    expect(appUrlToFile('app://netadapt/assets/index.js', '/r')).toBe('/r/assets/index.js');
    // The URL parser already folds %2e%2e segments: the path stays inside the folder.
    expect(appUrlToFile('app://netadapt/%2e%2e/%2e%2e/etc/passwd', '/r')).toBe('/r/etc/passwd');
    expect(appUrlToFile('app://netadapt/..%2fsecret', '/r')).toBeNull();
    expect(appUrlToFile('app://other/index.html', '/r')).toBeNull();
    expect(appUrlToFile('file:///r/index.html', '/r')).toBeNull();
  });
});

describe('EngineRelay', () => {
  it('matches responses to requests, forwards events, and fails pending requests when the engine dies', async () => {
    const posted: MainToHost[] = [];
    const events: EventMessage[] = [];
    const relay = new EngineRelay((m) => posted.push(m), (e) => events.push(e));
    const first = relay.request('listNetworks', {});
    const second = relay.request('listRuns', {});
    expect(posted.map((m) => (m.type === 'request' ? m.request.method : m.type))).toEqual(['listNetworks', 'listRuns']);
    const secondId = (posted[1] as { request: { id: number } }).request.id;
    relay.receive({ type: 'message', message: { id: secondId, result: ['run'] } });
    await expect(second).resolves.toEqual({ id: secondId, result: ['run'] });
    relay.receive({ type: 'message', message: { type: 'event', jobId: 'j', event: { kind: 'log', level: 'info', message: 'hi' } } });
    expect(events).toHaveLength(1);
    relay.engineStopped('exit code 9');
    await expect(first).resolves.toMatchObject({ error: { code: 'internal', message: expect.stringContaining('exit code 9') } });
    await expect(relay.request('listRuns', {})).resolves.toMatchObject({ error: { code: 'internal' } });
  });
});
