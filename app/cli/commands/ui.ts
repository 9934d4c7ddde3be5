import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { startBrowserUi } from '../../api/browser-ui.ts';

interface UiOptions {
  port: number;
  open: boolean;
  workspace?: string;
  adbPort?: number;
}

export function register(program: Command): void {
  program
    .command('ui')
    .description('open NetAdapt Studio in your browser (served on 127.0.0.1 only, guarded by a per-launch token)')
    .option('--port <n>', 'port to listen on (default: a free one)', parsePort, 0)
    .option('--no-open', 'print the URL without opening a browser')
    .option('--workspace <file>', 'workspace SQLite file (default: $NETADAPT_WORKSPACE or ./workspace/netadapt.sqlite)')
    .option('--adb-port <n>', 'adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)', parsePort)
    .action(async (options: UiOptions) => {
      const app = await startBrowserUi({
        port: options.port,
        workspacePath: options.workspace,
        adbPort: options.adbPort,
        log: (line) => console.log(line),
      });
      console.log(`NetAdapt Studio is running at ${app.ui.url}`);
      console.log('(only this computer can connect; press Ctrl-C to stop)');
      if (options.open) openBrowser(app.ui.url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          console.log('stopping…');
          void app.stop().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return port;
}

function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => console.log('could not open a browser: open the URL above yourself'));
    child.unref();
  } catch {
    console.log('could not open a browser: open the URL above yourself');
  }
}
