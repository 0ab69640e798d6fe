import path from 'node:path';
import { runDevHost } from '../devhost/devHost';
import { PortInUseError } from '../devhost/httpServer';
import { EXIT_OK, type CliIo } from './CliIo';
import { parseArgs, single, UsageError } from './parseArgs';

export const DEV_HELP = `ringkeeper dev [--port N] [--config FILE]
  Runs the registered functions on localhost without Core Tools until interrupted (what
  \`npm start\` runs). --port N picks the HTTP port (default 7071; 0 = any free port).
`;

/** `ringkeeper dev [--port N]`: the registered functions on localhost, without Core Tools, until interrupted; the host prints the ready line. */
export async function runDevCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { values: ['port', 'config'] }, 'dev');
  const portText = single(parsed, 'port');
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError(`dev: --port "${portText}" is not a port number`);
  const config = single(parsed, 'config');
  let host;
  try {
    host = await runDevHost({
      appRoot: path.resolve(__dirname, '..', '..', '..'),
      port,
      cwd: io.cwd,
      env: config ? { RINGKEEPER_CONFIG: path.resolve(io.cwd, config) } : undefined,
      log: (line) => io.stdout.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof PortInUseError) throw new UsageError(`dev: ${err.message}; pick another port with --port N`);
    throw err;
  }
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await host.stop();
  return EXIT_OK;
}
