import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { classifyError } from '../app/classifyError';
import { repairRing, revokeInRing, rotateRings } from '../app/keyRingOperations';
import { ConfigError } from '../config/ConfigError';
import type { ProtectorConfig } from '../config/types';
import { KeyRingDocument } from '../keyring/KeyRingDocument';
import { KeyRingFormatError } from '../keyring/KeyRingFormatError';
import { reasonProblem } from '../keyring/policy/RotationPolicy';
import { ringKek } from '../keyring/protectors/kekIdentity';
import type { CliCommand } from './CliCommand';
import { openRings, type RingHandle } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { normalizeGuid } from '../keyring/guid';
import { readRingSnapshot, type RingStatus } from '../keyring/keyRingStatus';
import { renderTimeline } from '../keyring/timeline/renderTimeline';
import type { RingUpdateResult, UpdateOptions } from '../keyring/updateKeyRing';
import { verifyKeyRing, type RingVerification } from '../keyring/verifyKeyRing';
import { EXIT_FAILED, EXIT_OK, type CliIo } from './CliIo';
import { resolveCliConfig, type LocalDefaultInfo } from './cliConfig';
import { parseArgs, single, timeFlag, UsageError, type FlagSpec, type ParsedArgs } from './parseArgs';

type Command = 'status' | 'rotate' | 'revoke' | 'repair' | 'export' | 'verify';

const CLOCK_HELP = `  --now ISO-TIME          plan as if at another instant; prints the plan and writes nothing
                          (--dry-run implied) unless --allow-clock-override (test rings only)
  --dry-run               plan and print, write nothing
  --allow-new-kek         write even though the configured key encryption key is not the one
                          the ring's newest key is wrapped by (refused by default)`;

const SPECS: Record<Command, FlagSpec & { synopsis: string; help: string }> = {
  status: {
    values: ['config', 'ring', 'at', 'svg'],
    booleans: ['json'],
    synopsis: 'ringkeeper status    [--ring NAME] [--at ISO-TIME] [--json] [--svg FILE (with --ring)]',
    help: `  Each ring's keys, default key now and after propagation, health and problems (read only).
  --at ISO-TIME           resolve as of another instant
  --svg FILE              with --ring: also draw the ring's timeline (keys, propagation, defaults) to FILE
  exit 1 when any ring shown is critical or cannot be read`,
  },
  rotate: {
    values: ['config', 'ring', 'now'],
    booleans: ['json', 'force', 'immediate', 'dry-run', 'allow-clock-override', 'allow-new-kek'],
    synopsis: 'ringkeeper rotate    [--ring NAME] [--force [--immediate]] [--dry-run] [--now ISO-TIME] [--json]',
    help: `  Writes a successor when the ring needs one (what the timer does).
  --force                 write a new key anyway, activating after the 2-day propagation window
  --immediate             with --force: activate it now (emergencies)
${CLOCK_HELP}`,
  },
  revoke: {
    values: ['config', 'ring', 'key', 'reason', 'now'],
    booleans: ['json', 'all', 'dry-run', 'allow-clock-override', 'allow-new-kek'],
    synopsis: 'ringkeeper revoke    --ring NAME (--key ID | --all) [--reason TEXT] [--dry-run] [--now ISO-TIME] [--json]',
    help: `  Revokes one key or all keys created before now, then writes a replacement if apps need one.
  --reason TEXT           at most 500 characters, no control characters
  a revocation of all keys dated after the real clock is always refused
${CLOCK_HELP}`,
  },
  repair: {
    values: ['config', 'ring'],
    booleans: ['json', 'dry-run', 'allow-new-kek'],
    synopsis: 'ringkeeper repair    --ring NAME [--dry-run] [--allow-new-kek] [--json]',
    help: `  Brings back a usable default key whatever the ring's dates say: a revocation of all keys
  dated in the future is re-dated to now (keys that exist now stay revoked), keys created in the
  future are revoked, and a key active now is written when apps have none. A blob holding only a
  byte order mark (no key; apps fail on it) is replaced by a new ring.
  --dry-run               print the plan, write nothing
  --allow-new-kek         as for rotate`,
  },
  export: {
    values: ['config', 'ring', 'out'],
    booleans: ['force'],
    synopsis: 'ringkeeper export    --ring NAME [--out FILE [--force]]',
    help: `  Prints the ring blob byte for byte: keys stay wrapped (encrypted) as stored, but the file is
  still the ring: keep it where you keep the ring.
  --out FILE              write to FILE; an existing file is refused unless --force`,
  },
  verify: {
    values: ['config', 'ring'],
    booleans: ['json'],
    synopsis: 'ringkeeper verify    [--ring NAME] [--json]',
    help: '  Unwraps and checks every key; exit 1 on any failure.',
  },
};

