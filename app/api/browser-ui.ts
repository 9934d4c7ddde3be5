/** Browser mode in one call: engine + API server + HTTP/WebSocket server over the built renderer. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { build as viteBuild } from 'vite';
import { UserError } from '../../core/errors.ts';
import type { Engine } from './engine.ts';
import { createDefaultEngine, type DefaultEngineOptions } from './engine-default.ts';
import { createApiServer, type ApiServer } from './server.ts';
import { startUiServer, type UiServer } from './ws-server.ts';

export const RENDERER_DIST = fileURLToPath(new URL('../../renderer/dist', import.meta.url));
export const RENDERER_VITE_CONFIG = fileURLToPath(new URL('../../renderer/vite.config.ts', import.meta.url));
export const BUILD_RENDERER_COMMAND = 'npm run build:renderer';

export interface BrowserUiOptions extends DefaultEngineOptions {
  port?: number;
  token?: string;
  /** Default: renderer/dist (built first when missing). */
  staticDir?: string;
  /** Use this engine instead of the default one (tests); it is disposed on stop. */
  engine?: Engine;
  /** Called with progress lines (e.g. "building the renderer…"). */
  log?: (line: string) => void;
}

export interface BrowserUi {
  ui: UiServer;
  api: ApiServer;
  engine: Engine;
  stop(): Promise<void>;
}

export async function startBrowserUi(options: BrowserUiOptions = {}): Promise<BrowserUi> {
  const staticDir = options.staticDir ?? (await ensureRendererBuilt(options.log));
  const engine = options.engine ?? createDefaultEngine(options);
  const api = createApiServer(engine);
  let ui: UiServer;
  try {
    ui = await startUiServer({ api, staticDir, port: options.port, token: options.token, download: (downloadId) => engine.downloadInfo({ downloadId }) });
  } catch (error) {
    // A busy port: nothing was served, so close what was opened (the workspace) before reporting it.
    await api.close();
    if (!options.engine) await engine.dispose();
    throw error;
  }
  return {
    ui,
    api,
    engine,
    async stop() {
      await ui.close();
      await api.close();
      await engine.dispose();
    },
  };
}

/** renderer/dist, built with Vite's JS API when it is missing. */
export async function ensureRendererBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (existsSync(`${RENDERER_DIST}/index.html`)) return RENDERER_DIST;
  let build: typeof viteBuild;
  try {
    ({ build } = await import('vite'));
  } catch {
    throw new UserError(`the app is not built (${RENDERER_DIST} is missing) and Vite is not installed to build it`, [
      `run: ${BUILD_RENDERER_COMMAND}`,
    ]);
  }
  log('building the app (renderer/dist is missing; this happens once)…');
  try {
    await build({ configFile: RENDERER_VITE_CONFIG, logLevel: 'warn' });
  } catch (error) {
    throw new UserError(`building the app failed: ${error instanceof Error ? error.message : String(error)}`, [
      `run it yourself to see the full output: ${BUILD_RENDERER_COMMAND}`,
    ]);
  }
  if (!existsSync(`${RENDERER_DIST}/index.html`)) {
    throw new UserError(`building the app did not produce ${RENDERER_DIST}/index.html`, [`run: ${BUILD_RENDERER_COMMAND}`]);
  }
  return RENDERER_DIST;
}
