/**
 * Runs an EmulatedAdbDevice in its own process (as a real phone has its own CPU), prints
 * `{"port": N}` on stdout once listening, and exits when stdin closes. With `--litert` its benchmark_model
 * really runs each model on the host TFLite runtime (loaded once per run, like the real tool).
 * Start with: node --import tsx test/latency/android/emulated/adbd-process.ts [--litert]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EmulatedAdbDevice } from './adbd.ts';

export interface DeviceProcess {
  serial: string;
  port: number;
  stop(): Promise<void>;
}

export interface DeviceProcessOptions {
  /** Run models with the host TFLite runtime (LiteRT wasm) instead of the size-derived stand-in. */
  realInference?: boolean;
}

/** Spawn the emulated device in a child Node process. */
export async function startDeviceProcess(options: DeviceProcessOptions = {}): Promise<DeviceProcess> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), ...(options.realInference ? ['--litert'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
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
  const openModel = process.argv.includes('--litert')
    ? await (await import('../../runtime-execute-model.ts')).liteRtOpenModel()
    : undefined;
  const device = await EmulatedAdbDevice.start(openModel ? { openModel } : {});
  process.stdout.write(`${JSON.stringify({ port: device.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void device.close().then(() => process.exit(0)));
}
