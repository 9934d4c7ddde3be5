import { describe, expect, it } from 'vitest';
import { Api } from '../../renderer/src/lib/api.ts';
import { ApiError, socketTransport, takeToken, type ConnectionState } from '../../renderer/src/lib/transport.ts';

type Listener = (event: { data?: unknown; code?: number; reason?: string }) => void;

class FakeSocket {
  readyState = 0;
  sent: string[] = [];
  listeners: Record<string, Listener[]> = {};
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(data);
  }
  close() {}
  addEventListener(type: string, listener: Listener) {
    (this.listeners[type] ??= []).push(listener);
  }
  fire(type: string, event: { data?: unknown; code?: number; reason?: string } = {}) {
    for (const l of this.listeners[type] ?? []) l(event);
  }
  reply(message: unknown) {
    this.fire('message', { data: JSON.stringify(message) });
  }
}

function setup() {
  let socket!: FakeSocket;
  const transport = socketTransport('ws://127.0.0.1:1/api?token=t', (url) => (socket = new FakeSocket(url)));
  return { transport, socket: () => socket };
}

describe('socketTransport', () => {
  it('queues requests until the socket opens, then matches answers by id', async () => {
    const { transport, socket } = setup();
    const first = transport.request('listNetworks', {});
    const second = transport.request('listRuns', {});
    expect(socket().sent).toEqual([]);
    socket().fire('open');
    const sent = socket().sent.map((s) => JSON.parse(s) as { id: number; method: string });
    expect(sent.map((s) => s.method)).toEqual(['listNetworks', 'listRuns']);
    socket().reply({ id: sent[1]!.id, result: ['r'] });
    socket().reply({ id: sent[0]!.id, error: { code: 'not_available', message: 'no', details: ['d'] } });
    await expect(second).resolves.toEqual(['r']);
    await expect(first).rejects.toMatchObject({ code: 'not_available', details: ['d'] });
  });

  it('turns close code 4401 into an "unauthorized" state with a message about the token', async () => {
    const { transport, socket } = setup();
    const states: ConnectionState[] = [];
    let reason = '';
    transport.onState((state, why) => {
      states.push(state);
      reason = why;
    });
    const pending = transport.request('listNetworks', {});
    socket().fire('close', { code: 4401, reason: 'missing token' });
    await expect(pending).rejects.toBeInstanceOf(ApiError);
    expect(states).toEqual(['connecting', 'unauthorized']);
    expect(reason).toMatch(/token/);
    await expect(transport.request('listRuns', {})).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('ignores garbage and answers for unknown ids', () => {
    const { transport, socket } = setup();
    socket().fire('open');
    expect(() => socket().fire('message', { data: '{nope' })).not.toThrow();
    expect(() => socket().reply({ id: 999, result: 1 })).not.toThrow();
    expect(transport.kind).toBe('websocket');
  });
});

describe('Api jobs', () => {
  it('delivers events that arrive before the start answer, and resolves with the done result', async () => {
    const { transport, socket } = setup();
    const api = new Api(transport);
    socket().fire('open');
    const events: string[] = [];
    const starting = api.startJob('sampleSearchSpace', { network: 'n' }, (e) => events.push(e.kind));
    const request = JSON.parse(socket().sent[0]!) as { id: number };
    // Over IPC the first events can overtake the answer.
    socket().reply({ type: 'event', jobId: 'j1', event: { kind: 'started', method: 'sampleSearchSpace' } });
    socket().reply({ id: request.id, result: { jobId: 'j1', method: 'sampleSearchSpace' } });
    const handle = await starting;
    socket().reply({ type: 'event', jobId: 'j1', event: { kind: 'progress', phase: 'p', done: 1, total: 2 } });
    socket().reply({ type: 'event', jobId: 'other', event: { kind: 'progress', phase: 'p', done: 1, total: 2 } });
    socket().reply({ type: 'event', jobId: 'j1', event: { kind: 'done', result: { samples: 2 } } });
    await expect(handle.done).resolves.toEqual({ samples: 2 });
    expect(events).toEqual(['started', 'progress', 'done']);
  });

  it('rejects a cancelled job with code cancelled', async () => {
    const { transport, socket } = setup();
    const api = new Api(transport);
    socket().fire('open');
    const starting = api.startJob('trainSupernet', { network: 'n' });
    socket().reply({ id: (JSON.parse(socket().sent[0]!) as { id: number }).id, result: { jobId: 'j2', method: 'trainSupernet' } });
    const handle = await starting;
    socket().reply({ type: 'event', jobId: 'j2', event: { kind: 'cancelled', reason: 'cancelled by the user' } });
    await expect(handle.done).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('takeToken', () => {
  it('takes the token from the URL, stores it and cleans the address bar; falls back to storage', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) } as Storage;
    const replaced: string[] = [];
    const history = { replaceState: (_s: unknown, _t: string, url: string) => void replaced.push(url) } as unknown as History;
    expect(takeToken({ search: '?token=abc', pathname: '/' } as Location, storage, history)).toBe('abc');
    expect(replaced).toEqual(['/']);
    expect(takeToken({ search: '', pathname: '/' } as Location, storage, history)).toBe('abc');
    expect(takeToken({ search: '', pathname: '/' } as Location, undefined, undefined)).toBe('');
  });
});
