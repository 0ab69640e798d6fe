import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { classifyError } from '../app/classifyError';
import { openRings } from '../app/openRings';
import { selectRings } from '../app/selectRings';
import { KeyRingDocument } from '../keyring/KeyRingDocument';
import { locatePayloadKey, type PayloadKeyLocation } from '../keyring/locatePayloadKey';
import { readPayloadHeader } from '../keyring/payload/payloadHeader';
import { PayloadError } from '../keyring/payload/PayloadError';
import { fromPayloadText, toPayloadText } from '../keyring/payload/payloadText';
import { purposeChain } from '../keyring/payload/purposeChain';
import { readPayloadInput, type PayloadInput } from '../keyring/payload/readPayloadInput';
import { NoProtectionKeyError, RingDataProtector } from '../keyring/RingDataProtector';
import { EXIT_FAILED, EXIT_OK, type CliIo } from './CliIo';
import { resolveCliConfig } from './cliConfig';
import { parseArgs, single, timeFlag, UsageError, type FlagSpec, type ParsedArgs } from './parseArgs';

type Command = 'protect' | 'unprotect' | 'inspect';

const PROTECTION: FlagSpec = { values: ['config', 'ring', 'purpose', 'app'], repeatable: ['purpose'], booleans: ['text'] };
const SPECS: Record<Command, FlagSpec> = {
  protect: PROTECTION,
  unprotect: PROTECTION,
  inspect: { values: ['config', 'ring', 'at'], repeatable: ['ring'], booleans: ['json'] },
};

export function isPayloadCommand(name: string): name is Command {
  return Object.hasOwn(SPECS, name);
}

/**
 * protect | unprotect: IDataProtector.Protect/Unprotect of an app on the ring, the purpose chain being
 * `--app` (SetApplicationName) then each `--purpose` in order. Bytes in, bytes out; `--text` is the
 * string overloads' form (base64url). Unprotect failures: key_not_found, key_revoked, payload_invalid.
 * inspect: reads only the payload header and the rings' XML; no key is unwrapped.
 */
export async function runPayloadCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, SPECS[command], command);
  if (command === 'inspect') return inspect(parsed, io);
  if (parsed.positionals.length > 0) throw new UsageError(`${command}: unexpected argument "${parsed.positionals[0]}" (the input is read from stdin)`);
  const ringName = single(parsed, 'ring');
  if (!ringName) throw new UsageError(`${command}: --ring NAME is required`);
  const purposes = purposeChain(single(parsed, 'app'), parsed.values.get('purpose') ?? []);
  // stdin first: in `protect | unprotect` the second command then opens the ring (and, with the local
  // default, Azurite) only after the first has finished with it.
  const input = await readAll(io.stdin);
  const cli = await resolveCliConfig(single(parsed, 'config'), io);
  try {
    const [handle] = selectRings(openRings(cli.config, { env: io.env }), ringName);
    try {
      const protector = await RingDataProtector.open(handle!);
      if (command === 'protect') {
        const payload = await protector.protect(purposes, input);
        io.stdout.write(parsed.booleans.has('text') ? `${toPayloadText(payload)}\n` : payload);
      } else {
        const payload = parsed.booleans.has('text') ? fromPayloadText(input.toString('utf8').trim()) : input;
        io.stdout.write(await protector.unprotect(payload, purposes));
      }
      return EXIT_OK;
    } catch (err) {
      io.stderr.write(`ring ${handle!.name}: ${describe(err)}\n`);
      return EXIT_FAILED;
    }
  } finally {
    await cli.close();
  }
}

async function inspect(parsed: ParsedArgs, io: CliIo): Promise<number> {
  if (parsed.positionals.length > 1) throw new UsageError(`inspect: one payload at a time (got ${parsed.positionals.length} arguments)`);
  const at = timeFlag(parsed, 'at', 'inspect') ?? Date.now();
  const json = parsed.booleans.has('json');
  let payloads: PayloadInput[];
  let keyIds: string[];
  try {
    payloads = readPayloadInput(await inspectInput(parsed.positionals[0], io));
    keyIds = payloads.map((p) => readPayloadHeader(p.payload).keyId);
  } catch (err) {
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: (err as PayloadError).code ?? 'internal', message: (err as Error).message } })}\n`);
    io.stderr.write(`inspect: ${describe(err)}\n`);
    return EXIT_FAILED;
  }
  const cli = await resolveCliConfig(single(parsed, 'config'), io);
  try {
    const all = openRings(cli.config, { env: io.env });
    const names = parsed.values.get('ring');
    const handles = names ? names.flatMap((n) => selectRings(all, n)) : all;
    const rings: { name: string; document: KeyRingDocument }[] = [];
    const unreadable: { ring: string; error: { code: string; message: string } }[] = [];
    for (const handle of handles) {
      try {
        rings.push({ name: handle.name, document: KeyRingDocument.parse((await handle.repository.read()).content) });
      } catch (err) {
        const { code, message } = classifyError(err);
        unreadable.push({ ring: handle.name, error: { code, message: describe(err) || message } });
      }
    }
    payloads.forEach((p, i) => {
      const location = locatePayloadKey(keyIds[i]!, rings, at);
      const report = { source: { format: p.format, ...(p.cookie && { cookie: p.cookie }), bytes: p.payload.length }, ...location, unreadableRings: unreadable };
      io.stdout.write(json ? `${JSON.stringify(report)}\n` : formatInspection(p, location, unreadable));
    });
    for (const u of unreadable) io.stderr.write(`ring ${u.ring}: ${u.error.message}\n`);
    return unreadable.length > 0 ? EXIT_FAILED : EXIT_OK;
  } finally {
    await cli.close();
  }
}

/** The argument itself, `@FILE`, or stdin (no argument or `-`). */
async function inspectInput(argument: string | undefined, io: CliIo): Promise<Buffer> {
  if (argument === undefined || argument === '-') return readAll(io.stdin);
  if (argument.startsWith('@')) return readFileSync(path.resolve(io.cwd, argument.slice(1)));
  return Buffer.from(argument, 'utf8');
}

function formatInspection(input: PayloadInput, location: PayloadKeyLocation, unreadable: { ring: string }[]): string {
  const source = input.cookie ? `cookie ${input.cookie.name}${input.cookie.chunks ? ` (${input.cookie.chunks} chunks)` : ''}` : input.format;
  const lines = [`payload  ${input.payload.length} bytes (${source}), key {${location.keyId}}`];
  for (const r of location.rings) {
    if (r.state !== 'present') {
      lines.push(`  ring ${r.ring}: ${r.state === 'absent' ? 'not in this ring' : `unreadable key element: ${r.problem}`}`);
      continue;
    }
    const flags = [r.revoked && 'REVOKED', r.expired && 'expired', r.notYetActive && 'not yet active', r.isDefault && 'default key now'].filter(Boolean);
    lines.push(`  ring ${r.ring}: present, activates ${r.activationDate}, expires ${r.expirationDate}${flags.length ? ` [${flags.join(', ')}]` : ''}`);
  }
  for (const u of unreadable) lines.push(`  ring ${u.ring}: could not be read`);
  for (const f of location.findings) lines.push(`  ${f}`);
  return `${lines.join('\n')}\n`;
}

function describe(err: unknown): string {
  if (err instanceof PayloadError || err instanceof NoProtectionKeyError) return `${err.code}: ${err.message}`;
  const { code, message, expected } = classifyError(err);
  if (expected) return `${code}: ${message}`;
  return (err as Error)?.message ?? String(err);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
