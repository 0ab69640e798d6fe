import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/** The well-known Azurite/Storage Emulator account; public by design, not a secret. */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const DEV_BLOB_PORT = 10000;
export const DEV_QUEUE_PORT = 10001;

export interface AzuriteEndpoints {
  blobEndpoint: string;
  queueEndpoint: string;
  connectionString: string;
}

export interface AzuriteProcess extends AzuriteEndpoints {
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** 0 picks a free port. */
  blobPort?: number;
  queuePort?: number;
  /** Data folder; omitted = in-memory. */
  location?: string;
  timeoutMs?: number;
}

export function devConnectionString(blobEndpoint: string, queueEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT_NAME};AccountKey=${DEV_ACCOUNT_KEY};` + `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};`;
}

export function devEndpoints(blobPort = DEV_BLOB_PORT, queuePort = DEV_QUEUE_PORT): AzuriteEndpoints {
  const blobEndpoint = `http://127.0.0.1:${blobPort}/${DEV_ACCOUNT_NAME}`;
  const queueEndpoint = `http://127.0.0.1:${queuePort}/${DEV_ACCOUNT_NAME}`;
  return { blobEndpoint, queueEndpoint, connectionString: devConnectionString(blobEndpoint, queueEndpoint) };
}

export function isListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function azuriteEntry(): string {
  let pkg: string;
  try {
    pkg = require.resolve('azurite/package.json');
  } catch {
    throw new Error('Azurite is not installed: run "npm install" in the ringkeeper folder (azurite is a development dependency), ' + 'or start any Azure Storage emulator on ports 10000/10001.');
  }
  return path.join(path.dirname(pkg), 'dist', 'src', 'azurite.js');
}

/** Starts Azurite (blob + queue) as a child process and resolves once both listen. */
export function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteProcess> {
  const args = [
    azuriteEntry(),
    '--blobPort',
    String(options.blobPort ?? 0),
    '--queuePort',
    String(options.queuePort ?? 0),
    '--tablePort',
    '0',
    '--skipApiVersionCheck',
    '--loose',
    '--disableTelemetry',
    '--silent',
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push('--location', options.location);
  } else {
    args.push('--inMemoryPersistence');
  }
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Never outlive the process that started it (a killed test run, an interrupted CLI).
  const killOnExit = () => child.kill();
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  return new Promise((resolve, reject) => {
    let output = '';
    let blobPort: number | undefined;
    let queuePort: number | undefined;
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      blobPort ??= matchPort(output, 'Blob');
      queuePort ??= matchPort(output, 'Queue');
      if (blobPort !== undefined && queuePort !== undefined) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        const endpoints = devEndpoints(blobPort, queuePort);
        resolve({ ...endpoints, stop: () => stopChild(child) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', fail);
    child.once('exit', (code) => {
      if (blobPort === undefined || queuePort === undefined) fail(new Error(`Azurite exited with code ${code}:\n${output}`));
    });
  });
}

function matchPort(output: string, service: 'Blob' | 'Queue'): number | undefined {
  const m = new RegExp(`Azurite ${service} service is successfully listening at http://[^:]+:(\\d+)`).exec(output);
  return m ? Number(m[1]) : undefined;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}