/** The key ring commands, for main.ts's command table. */
export const KEY_RING_COMMANDS: Record<Command, CliCommand> = Object.fromEntries(
  (Object.keys(SPECS) as Command[]).map((name) => [
    name,
    { synopsis: SPECS[name].synopsis, help: `${SPECS[name].synopsis}\n${SPECS[name].help}\n`, run: (args: string[], io: CliIo) => runKeyRingCommand(name, args, io) },
  ]),
) as Record<Command, CliCommand>;

/** status | rotate | revoke | repair | export | verify, per the CLI contract in the README. */
async function runKeyRingCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, SPECS[command], command);
  if (parsed.positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${parsed.positionals[0]}"`);
  validate(command, parsed);
  const cli = await resolveCliConfig(single(parsed, 'config'), io);
  try {
    const handles = selectRings(openRings(cli.config, { env: io.env }), single(parsed, 'ring'));
    if (cli.local && !cli.local.startedAzurite) await assertLocalRingIsOurs(handles[0]!, cli.config.rings[0]!.protector, cli.local.blobEndpoint);
    switch (command) {
      case 'status':
        return await status(handles, parsed, io, cli.local);
      case 'rotate':
        return await rotate(handles, parsed, io);
      case 'revoke':
        return await revoke(handles[0]!, parsed, io);
      case 'repair':
        return await repair(handles[0]!, parsed, io);
      case 'export':
        return await exportRing(handles[0]!, parsed, io);
      case 'verify':
        return await verify(handles, parsed, io);
    }
  } finally {
    await cli.close();
  }
}

function validate(command: Command, parsed: ParsedArgs): void {
  if ((command === 'revoke' || command === 'export' || command === 'repair') && !single(parsed, 'ring')) throw new UsageError(`${command}: --ring NAME is required`);
  if (command === 'status' && single(parsed, 'svg') !== undefined && !single(parsed, 'ring')) throw new UsageError('status: --svg FILE draws one ring: give --ring NAME');
  if (command === 'revoke') {
    const key = single(parsed, 'key');
    if ((key === undefined) === !parsed.booleans.has('all')) throw new UsageError('revoke: give exactly one of --key ID or --all');
    if (key !== undefined && !normalizeGuid(key)) throw new UsageError(`revoke: --key "${key}" is not a key id (GUID)`);
    const problem = reasonProblem(single(parsed, 'reason') ?? '');
    if (problem) throw new UsageError(`revoke: --reason ${problem}`);
  }
  if (command === 'rotate' && parsed.booleans.has('immediate') && !parsed.booleans.has('force')) throw new UsageError('rotate: --immediate goes with --force');
  if (parsed.booleans.has('allow-clock-override') && single(parsed, 'now') === undefined) throw new UsageError(`${command}: --allow-clock-override goes with --now`);
  if (command === 'export' && parsed.booleans.has('force') && single(parsed, 'out') === undefined) throw new UsageError('export: --force goes with --out FILE');
  timeFlag(parsed, 'at', command);
  timeFlag(parsed, 'now', command);
}

/** Write options: --now is a drill (dry run) unless the clock override is explicit. */
function writeOptions(parsed: ParsedArgs, command: string): UpdateOptions {
  const now = timeFlag(parsed, 'now', command);
  const drill = now !== undefined && !parsed.booleans.has('allow-clock-override');
  return {
    now: now === undefined ? undefined : () => now,
    dryRun: parsed.booleans.has('dry-run') || drill,
    allowNewKek: parsed.booleans.has('allow-new-kek'),
  };
}

