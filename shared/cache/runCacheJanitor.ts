import type { CacheContext } from './CacheContext';
import { silentLog, type CacheLog } from './CacheLog';
import { claimsPrefix, firstOfBatchName, journalEntryPrefix } from './journalNames';
import { listFrontEnds } from './listFrontEnds';
import { describeStorageError, isNotFound } from './storageErrors';

export interface ChannelJanitorReport {
  channel: string;
  /** Newest sequence in the journal. */
  head: number;
  /** First sequence of the oldest batch still in the journal after pruning (undefined: none listed). */
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
 * timeout, prunes journal batches older than the retention from the oldest (never the batch the
 * head hint names nor any after it, so the chain a publisher or front-end follows from the hint
 * is never cut), prunes the channel's claim checks past retention, and reports figures.
 * One channel's failure does not stop the others; it is reported in its `error`.
 */
export async function runCacheJanitor(ctx: CacheContext, options: { now?: Date; log?: CacheLog } = {}): Promise<CacheJanitorReport> {
  const now = options.now ?? new Date();
  const log = options.log ?? silentLog;
  const channels: ChannelJanitorReport[] = [];
  let claimsPruned = 0;
  for (const { name } of ctx.config.channels) {
    const report: ChannelJanitorReport = { channel: name, head: 0, oldest: undefined, pruned: 0, frontEnds: { live: 0, stale: 0, deleted: [] } };
    try {
      await sweepFrontEnds(ctx, name, now, report);
      await pruneJournal(ctx, name, now, report);
      claimsPruned += await pruneClaims(ctx, name, now);
    } catch (err) {
      report.error = describeStorageError(err);
      log.error(`cache janitor: channel ${name}: ${report.error}`);
    }
    channels.push(report);
  }
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
  report.head = (await journal.head(channel, { listWhenNoHint: true })).last;
  if (!hint) return; // without a hint nobody can say which batches a reader still starts from: keep everything
  const cutoff = now.getTime() - ctx.config.retentionHours * 3_600_000;
  const doomed: string[] = [];
  try {
    outer: for await (const page of journal.container.listBlobsFlat({ prefix: journalEntryPrefix(channel) }).byPage({ maxPageSize: 1000 })) {
      for (const item of page.segment.blobItems) {
        const first = firstOfBatchName(item.name);
        if (first === undefined) continue;
        if (first >= hint.first || item.properties.lastModified.getTime() >= cutoff) {
          report.oldest = first;
          break outer;
        }
        doomed.push(item.name);
      }
    }
  } catch (err) {
    if (isNotFound(err)) return; // no journal yet
    throw err;
  }
  await deleteAll(ctx, doomed);
  report.pruned = doomed.length;
}

async function pruneClaims(ctx: CacheContext, channel: string, now: Date): Promise<number> {
  const cutoff = now.getTime() - ctx.config.retentionHours * 3_600_000;
  const doomed: string[] = [];
  try {
    for await (const item of ctx.journal.container.listBlobsFlat({ prefix: claimsPrefix(channel) })) {
      if (item.properties.lastModified.getTime() < cutoff) doomed.push(item.name);
    }
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  await deleteAll(ctx, doomed);
  return doomed.length;
}

/** Oldest first, in parallel chunks. */
async function deleteAll(ctx: CacheContext, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += DELETE_CONCURRENCY) {
    await Promise.all(names.slice(i, i + DELETE_CONCURRENCY).map((name) => ctx.journal.container.getBlobClient(name).deleteIfExists()));
  }
}
