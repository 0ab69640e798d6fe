import type { QueueClient } from '@azure/storage-queue';
import type { CacheContext } from './CacheContext';
import { listFrontEnds } from './listFrontEnds';
import { parseFrontEndMessage } from './parseFrontEndMessage';
import { decodeQueueMessage } from './queueMessageCodec';
import { describeStorageError, isNotFound } from './storageErrors';

/** Peek returns at most 32 messages: enough to find the oldest waiting one in a FIFO-ish queue. */
const PEEK = 32;

export interface FrontEndStatus {
  instance: string;
  queueName: string;
  heartbeat: string | null;
  live: boolean;
  /** Approximate number of messages waiting in its queue (not yet applied and deleted). */
  waiting: number;
  /** Last sequence it has applied, as seen from its queue: just below the oldest sequence waiting there, else the head. */
  position: number;
  /** head - position. */
  behind: number;
  /** Age of the oldest message waiting in its queue, in seconds (0 when none): grows while it does not consume. */
  lagSeconds: number;
}

export interface ChannelStatus {
  channel: string;
  /** Newest journaled sequence (0: empty journal). */
  head: number;
  frontEnds: FrontEndStatus[];
  /** A failure reading this channel (the others are still reported). */
  error?: string;
}

export interface QueueBacklog {
  queue: string;
  /** Approximate message count (undefined: could not be read). */
  count: number | undefined;
  /** Age of the oldest visible message in seconds (0 when none). */
  oldestSeconds: number;
  /** Why the queue could not be read (then count is undefined). */
  error?: string;
}

export interface CacheStatus {
  at: string;
  channels: ChannelStatus[];
  /** The fan-out's input: messages the fan-out has not yet handled. */
  instructions: QueueBacklog;
  rejected: QueueBacklog & {
    /** Rejected messages received in the hour before `at`; a lower bound when `lastHourIsLowerBound`. */
    lastHour: number;
    lastHourIsLowerBound: boolean;
  };
}

/**
 * What operators ask of the channel: the head, each front-end's position and lag, and the backlog
 * of the instructions and rejected queues. Reads only (list, get properties, peek): never receives,
 * so it never hides or delays a message.
 */
export async function readCacheStatus(ctx: CacheContext, now = new Date()): Promise<CacheStatus> {
  const channels: ChannelStatus[] = [];
  for (const { name } of ctx.config.channels) channels.push(await readChannelStatus(ctx, name, now));
  const instructions = await backlog(ctx.queueService.getQueueClient(ctx.config.instructionsQueue), now);
  const rejectedQueue = ctx.queueService.getQueueClient(ctx.config.rejectedQueue);
  const rejected = await backlog(rejectedQueue, now);
  const hourAgo = now.getTime() - 3_600_000;
  const recent = rejected.peeked.filter((t) => t >= hourAgo).length;
  // Peek sees the oldest messages; the ones beyond it are newer (queues are roughly FIFO). If a peeked
  // one is recent, so are they; if none is, they may or may not be: then the count is a lower bound.
  const unseen = Math.max(0, (rejected.count ?? 0) - rejected.peeked.length);
  return {
    at: now.toISOString(),
    channels,
    instructions: { queue: instructions.queue, count: instructions.count, oldestSeconds: instructions.oldestSeconds, error: instructions.error },
    rejected: {
      queue: rejected.queue,
      count: rejected.count,
      oldestSeconds: rejected.oldestSeconds,
      error: rejected.error,
      lastHour: recent > 0 ? recent + unseen : 0,
      lastHourIsLowerBound: recent === 0 && unseen > 0,
    },
  };
}

export async function readChannelStatus(ctx: CacheContext, channel: string, now = new Date()): Promise<ChannelStatus> {
  try {
    const { last: head } = await ctx.journal.head(channel, { listWhenNoHint: true });
    const frontEnds = await listFrontEnds(ctx, channel, now);
    const statuses = await Promise.all(
      frontEnds.map(async (fe): Promise<FrontEndStatus> => {
        const queue = ctx.queueService.getQueueClient(fe.queueName);
        const waiting = await backlog(queue, now, (text) => lowestSequence(text, channel));
        const position = waiting.lowest === undefined ? head : Math.min(head, waiting.lowest - 1);
        return {
          instance: fe.instance,
          queueName: fe.queueName,
          heartbeat: fe.heartbeat?.toISOString() ?? null,
          live: fe.live,
          waiting: waiting.count ?? 0,
          position,
          behind: Math.max(0, head - position),
          lagSeconds: waiting.oldestSeconds,
        };
      }),
    );
    return { channel, head, frontEnds: statuses };
  } catch (err) {
    return { channel, head: 0, frontEnds: [], error: describeStorageError(err) };
  }
}

async function backlog(queue: QueueClient, now: Date, sequenceOf?: (text: string) => number | undefined): Promise<QueueBacklog & { peeked: number[]; lowest?: number; error?: string }> {
  try {
    const [properties, peek] = await Promise.all([queue.getProperties(), queue.peekMessages({ numberOfMessages: PEEK })]);
    const inserted = peek.peekedMessageItems.map((m) => m.insertedOn.getTime());
    const sequences = sequenceOf ? peek.peekedMessageItems.map((m) => sequenceOf(m.messageText)).filter((s): s is number => s !== undefined) : [];
    const oldest = inserted.length > 0 ? Math.min(...inserted) : undefined;
    return {
      queue: queue.name,
      count: Math.max(properties.approximateMessagesCount ?? 0, inserted.length),
      oldestSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((now.getTime() - oldest) / 1000)),
      peeked: inserted,
      lowest: sequences.length > 0 ? Math.min(...sequences) : undefined,
    };
  } catch (err) {
    if (isNotFound(err)) return { queue: queue.name, count: 0, oldestSeconds: 0, peeked: [] };
    // Front-end queues: the channel reports the failure. The shared queues: an unknown count, so the rest still shows.
    if (sequenceOf) throw err;
    return { queue: queue.name, count: undefined, oldestSeconds: 0, peeked: [], error: describeStorageError(err) };
  }
}

function lowestSequence(messageText: string, channel: string): number | undefined {
  const message = parseFrontEndMessage(decodeQueueMessage(messageText));
  if (typeof message === 'string' || message.channel !== channel) return undefined;
  return Math.min(...message.batches.map((b) => b.first));
}