async function status(handles: RingHandle[], parsed: ParsedArgs, io: CliIo, local: LocalDefaultInfo | undefined): Promise<number> {
  const at = timeFlag(parsed, 'at', 'status') ?? Date.now();
  const json = parsed.booleans.has('json');
  if (local && !json) io.stdout.write(`local default: Azurite at ${local.blobEndpoint} (${describeAzurite(local)})\n`);
  let code = EXIT_OK;
  for (const handle of handles) {
    try {
      const { status: s, ring } = await readRingSnapshot(handle, at);
      if (s.health === 'critical') code = EXIT_FAILED;
      const svg = single(parsed, 'svg');
      if (svg !== undefined) {
        writeFileSync(path.resolve(io.cwd, svg), renderTimeline(ring, at, { ringName: handle.name }));
        io.stderr.write(`ring ${handle.name}: timeline picture written to ${svg}\n`);
      }
      const shown = local ? { ...s, azurite: { endpoint: local.blobEndpoint, startedByThisCommand: local.startedAzurite } } : s;
      io.stdout.write(json ? `${JSON.stringify(shown)}\n` : formatStatus(s));
    } catch (err) {
      code = EXIT_FAILED;
      if (err instanceof KeyRingFormatError && err.code === 'keyring_malformed') {
        // Apps fail on a ring ringkeeper cannot read: that is the ring's health, not only an error.
        if (json) io.stdout.write(`${JSON.stringify({ ring: handle.name, health: 'critical', error: { code: err.code, message: classifyError(err).message } })}\n`);
        io.stderr.write(`ring ${handle.name}  health critical: ${classifyError(err).message}\n`);
      } else reportFailure(io, parsed, handle.name, err);
    }
  }
  return code;
}

function describeAzurite(local: LocalDefaultInfo): string {
  return local.startedAzurite
    ? 'started by this command, stopped when it ends'
    : 'already running, not started by this command: it may belong to another checkout (RINGKEEPER_LOCAL_BLOB_PORT picks another)';
}

/**
 * The local default adopts an Azurite it did not start only when the ring in it is wrapped by this
 * folder's key file: another checkout's Azurite on the same ports would otherwise get keys its own
 * readers cannot unwrap.
 */
async function assertLocalRingIsOurs(handle: RingHandle, protector: ProtectorConfig, endpoint: string): Promise<void> {
  const stored = await handle.repository.read();
  let existing;
  try {
    existing = ringKek(KeyRingDocument.parse(stored.content).ring.keys, Date.now());
  } catch {
    return; // A malformed ring is reported by the command itself; nothing is written to it.
  }
  if (!existing) return;
  // Without a key file this folder has never written the ring: do not create one just to compare.
  const ours = protector.type === 'rsa' && !existsSync(protector.keyFile) ? `(no ${protector.keyFile} yet)` : handle.protector().kek;
  if (ours !== existing.kek) {
    throw new ConfigError(
      'local default',
      `the Azurite already running at ${endpoint} holds a ring "${handle.name}" wrapped by another local key (${existing.kek}), not by this folder's ${ours}: ` +
        'it belongs to another checkout. Stop that Azurite, run ringkeeper from its folder, or set RINGKEEPER_LOCAL_BLOB_PORT and RINGKEEPER_LOCAL_QUEUE_PORT to other ports.',
    );
  }
}

async function rotate(handles: RingHandle[], parsed: ParsedArgs, io: CliIo): Promise<number> {
  const outcomes = await rotateRings(handles, { force: parsed.booleans.has('force'), immediate: parsed.booleans.has('immediate') }, writeOptions(parsed, 'rotate'));
  for (const outcome of outcomes) {
    if (outcome.ok) io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(outcome.result)}\n` : formatUpdate(outcome.result, parsed));
    else reportFailure(io, parsed, outcome.ring, outcome.cause);
  }
  return outcomes.every((o) => o.ok) ? EXIT_OK : EXIT_FAILED;
}

async function revoke(handle: RingHandle, parsed: ParsedArgs, io: CliIo): Promise<number> {
  const reason = single(parsed, 'reason');
  const key = single(parsed, 'key');
  const request = key !== undefined ? { keyId: normalizeGuid(key)!, reason } : { all: true as const, reason };
  return writeOne(handle, parsed, io, () => revokeInRing(handle, request, writeOptions(parsed, 'revoke')));
}

async function repair(handle: RingHandle, parsed: ParsedArgs, io: CliIo): Promise<number> {
  return writeOne(handle, parsed, io, () => repairRing(handle, writeOptions(parsed, 'repair')));
}

async function writeOne(handle: RingHandle, parsed: ParsedArgs, io: CliIo, update: () => Promise<RingUpdateResult>): Promise<number> {
  try {
    const result = await update();
    io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(result)}\n` : formatUpdate(result, parsed));
    return EXIT_OK;
  } catch (err) {
    reportFailure(io, parsed, handle.name, err);
    return EXIT_FAILED;
  }
}

