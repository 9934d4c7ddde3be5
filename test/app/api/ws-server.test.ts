import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createApiServer } from '../../../app/api/server.ts';
import { startUiServer, type UiServer } from '../../../app/api/ws-server.ts';
import { createFakeEngine } from './fake-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'netadapt-ws-'));
const staticDir = join(dir, 'dist');
let ui: UiServer;

beforeAll(async () => {
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'do not serve');
  symlinkSync(join(dir, 'secret.txt'), join(staticDir, 'assets', 'link.txt'));
  writeFileSync(join(dir, 'model.tflite'), 'TFL3-bytes');
  ui = await startUiServer({
    api: createApiServer(createFakeEngine()),
    staticDir,
    // Only ids the engine registered resolve; the request never names a path.
    download: async (id) => {
      if (id !== 'export-1') throw new Error('no such export (exports are kept while the app runs; export it again)');
      return { path: join(dir, 'model.tflite'), fileName: 'net work.tflite', bytes: 10, contentType: 'application/octet-stream' };
    },
  });
});

afterAll(async () => {
  await ui.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A raw HTTP/1.1 request, so paths and headers reach the server exactly as written. */
function rawGet(path: string, host = `127.0.0.1:${ui.port}`): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(ui.port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body });
    });
  });
}

function openSocket(query: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${ui.port}/api${query}`, { headers });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, closed }));
    ws.on('error', reject);
  });
}

describe('browser-mode downloads', () => {
  it('serves a registered export as an attachment, with the token only', async () => {
    const ok = await rawGet(`/download/export-1?token=${ui.token}`);
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatch(/Content-Disposition: attachment; filename="net_work.tflite"/i);
    expect(ok.headers).toMatch(/Content-Type: application\/octet-stream/i);
    expect(ok.body).toBe('TFL3-bytes');
    expect((await rawGet('/download/export-1')).status).toBe(401);
    expect((await rawGet('/download/export-1?token=wrong')).status).toBe(401);
    expect((await rawGet(`/download/export-1?token=${ui.token}`, 'evil.example:80')).status).toBe(403);
    const unknown = await rawGet(`/download/..%2Fsecret.txt?token=${ui.token}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('export it again');
  });
});

describe('browser-mode server', () => {
  it('prints a loopback URL with the token', () => {
    expect(ui.url).toBe(`http://127.0.0.1:${ui.port}/?token=${ui.token}`);
    expect(ui.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves index.html with a strict CSP and nosniff', async () => {
    const response = await rawGet('/');
    expect(response.status).toBe(200);
    expect(response.body).toContain('<title>app</title>');
    expect(response.headers).toMatch(/Content-Security-Policy: default-src 'none'; script-src 'self'/);
    expect(response.headers).toContain(`connect-src ws://127.0.0.1:${ui.port}`);
    expect(response.headers).toMatch(/X-Content-Type-Options: nosniff/);
  });

  it.each(['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/link.txt', '/assets'])(
    'does not serve %s',
    async (path) => {
      const response = await rawGet(path);
      expect(response.status).toBe(404);
      expect(response.body).not.toContain('do not serve');
    },
  );

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await rawGet('/', `evil.example:${ui.port}`)).status).toBe(403);
  });

  it('closes an API socket without a token with code 4401', async () => {
    const { closed } = await openSocket('');
    expect((await closed).code).toBe(4401);
  });

  it('closes an API socket with a wrong token with code 4401', async () => {
    const { closed } = await openSocket(`?token=${'0'.repeat(64)}`);
    expect(await closed).toMatchObject({ code: 4401, reason: expect.stringContaining('token') });
  });

  it('closes an API socket opened by another origin with 4403, even with the token', async () => {
    const { closed } = await openSocket(`?token=${ui.token}`, { Origin: 'http://evil.example' });
    expect((await closed).code).toBe(4403);
  });

  it('answers API requests over the socket with the right token, and errors for malformed ones', async () => {
    const { ws } = await openSocket(`?token=${ui.token}`);
    const replies: unknown[] = [];
    const got = new Promise<void>((resolve) =>
      ws.on('message', (data) => {
        replies.push(JSON.parse(data.toString()));
        if (replies.length === 2) resolve();
      }),
    );
    ws.send(JSON.stringify({ id: 1, method: 'serverInfo' }));
    ws.send('{oops');
    await got;
    ws.close();
    expect(replies).toContainEqual({ id: 1, result: { version: 'test', workspace: ':memory:', unavailable: [] } });
    expect(replies).toContainEqual({ id: null, error: expect.objectContaining({ code: 'invalid_request' }) });
  });
});
