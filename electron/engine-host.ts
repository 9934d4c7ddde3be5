/**
 * The engine process (Electron utilityProcess): the API server over the default engine. The main process relays
 * requests from the window and events back; a crash here never takes the window down.
 */
import { createDefaultEngine } from '../app/api/engine-default.ts';
import type { ServerMessage } from '../app/api/contract/protocol.ts';
import { createApiServer } from '../app/api/server.ts';
import type { HostToMain, MainToHost } from './host-protocol.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: MainToHost }) => void): void;
  postMessage(message: HostToMain): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('engine-host must run in an Electron utility process');

// The bundled job worker sits next to this entry file (build/bundle.ts).
const engine = createDefaultEngine({ workspacePath: process.env.NETADAPT_WORKSPACE, workerUrl: new URL('./job-worker.js', import.meta.url) });
const api = createApiServer(engine);
const connection = api.connect((message: ServerMessage) => parentPort.postMessage({ type: 'message', message }));

parentPort.on('message', ({ data }) => {
  if (data.type === 'request') void connection.receive(data.request);
  else if (data.type === 'shutdown') {
    void api
      .close()
      .then(() => engine.dispose())
      .finally(() => parentPort.postMessage({ type: 'stopped' }));
  }
});
parentPort.postMessage({ type: 'ready' });
