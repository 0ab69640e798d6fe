import { classifyError } from '../app/classifyError';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './CliIo';
import { runCacheCommand } from './cacheCommand';
import { runDevCommand } from './devCommand';
import { isKeyRingCommand, runKeyRingCommand } from './keyRingCommands';
import { isPayloadCommand, runPayloadCommand } from './payloadCommands';
import { UsageError } from './parseArgs';
import { runRewrapCommand } from './rewrapCommand';
import { reportUsageOrConfigError } from './reportUsageOrConfigError';

export const USAGE = `ringkeeper — keeps an ASP.NET Core web farm's Data Protection key rings and caches consistent

  ringkeeper status    [--ring NAME] [--at ISO-TIME] [--json]
  ringkeeper rotate    [--ring NAME] [--force] [--immediate] [--now ISO-TIME] [--json]
  ringkeeper revoke    --ring NAME (--key ID | --all) [--reason TEXT] [--now ISO-TIME] [--json]
  ringkeeper export    --ring NAME [--out FILE]
  ringkeeper verify    [--ring NAME] [--json]
  ringkeeper rewrap    [--ring NAME] [--dry-run] [--json]
  ringkeeper protect   --ring NAME [--app NAME] [--purpose P]... [--text]    stdin -> payload
  ringkeeper unprotect --ring NAME [--app NAME] [--purpose P]... [--text]    payload -> stdout
  ringkeeper inspect   [PAYLOAD|-|@FILE] [--ring NAME]... [--at ISO-TIME] [--json]
  ringkeeper cache     publish|tail ...            (ringkeeper cache --help)
  ringkeeper dev       [--port N]                 run the functions locally without Core Tools

common: --config FILE (or RINGKEEPER_CONFIG); without either, the embedded local default:
        ring "local" in Azurite (started on demand), key file ./.ringkeeper/kek.pem
exit:   0 ok, 1 operation failed, 2 usage or configuration error
`;

/** Runs one command line; returns the exit code. Never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(USAGE);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (isKeyRingCommand(command)) return await runKeyRingCommand(command, args, io);
    if (isPayloadCommand(command)) return await runPayloadCommand(command, args, io);
    if (command === 'dev') return await runDevCommand(args, io);
    if (command === 'rewrap') return await runRewrapCommand(args, io);
    if (command === 'cache') {
      return await runCacheCommand(args, io);
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    const userError = reportUsageOrConfigError(err, io, USAGE);
    if (userError !== undefined) return userError;
    const { message, expected } = classifyError(err);
    io.stderr.write(`ringkeeper: ${expected ? message : (err as Error)?.message ?? String(err)}\n`);
    return EXIT_FAILED;
  }
}

/** Process entry (bin/ringkeeper.js): real stdio, SIGINT/SIGTERM abort long-running commands. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await run(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd(), signal: controller.signal });
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}
