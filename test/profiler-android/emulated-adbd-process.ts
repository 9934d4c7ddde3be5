/**
 * Runs an EmulatedAdbDevice in its own process (as a real phone has its own CPU), prints
 * `{"port": N}` on stdout once listening, and exits when stdin closes.
 * Start with: node --import tsx test/profiler-android/emulated-adbd-process.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmulatedAdbDevice } from './emulated-adbd.ts';

export interface DeviceProcess {
  serial: string;
  port: number;
  stop(): Promise<void>;
}

/** Spawn the emulated device in a child Node process. */
export async function startDeviceProcess(): Promise<DeviceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulated device process exited with ${code}`)));
  });
  return {
    serial: `127.0.0.1:${port}`,
    port,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const device = await EmulatedAdbDevice.start();
  process.stdout.write(`${JSON.stringify({ port: device.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void device.close().then(() => process.exit(0)));
}
