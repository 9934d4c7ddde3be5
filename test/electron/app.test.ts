/**
 * Launches the real Electron app with Playwright when Electron's binary is installed (electron's own install script
 * downloads it during `npm install` / `npm ci` with network access); skips with the reason otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

function electronBinary(): { path?: string; reason?: string } {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown;
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { reason: `electron's binary is not at ${String(path)}` };
  } catch (error) {
    return { reason: `electron's binary is not installed (${(error as Error).message.split('\n')[0]})` };
  }
}

const binary = electronBinary();
const built = existsSync(join(process.cwd(), 'dist/electron/main.js')) && existsSync(join(process.cwd(), 'renderer/dist/index.html'));
const skipReason = binary.reason ?? (built ? undefined : 'dist/electron or renderer/dist is not built (npm run build:electron && npm run build:renderer)');
if (skipReason) console.log(`skipping the Electron app test: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('Electron app', () => {
  it('opens a sandboxed window whose page reaches the engine only through window.netadapt', async () => {
    const app = await electron.launch({ executablePath: binary.path, args: [join(process.cwd(), 'dist/electron/main.js')] });
    try {
      const page = await app.firstWindow();
      await page.waitForSelector('[data-testid=device-table]', { timeout: 30_000 });
      const globals = await page.evaluate(() => ({
        require: typeof (globalThis as Record<string, unknown>).require,
        process: typeof (globalThis as Record<string, unknown>).process,
        bridge: Object.keys((globalThis as unknown as { netadapt: object }).netadapt).sort(),
      }));
      expect(globals).toEqual({ require: 'undefined', process: 'undefined', bridge: ['onEvent', 'request'] });
      const networks = await page.evaluate(async () => {
        const bridge = (globalThis as unknown as { netadapt: { request(m: string, p: unknown): Promise<{ result?: unknown[] }> } }).netadapt;
        return (await bridge.request('listNetworks', {})).result?.length ?? 0;
      });
      expect(networks).toBeGreaterThan(5);
    } finally {
      await app.close();
    }
  });
});
