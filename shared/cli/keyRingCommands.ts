import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { classifyError } from '../app/classifyError';
import { revokeInRing, rotateRings } from '../app/keyRingOperations';
import { openRings, type RingHandle } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { normalizeGuid } from '../keyring/guid';
import { readRingStatus, type RingStatus } from '../keyring/keyRingStatus';
import type { RingUpdateResult } from '../keyring/updateKeyRing';
import { verifyKeyRing, type RingVerification } from '../keyring/verifyKeyRing';
import { EXIT_FAILED, EXIT_OK, type CliIo } from './CliIo';
import { resolveCliConfig } from './cliConfig';
import { parseArgs, single, timeFlag, UsageError, type FlagSpec, type ParsedArgs } from './parseArgs';

type Command = 'status' | 'rotate' | 'revoke' | 'export' | 'verify';

const SPECS: Record<Command, FlagSpec> = {
  status: { values: ['config', 'ring', 'at'], booleans: ['json'] },
  rotate: { values: ['config', 'ring', 'now'], booleans: ['json', 'force', 'immediate'] },
  revoke: { values: ['config', 'ring', 'key', 'reason', 'now'], booleans: ['json', 'all'] },
  export: { values: ['config', 'ring', 'out'] },
  verify: { values: ['config', 'ring'], booleans: ['json'] },
};

export function isKeyRingCommand(name: string): name is Command {
  return name in SPECS;
}

/** status | rotate | revoke | export | verify, per the CLI contract in the README. */
export async function runKeyRingCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, SPECS[command], command);
  if (parsed.positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${parsed.positionals[0]}"`);
  validate(command, parsed);
  const cli = await resolveCliConfig(single(parsed, 'config'), io);
  try {
    const handles = selectRings(openRings(cli.config, { env: io.env }), single(parsed, 'ring'));
    switch (command) {
      case 'status':
        return await status(handles, parsed, io);
      case 'rotate':
        return await rotate(handles, parsed, io);
      case 'revoke':
        return await revoke(handles[0]!, parsed, io);
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
  if ((command === 'revoke' || command === 'export') && !single(parsed, 'ring')) throw new UsageError(`${command}: --ring NAME is required`);
  if (command === 'revoke') {
    const key = single(parsed, 'key');
    if ((key === undefined) === !parsed.booleans.has('all')) throw new UsageError('revoke: give exactly one of --key ID or --all');
    if (key !== undefined && !normalizeGuid(key)) throw new UsageError(`revoke: --key "${key}" is not a key id (GUID)`);
  }
  if (command === 'rotate' && parsed.booleans.has('immediate') && !parsed.booleans.has('force')) throw new UsageError('rotate: --immediate goes with --force');
  timeFlag(parsed, 'at', command);
  timeFlag(parsed, 'now', command);
}

function clock(parsed: ParsedArgs, command: string): (() => number) | undefined {
  const now = timeFlag(parsed, 'now', command);
  return now === undefined ? undefined : () => now;
}

async function status(handles: RingHandle[], parsed: ParsedArgs, io: CliIo): Promise<number> {
  const at = timeFlag(parsed, 'at', 'status') ?? Date.now();
  let code = EXIT_OK;
  for (const handle of handles) {
    try {
      const s = await readRingStatus(handle, at);
      io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(s)}\n` : formatStatus(s));
    } catch (err) {
      code = EXIT_FAILED;
      reportFailure(io, parsed, handle.name, err);
    }
  }
  return code;
}

async function rotate(handles: RingHandle[], parsed: ParsedArgs, io: CliIo): Promise<number> {
  const outcomes = await rotateRings(handles, { force: parsed.booleans.has('force'), immediate: parsed.booleans.has('immediate') }, { now: clock(parsed, 'rotate') });
  for (const outcome of outcomes) {
    if (outcome.ok) io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(outcome.result)}\n` : formatUpdate(outcome.result));
    else reportFailure(io, parsed, outcome.ring, outcome.cause);
  }
  return outcomes.every((o) => o.ok) ? EXIT_OK : EXIT_FAILED;
}

async function revoke(handle: RingHandle, parsed: ParsedArgs, io: CliIo): Promise<number> {
  const reason = single(parsed, 'reason');
  const key = single(parsed, 'key');
  const request = key !== undefined ? { keyId: normalizeGuid(key)!, reason } : { all: true as const, reason };
  try {
    const result = await revokeInRing(handle, request, { now: clock(parsed, 'revoke') });
    io.stdout.write(parsed.booleans.has('json') ? `${JSON.stringify(result)}\n` : formatUpdate(result));
    return EXIT_OK;
  } catch (err) {
    reportFailure(io, parsed, handle.name, err);
    return EXIT_FAILED;
  }
}

async function exportRing(handle: RingHandle, parsed: ParsedArgs, io: CliIo): Promise<number> {
  try {
    const stored = await handle.repository.read();
    const content = stored.content ?? Buffer.alloc(0);
    const out = single(parsed, 'out');
    if (out) writeFileSync(path.resolve(io.cwd, out), content);
    else io.stdout.write(content);
    if (!stored.etag) io.stderr.write(`ring ${handle.name}: the key ring blob does not exist yet (empty ring)\n`);
    return EXIT_OK;
  } catch (err) {
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

export function reportFailure(io: CliIo, parsed: ParsedArgs, ring: string, err: unknown): void {
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

function formatUpdate(r: RingUpdateResult): string {
  const lines = [`ring ${r.ring}: ${r.action === 'none' ? 'no change needed' : r.action}  etag ${r.etag ?? '(no blob)'}`];
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
