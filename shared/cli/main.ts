import { classifyError } from '../app/classifyError';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './CliIo';
import type { CliCommand } from './CliCommand';
import { CACHE_USAGE, runCacheCommand } from './cacheCommand';
import { DEV_HELP, runDevCommand } from './devCommand';
import { KEY_RING_COMMANDS } from './keyRingCommands';
import { runPayloadCommand } from './payloadCommands';
import { UsageError } from './parseArgs';
import { reportUsageOrConfigError } from './reportUsageOrConfigError';
import { REWRAP_COMMAND } from './rewrapCommand';

/** Every command, in the order `ringkeeper --help` lists them. Add a command here and it gets `--help`. */
export const COMMANDS: Record<string, CliCommand> = {
  ...KEY_RING_COMMANDS,
  rewrap: REWRAP_COMMAND,
  protect: {
    synopsis: 'ringkeeper protect   --ring NAME [--app NAME] [--purpose P]... [--text]    stdin -> payload',
    help: '  IDataProtector.Protect of an app on the ring: stdin -> payload (--text: base64url).',
    run: (args, io) => runPayloadCommand('protect', args, io),
  },
  unprotect: {
    synopsis: 'ringkeeper unprotect --ring NAME [--app NAME] [--purpose P]... [--text]    payload -> stdout',
    help: '  IDataProtector.Unprotect: payload on stdin -> plaintext; exit 1 with key_not_found, key_revoked or payload_invalid.',
    run: (args, io) => runPayloadCommand('unprotect', args, io),
  },
  inspect: {
    synopsis: 'ringkeeper inspect   [PAYLOAD|-|@FILE] [--ring NAME]... [--at ISO-TIME] [--json]',
    help: '  Which key a payload (or cookie) names and which configured rings hold it; no key is unwrapped.',
    run: (args, io) => runPayloadCommand('inspect', args, io),
  },
  cache: { synopsis: 'ringkeeper cache     publish|tail ...            (ringkeeper cache --help)', help: CACHE_USAGE, run: runCacheCommand },
  dev: { synopsis: 'ringkeeper dev       [--port N]                  run the functions locally without Core Tools', help: DEV_HELP, run: runDevCommand },
};

const COMMON = `common: --config FILE (or RINGKEEPER_CONFIG); without either, the embedded local default:
        ring "local" in Azurite (started on demand), key file ./.ringkeeper/kek.pem
        ringkeeper COMMAND --help describes one command
exit:   0 ok; 1 the operation failed, a ring shown is critical, or a named key is not in the ring;
        2 usage or configuration error (unknown option, unknown ring or channel, existing --out file)
`;

export const USAGE = `ringkeeper — keeps an ASP.NET Core web farm's Data Protection key rings and caches consistent

${Object.values(COMMANDS)
  .map((c) => `  ${c.synopsis}`)
  .join('\n')}

${COMMON}`;

const HELP_FLAGS = new Set(['--help', '-h']);

/** Runs one command line; returns the exit code. Never throws. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  try {
    if (name === undefined || name === 'help' || HELP_FLAGS.has(name)) {
      io.stdout.write(USAGE);
      return name === undefined ? EXIT_USAGE : EXIT_OK;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command "${name}"`);
    if (args.some((a) => HELP_FLAGS.has(a))) {
      io.stdout.write(`${command.help}\n${COMMON}`);
      return EXIT_OK;
    }
    return await command.run(args, io);
  } catch (err) {
    const userError = reportUsageOrConfigError(err, io, USAGE);
    if (userError !== undefined) return userError;
    const { message, expected } = classifyError(err);
    io.stderr.write(`ringkeeper: ${expected ? message : ((err as Error)?.message ?? String(err))}\n`);
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
