/**
 * The main process's side of the engine process: numbers requests, matches responses, fans events out to the
 * windows, and fails pending requests with a clear message when the engine process dies.
 */
import type { EventMessage, ResponseMessage } from '../app/api/contract/protocol.ts';
import type { HostToMain, MainToHost } from './host-protocol.ts';

export class EngineRelay {
  private nextId = 1;
  private readonly pending = new Map<number, (response: ResponseMessage) => void>();
  private stoppedReason: string | null = null;

  constructor(
    private readonly post: (message: MainToHost) => void,
    private readonly broadcast: (event: EventMessage) => void,
  ) {}

  request(method: string, params: unknown): Promise<ResponseMessage> {
    const id = this.nextId++;
    if (this.stoppedReason !== null) return Promise.resolve(this.engineGone(id, this.stoppedReason));
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'request', request: { id, method, params } });
    });
  }

  /** Feed every message of the engine process here. */
  receive(message: HostToMain): void {
    if (message.type !== 'message') return;
    const inner = message.message;
    if ('type' in inner && inner.type === 'event') {
      this.broadcast(inner);
      return;
    }
    const response = inner as ResponseMessage;
    if (typeof response.id !== 'number') return;
    const resolve = this.pending.get(response.id);
    if (!resolve) return;
    this.pending.delete(response.id);
    resolve(response);
  }

  /** The engine process exited: every waiting request gets an error, and so does every later one. */
  engineStopped(reason: string): void {
    this.stoppedReason = reason;
    for (const [id, resolve] of this.pending) resolve(this.engineGone(id, reason));
    this.pending.clear();
  }

  private engineGone(id: number, reason: string): ResponseMessage {
    return {
      id,
      error: { code: 'internal', message: `the engine process stopped (${reason}); restart NetAdapt Studio — your workspace is saved`, details: [] },
    };
  }
}
