/** Messages between the Electron main process and the engine utility process. */
import type { RequestMessage, ServerMessage } from '../app/api/contract/protocol.ts';

export type MainToHost = { type: 'request'; request: RequestMessage } | { type: 'shutdown' };
export type HostToMain = { type: 'ready' } | { type: 'stopped' } | { type: 'message'; message: ServerMessage };