async function exportRing(handle: RingHandle, parsed: ParsedArgs, io: CliIo): Promise<number> {
  const out = single(parsed, 'out');
  const file = out === undefined ? undefined : path.resolve(io.cwd, out);
  if (file && existsSync(file) && !parsed.booleans.has('force')) throw new UsageError(`export: ${out} already exists; pass --force to overwrite it`);
  try {
    const stored = await handle.repository.read();
    const content = stored.content ?? Buffer.alloc(0);
    if (file) writeFileSync(file, content, { flag: parsed.booleans.has('force') ? 'w' : 'wx' });
    else io.stdout.write(content);
    if (!stored.etag) io.stderr.write(`ring ${handle.name}: the key ring blob does not exist yet (empty ring)\n`);
    return EXIT_OK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`export: ${out} already exists; pass --force to overwrite it`);
    reportFailure(io, parsed, handle.name, err);
    return EXIT_FAILED;
  }
}

async function verify(handles: RingHandle[], parsed: ParsedArgs, io: CliIo): Promise<number> {
  let code = EXIT_OK;
  for (const handle of handles) {
    try {
      const v = await verifyKeyRing(handle);
      if (!v.ok) code = EXIT_FAILED;
      io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(v)}\n` : formatVerification(v));
    } catch (err) {
      code = EXIT_FAILED;
      reportFailure(io, parsed, handle.name, err);
    }
  }
  return code;
}

function reportFailure(io: CliIo, parsed: ParsedArgs, ring: string, err: unknown): void {
  const { code, message, expected } = classifyError(err);
  const text = expected ? message : `${message} (${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)})`;
  if (parsed.booleans.has('json')) io.stdout.write(`${JSON.stringify({ ring, error: { code, message: text } })}\n`);
  io.stderr.write(`ring ${ring}: ${text}\n`);
}

function formatStatus(s: RingStatus): string {
  const lines = [
    `ring ${s.ring}  health ${s.health}  etag ${s.etag ?? '(no blob yet)'}`,
    `  location        ${s.location}`,
    `  default key now ${s.defaultKey ?? '(none)'}${s.resolution === 'fallback' ? ' (fallback: the resolver has no default)' : ''}`,
    `  after 2 days    ${s.defaultKeyAfterPropagation ?? '(none)'}`,
  ];
  if (s.keys.length > 0) {
    lines.push(`  ${'KEY'.padEnd(36)}  ${'CREATED'.padEnd(20)}  ${'ACTIVATES'.padEnd(20)}  ${'EXPIRES'.padEnd(20)}  REVOKED  PROTECTION`);
    for (const k of s.keys) {
      lines.push(`  ${k.id}  ${short(k.creationDate)}  ${short(k.activationDate)}  ${short(k.expirationDate)}  ${(k.revoked ? 'yes' : 'no').padEnd(7)}  ${k.protection}`);
    }
  }
  for (const p of s.problems) lines.push(`  ${p.severity}: ${p.message}`);
  return `${lines.join('\n')}\n`;
}

function formatUpdate(r: RingUpdateResult, parsed: ParsedArgs): string {
  const lines = [`ring ${r.ring}: ${r.action === 'none' ? 'no change needed' : r.action}  etag ${r.etag ?? '(no blob)'}`];
  if (r.dryRun && r.action !== 'none') {
    lines[0] += parsed.booleans.has('dry-run') || single(parsed, 'now') === undefined ? '  (dry run: nothing written)' : '  (dry run: --now implies --dry-run; add --allow-clock-override to write)';
  }
  for (const k of r.newKeys) lines.push(`  new ${k.reason} key ${k.id} activates ${k.activationDate}, expires ${k.expirationDate}`);
  for (const id of r.revokedKeyIds) lines.push(`  revoked ${id === '*' ? 'all keys created before now' : id}`);
  for (const id of r.deletedKeyIds) lines.push(`  deleted expired key ${id}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

function formatVerification(v: RingVerification): string {
  const lines = [`ring ${v.ring}: ${v.ok ? 'all keys verified' : 'VERIFICATION FAILED'} (${v.keys.length} keys)`];
  for (const k of v.keys) lines.push(`  ${k.id}  ${k.protection.padEnd(11)}  ${k.status}${k.detail ? `: ${k.detail}` : ''}`);
  return `${lines.join('\n')}\n`;
}

function short(date: string): string {
  return date.slice(0, 19).replace('T', ' ').padEnd(20);
}
