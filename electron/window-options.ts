/** The main window's options: every renderer hardening switch on, sized for 1280×800 screens. */
import type { BrowserWindowConstructorOptions } from 'electron';

/** `devTools`: only in development (`!app.isPackaged`); a packaged build has no DevTools at all. */
export function mainWindowOptions(preloadPath: string, options: { devTools: boolean } = { devTools: false }): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    title: 'NetAdapt Studio',
    show: false,
    backgroundColor: '#15171b',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: options.devTools,
    },
  };
}
