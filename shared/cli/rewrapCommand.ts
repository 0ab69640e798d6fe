import { openRings } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { rewrapKeyRing, type RewrapResult } from '../keyring/rewrapKeyRing';
import type { CliCommand } from './CliCommand';
import { EXIT_FAILED, EXIT_OK, type CliIo } from './CliIo';
import { resolveCliConfig } from './cliConfig';
import { reportFailure } from './keyRingCommands';
import { parseArgs, single, UsageError } from './parseArgs';

export const REWRAP_COMMAND: CliCommand = {
  synopsis: 'ringkeeper rewrap    [--ring NAME] [--dry-run] [--json]',
  help: `  Re-encrypts every key still wrapped by an older Key Vault key version, a renewed certificate's
  predecessor or another protector under the protector's current key-encryption key (old
  certificates under decryptionCertificates). Only those keys' secrets change; verified by
  unwrapping every key again before the one conditional write. --dry-run writes nothing.`,
  run: (args, io) => runRewrapCommand(args, io),
};

/**
 * `ringkeeper rewrap`: re-encrypts every key of each ring (or --ring) under its protector's current
 * key-encryption key, one conditional write per ring; --dry-run decrypts, re-encrypts and verifies
 * in memory and writes nothing. Exit 1 when any ring failed.
 */
export async function runRewrapCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { values: ['config', 'ring'], booleans: ['json', 'dry-run'] }, 'rewrap');
  if (parsed.positionals.length > 0) throw new UsageError(`rewrap: unexpected argument "${parsed.positionals[0]}"`);
  const cli = await resolveCliConfig(single(parsed, 'config'), io);
  try {
    const handles = selectRings(openRings(cli.config, { env: io.env }), single(parsed, 'ring'));
    let code = EXIT_OK;
    for (const handle of handles) {
      try {
        const result = await rewrapKeyRing(handle, { dryRun: parsed.booleans.has('dry-run') });
        io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(result)}\n` : formatRewrap(result));
      } catch (err) {
        code = EXIT_FAILED;
        reportFailure(io, parsed, handle.name, err);
      }
    }
    return code;
  } finally {
    await cli.close();
  }
}

function formatRewrap(r: RewrapResult): string {
  const verb = r.dryRun ? 'would re-wrap' : 're-wrapped';
  const lines = [`ring ${r.ring}: ${r.rewrapped.length === 0 ? `every key is already wrapped by ${r.kek}` : `${verb} ${r.rewrapped.length} key(s) under ${r.kek}`}  etag ${r.etag ?? '(no blob)'}`];
  for (const k of r.rewrapped) lines.push(`  ${k.id}  from ${k.from ?? 'unencrypted'}`);
  if (r.unchanged > 0) lines.push(`  ${r.unchanged} key(s) already under it, unchanged`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
