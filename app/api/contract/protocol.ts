/** The wire messages, identical over Electron IPC and the WebSocket. */
import type { ApiErrorBody, JobEvent } from './types.ts';

export type RequestId = string | number;

export interface RequestMessage {
  id: RequestId;
  method: string;
  params?: unknown;
}

export interface ResultMessage {
  id: RequestId;
  result: unknown;
}

export interface ErrorMessage {
  /** null when the request was so malformed that its id could not be read. */
  id: RequestId | null;
  error: ApiErrorBody;
}

export interface EventMessage {
  type: 'event';
  jobId: string;
  event: JobEvent;
}

export type ResponseMessage = ResultMessage | ErrorMessage;
export type ServerMessage = ResponseMessage | EventMessage;

export function isEventMessage(message: ServerMessage): message is EventMessage {
  return (message as EventMessage).type === 'event';
}

export function isErrorMessage(message: ServerMessage): message is ErrorMessage {
  return !isEventMessage(message) && 'error' in message;
}
