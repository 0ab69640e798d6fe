import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_SETTING, CONFIG_JSON_SETTING } from '../config/loadConfig';
import { ensureLocalEnvironment } from '../config/localDefault';
import { runDevHost } from './devHost';
import { findCoreTools } from './findCoreTools';
import { PortInUseError } from './httpServer';

export const CORE_TOOLS_MISSING_NOTICE = 'Azure Functions Core Tools not found; running the ringkeeper dev host instead (see README: differences)';

/**
 * `npm start` (after `npm run build`): make sure Azurite listens on the development ports (started
 * from node_modules with data under ./.ringkeeper/azurite when nothing does), then `func start`
 * when a working Core Tools is installed, otherwise the dev host in this process.
 */
export async function start(argv: string[] = process.argv.slice(2), appRoot = findAppRoot()): Promise<number> {
  const port = portFrom(argv);
  const local = await ensureLocalEnvironment(appRoot);
  const stopAzurite = async () => {
    await local.azurite?.stop();
  };
  if (local.azurite) process.stdout.write(`Started Azurite (${describePorts(local.endpoints)}, data in .ringkeeper/azurite).\n`);
  if (!process.env[CONFIG_JSON_SETTING]?.trim() && !process.env[CONFIG_FILE_SETTING]?.trim()) {
    process.env[CONFIG_JSON_SETTING] = JSON.stringify(local.config);
  }
  // The host's own storage (queues, timers) is the same Azurite; a full string works on any ports.
  if (!process.env.AzureWebJobsStorage?.trim()) process.env.AzureWebJobsStorage = local.endpoints.connectionString;

  const func = await findCoreTools(appRoot);
  if (func) {
    const env = { ...process.env };
    env.FUNCTIONS_WORKER_RUNTIME ??= 'node';
    const args = ['start', ...(port !== undefined ? ['--port', String(port)] : [])];
    const child = spawn(func, args, { cwd: appRoot, env, stdio: 'inherit', shell: process.platform === 'win32' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const code = await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`func start failed: ${err.message}\n`);
        resolve(1);
      });
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
    });
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    await stopAzurite();
    return code;
  }

  process.stdout.write(`${CORE_TOOLS_MISSING_NOTICE}\n`);
  process.env.AzureWebJobsStorage ??= local.endpoints.connectionString;
  let host;
  try {
    host = await runDevHost({ appRoot, port, cwd: appRoot });
  } catch (err) {
    const hint = err instanceof PortInUseError ? '; pick another port with `npm start -- --port N`' : '';
    process.stderr.write(`ringkeeper dev host: ${(err as Error).message}${hint}\n`);
    await stopAzurite();
    return 1;
  }
  const running = host;
  return new Promise<number>((resolve) => {
    const shutdown = () => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      void running
        .stop()
        .then(stopAzurite)
        .then(() => resolve(0));
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}

/** The package root (dist/shared/devhost/start.js lives three levels below it), else the cwd. */
function findAppRoot(): string {
  const fromDist = path.resolve(__dirname, '..', '..', '..');
  return existsSync(path.join(fromDist, 'host.json')) ? fromDist : process.cwd();
}

function describePorts(endpoints: { blobEndpoint: string; queueEndpoint: string }): string {
  const port = (url: string) => new URL(url).port;
  return `blob port ${port(endpoints.blobEndpoint)}, queue port ${port(endpoints.queueEndpoint)}`;
}

function portFrom(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--port' || a === '-p');
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--port='))?.slice(7);
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: "${raw}" is not a port number`);
  return port;
}

if (require.main === module) {
  start().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`npm start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
