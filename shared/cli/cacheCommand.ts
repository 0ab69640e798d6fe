import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../config/ConfigError';
import { parseCacheConfig } from '../cache/cacheConfig';
import { createCacheContext, type CacheContext } from '../cache/CacheContext';
import { CachePublisher, defaultOrigin } from '../cache/CachePublisher';
import { CachePublishError } from '../cache/CachePublishError';
import { CacheSubscriber } from '../cache/CacheSubscriber';
import { describeInstruction } from '../cache/describeInstruction';
import { frontEndQueueName } from '../cache/frontEndQueueName';
import { FileSequenceStore, MemorySequenceStore } from '../cache/SequenceStore';
import { describeStorageError } from '../cache/storageErrors';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo } from './CliIo';
import { resolveCliConfig } from './cliConfig';
import { parseArgs, single, UsageError } from './parseArgs';
import { reportUsageOrConfigError } from './reportUsageOrConfigError';

export const CACHE_USAGE = `ringkeeper cache publish --channel C [--json ENVELOPE-OR-INSTRUCTIONS] [--origin O]
    publishes one envelope (an envelope, {instructions}, an array of instructions or one
    instruction); without --json reads stdin: one JSON document, or one per line (NDJSON) for
    several publishes in order. Prints {"sequence": N, "id": "..."} per publish.
ringkeeper cache tail --channel C [--json] [--instance ID]
    a front-end that prints each applied envelope until interrupted; with --json one line per
    envelope {sequence, id, channel, instructions}. Without --instance it is a new front-end
    (own queue, state in memory, queue deleted at exit); with --instance it resumes from
    ./.ringkeeper/cache/.
common: --config FILE (or RINGKEEPER_CONFIG; else the embedded local default in Azurite)
`;

/** `ringkeeper cache publish|tail ...` (args after "cache"). Never throws. */
export async function runCacheCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === undefined || sub === '--help' || sub === 'help') {
      io.stdout.write(CACHE_USAGE);
      return sub === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (sub === 'publish') return await publishCommand(rest, io);
    if (sub === 'tail') return await tailCommand(rest, io);
    throw new UsageError(`cache: unknown subcommand "${sub}" (expected publish or tail)`);
  } catch (err) {
    const userError = reportUsageOrConfigError(err, io, CACHE_USAGE);
    if (userError !== undefined) return userError;
    io.stderr.write(`ringkeeper: cache ${sub}: ${describeStorageError(err)}\n`);
    return EXIT_FAILED;
  }
}

async function openChannel(configFlag: string | undefined, io: CliIo): Promise<{ ctx: CacheContext; close: () => Promise<void> }> {
  const resolved = await resolveCliConfig(configFlag, io);
  try {
    const where = configFlag ?? io.env.RINGKEEPER_CONFIG ?? 'local default';
    const config = parseCacheConfig(resolved.config.cache, `${where}.cache`, resolved.config.storage);
    return { ctx: createCacheContext(config, { env: io.env, where: `${where}.cache.storage` }), close: () => resolved.close() };
  } catch (err) {
    await resolved.close();
    throw err;
  }
}

function requireChannel(value: string | undefined, command: string): string {
  if (!value) throw new UsageError(`${command}: --channel is required`);
  return value;
}

async function publishCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { values: ['channel', 'json', 'origin', 'config'] }, 'cache publish');
  if (parsed.positionals.length) throw new UsageError(`cache publish: unexpected argument "${parsed.positionals[0]}"`);
  const channel = requireChannel(single(parsed, 'channel'), 'cache publish');
  const inline = single(parsed, 'json');
  const documents = parseDocuments(inline ?? (await readAll(io.stdin)), inline !== undefined ? '--json' : 'stdin');
  const { ctx, close } = await openChannel(single(parsed, 'config'), io);
  try {
    const publisher = new CachePublisher(ctx);
    const origin = single(parsed, 'origin') ?? defaultOrigin();
    for (const doc of documents) {
      try {
        const result = await publisher.publish(doc, { channel, origin });
        io.stdout.write(`${JSON.stringify({ sequence: result.sequence, id: result.id })}\n`);
      } catch (err) {
        if (!(err instanceof CachePublishError)) throw err;
        io.stderr.write(`ringkeeper: cache publish refused (${err.code}): ${err.message}\n`);
        // An unknown channel is a configuration mistake, as for `cache tail` and an unknown --ring.
        return err.code === 'unknown_channel' ? EXIT_USAGE : EXIT_FAILED;
      }
    }
    return EXIT_OK;
  } finally {
    await close();
  }
}

/** One JSON document, or NDJSON (one per non-empty line). */
function parseDocuments(text: string, where: string): unknown[] {
  if (!text.trim()) throw new UsageError(`cache publish: ${where} is empty (give an envelope or instructions as JSON)`);
  try {
    return [JSON.parse(text.replace(/^\uFEFF/, ''))];
  } catch {
    // maybe NDJSON
  }
  return text
    .split(/\r?\n/)
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new UsageError(`cache publish: ${where} is not JSON (line ${n})`);
      }
    });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function tailCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { values: ['channel', 'instance', 'config'], booleans: ['json'] }, 'cache tail');
  if (parsed.positionals.length) throw new UsageError(`cache tail: unexpected argument "${parsed.positionals[0]}"`);
  const channel = requireChannel(single(parsed, 'channel'), 'cache tail');
  const json = parsed.booleans.has('json');
  const given = single(parsed, 'instance');
  const instance = given ?? `tail-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const { ctx, close } = await openChannel(single(parsed, 'config'), io);
  try {
    if (!ctx.channels.has(channel)) throw new ConfigError(`--channel`, `channel "${channel}" is not configured (configured: ${[...ctx.channels].join(', ')})`);
    const store = given ? undefined : new MemorySequenceStore();
    const subscriber = new CacheSubscriber({
      context: ctx,
      channel,
      instance,
      store: store ?? new FileSequenceStore(path.join(io.cwd, '.ringkeeper', 'cache', `${frontEndQueueName(ctx.config.frontEndQueuePrefix, channel, instance)}.json`)),
      apply: (e) => {
        if (json) {
          io.stdout.write(`${JSON.stringify({ sequence: e.sequence, id: e.id, channel: e.channel, instructions: e.instructions })}\n`);
        } else {
          for (const instruction of e.instructions) io.stdout.write(`#${e.sequence} ${e.channel} ${describeInstruction(instruction)}  (${e.origin}, ${e.createdAt})\n`);
        }
      },
      onColdBoot: (info) => void io.stderr.write(`ringkeeper: cache tail: cold boot (${info.reason}): ${info.lastApplied} -> ${info.skippedTo}\n`),
      onError: (err, where) => void io.stderr.write(`ringkeeper: cache tail: ${where}: ${describeStorageError(err)}\n`),
    });
    await subscriber.start();
    io.stderr.write(`ringkeeper: tailing ${channel} as ${instance} (queue ${subscriber.queueName}) after sequence ${subscriber.lastApplied}\n`);
    await new Promise<void>((resolve) => {
      if (!io.signal || io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    // A throwaway tail never returns: remove its queue now rather than after the stale timeout.
    await subscriber.stop({ unregister: !given });
    return EXIT_OK;
  } finally {
    await close();
  }
}
