import type { CacheContext } from './CacheContext';
import { silentLog, type CacheLog } from './CacheLog';
import { CLAIMS_PREFIX, idIndexName, journalEntryPrefix, sequenceOfEntryName } from './journalNames';
import { listFrontEnds } from './listFrontEnds';
import { describeStorageError, isNotFound } from './storageErrors';

export interface ChannelJanitorReport {
  channel: string;
  /** Newest sequence in the journal. */
  head: number;
  /** Oldest sequence still in the journal after pruning (undefined: empty). */
  oldest: number | undefined;
  pruned: number;
  frontEnds: { live: number; stale: number; deleted: string[] };
  error?: string;
}

export interface CacheJanitorReport {
  at: string;
  channels: ChannelJanitorReport[];
  claimsPruned: number;
  /** Approximate number of messages waiting in the rejected queue. */
  rejected: number | undefined;
}

const DELETE_CONCURRENCY = 32;

/**
 * Housekeeping, per channel: deletes front-end queues whose heartbeat is older than the stale
 * timeout, prunes journal entries older than the retention (never the newest, never at or above
 * the head hint, so publishers can never re-create a pruned sequence), and reports figures.
 * One channel's failure does not stop the others; it is reported in its `error`.
 */
export async function runCacheJanitor(ctx: CacheContext, options: { now?: Date; log?: CacheLog } = {}): Promise<CacheJanitorReport> {
  const now = options.now ?? new Date();
  const log = options.log ?? silentLog;
  const channels: ChannelJanitorReport[] = [];
  for (const { name } of ctx.config.channels) {
    const report: ChannelJanitorReport = { channel: name, head: 0, oldest: undefined, pruned: 0, frontEnds: { live: 0, stale: 0, deleted: [] } };
    try {
      await sweepFrontEnds(ctx, name, now, report);
      await pruneJournal(ctx, name, now, report);
    } catch (err) {
      report.error = describeStorageError(err);
      log.error(`cache janitor: channel ${name}: ${report.error}`);
    }
    channels.push(report);
  }
  const claimsPruned = await pruneClaims(ctx, now).catch((err) => {
    log.error(`cache janitor: claims: ${describeStorageError(err)}`);
    return 0;
  });
  const rejected = await ctx.queueService
    .getQueueClient(ctx.config.rejectedQueue)
    .getProperties()
    .then((p) => p.approximateMessagesCount)
    .catch((err) => (isNotFound(err) ? 0 : undefined));
  return { at: now.toISOString(), channels, claimsPruned, rejected };
}

async function sweepFrontEnds(ctx: CacheContext, channel: string, now: Date, report: ChannelJanitorReport): Promise<void> {
  for (const fe of await listFrontEnds(ctx, channel, now)) {
    if (fe.live) {
      report.frontEnds.live++;
      continue;
    }
    report.frontEnds.stale++;
    await ctx.queueService.getQueueClient(fe.queueName).deleteIfExists();
    report.frontEnds.deleted.push(fe.queueName);
  }
}

async function pruneJournal(ctx: CacheContext, channel: string, now: Date, report: ChannelJanitorReport): Promise<void> {
  const journal = ctx.journal;
  const hint = await journal.readHint(channel);
  const head = await journal.findHead(channel, hint.sequence);
  report.head = head;
  const keepFrom = Math.min(hint.sequence, head); // everything at or above stays
  const cutoff = now.getTime() - ctx.config.retentionHours * 3_600_000;
  const doomed: Array<{ name: string; sequence: number; id?: string }> = [];
  try {
    outer: for await (const page of journal.container.listBlobsFlat({ prefix: journalEntryPrefix(channel), includeMetadata: true }).byPage({ maxPageSize: 1000 })) {
      for (const item of page.segment.blobItems) {
        const sequence = sequenceOfEntryName(item.name);
        if (sequence === undefined) continue;
        if (sequence >= keepFrom || item.properties.lastModified.getTime() >= cutoff) {
          report.oldest = sequence;
          break outer;
        }
        doomed.push({ name: item.name, sequence, id: item.metadata?.envelopeid });
      }
    }
  } catch (err) {
    if (isNotFound(err)) return; // no journal yet
    throw err;
  }
  for (let i = 0; i < doomed.length; i += DELETE_CONCURRENCY) {
    await Promise.all(doomed.slice(i, i + DELETE_CONCURRENCY).map(async (d) => {
      // Entry first: a front-end that still wants it must see it gone (cold boot), not re-settle its id.
      await journal.container.getBlobClient(d.name).deleteIfExists();
      if (d.id && (await journal.owner(channel, d.id)) === d.sequence) await journal.container.getBlobClient(idIndexName(channel, d.id)).deleteIfExists();
    }));
  }
  report.pruned = doomed.length;
}

async function pruneClaims(ctx: CacheContext, now: Date): Promise<number> {
  const cutoff = now.getTime() - ctx.config.retentionHours * 3_600_000;
  const doomed: string[] = [];
  try {
    for await (const item of ctx.journal.container.listBlobsFlat({ prefix: CLAIMS_PREFIX })) {
      if (item.properties.lastModified.getTime() < cutoff) doomed.push(item.name);
    }
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  for (let i = 0; i < doomed.length; i += DELETE_CONCURRENCY) {
    await Promise.all(doomed.slice(i, i + DELETE_CONCURRENCY).map((name) => ctx.journal.container.getBlobClient(name).deleteIfExists()));
  }
  return doomed.length;
}
