/**
 * E2E harness: the browser-mode app (`netadapt ui`) started in this process on a free port with a throw-away
 * workspace, and headless Chromium driven by playwright-core. Options let later tests point the engine at an
 * emulated adb server or a prepared workspace.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { build } from 'vite';
import { RENDERER_DIST, RENDERER_VITE_CONFIG, startBrowserUi, type BrowserUi } from '../../app/api/browser-ui.ts';
import type { Engine } from '../../app/api/engine.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing (apt-get install chromium); skipping browser tests`;
}

export interface AppOptions {
  /** Workspace file; default: a new one in a temp folder (removed on stop). */
  workspacePath?: string;
  /** adb server port of an emulated adb; default: none (adb unavailable). */
  adbPort?: number;
  /** Replace the default engine entirely. */
  engine?: Engine;
}

export interface TestApp {
  app: BrowserUi;
  url: string;
  origin: string;
  token: string;
  port: number;
  workspaceDir: string;
  stop(): Promise<void>;
}

export async function startTestApp(options: AppOptions = {}): Promise<TestApp> {
  const workspaceDir = mkdtempSync(join(tmpdir(), 'netadapt-e2e-'));
  await ensureFreshRenderer();
  const app = await startBrowserUi({
    port: 0,
    workspacePath: options.workspacePath ?? join(workspaceDir, 'workspace.sqlite'),
    exportDir: join(workspaceDir, 'exports'),
    // With no emulated adb, point at a port nobody serves and an adb binary that does not exist, so no real
    // adb server is started by the tests.
    adbPort: options.adbPort ?? 9,
    adbBin: options.adbPort === undefined ? join(workspaceDir, 'no-adb') : undefined,
    ...(options.engine ? { engine: options.engine } : {}),
  });
  return {
    app,
    url: app.ui.url,
    origin: `http://127.0.0.1:${app.ui.port}`,
    token: app.ui.token,
    port: app.ui.port,
    workspaceDir,
    async stop() {
      await app.stop();
      rmSync(workspaceDir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and CSP violations seen so far. */
  problems: string[];
}

/** A 1280×800 page that records console errors, page errors and CSP violations. */
export async function openPage(browser: Browser, url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto(url);
  return { page, problems };
}

export function screenshotPath(name: string): string {
  const dir = join(ARTIFACTS, 'screens');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.png`);
}

/** Problems that are expected in these tests: the engine answers "not available" for unbuilt modules. */
export function unexpectedProblems(problems: readonly string[]): string[] {
  return problems.filter((p) => !/not available in this build/.test(p));
}

/** Rebuilds renderer/dist when any renderer source (or the API types it imports) is newer than the build. */
export async function ensureFreshRenderer(): Promise<void> {
  const built = join(RENDERER_DIST, 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const root = process.cwd();
  const sources = [join(root, 'renderer/src'), join(root, 'renderer/index.html'), join(root, 'renderer/vite.config.ts'), join(root, 'app/api')];
  if (sources.some((path) => newestMtime(path) > builtAt)) {
    await build({ configFile: RENDERER_VITE_CONFIG, logLevel: 'warn' });
  }
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}
