import { CACHE_PROTOCOL_VERSION, MAX_INLINE_MESSAGE_BYTES, utf8Length, type FrontEndBatch, type FrontEndMessage, type JournalBatch } from './CacheEnvelope';
import type { CacheContext } from './CacheContext';
import { silentLog, type CacheLog } from './CacheLog';
import { classifyEnvelope, classifyInstructionMessage, messageText, type ClassifiedMessage, type Rejection } from './classifyInstructionMessage';
import { streamToString, type BatchRead } from './Journal';
import { listFrontEnds } from './listFrontEnds';
import { encodeQueueMessage } from './queueMessageCodec';
import { recordRejection } from './recordRejection';
import { describeStorageError, isNotFound } from './storageErrors';

export interface FanOutInvocation {
  /** From the trigger metadata; recorded with rejections. */
  dequeueCount?: number;
  log?: CacheLog;
}

export type FanOutOutcome =
  | { outcome: 'delivered'; channel: string; first: number; last: number; form: 'inline' | 'inJournal' | 'void'; frontEnds: number; failed: string[] }
  | { outcome: 'rejected'; code: Rejection['code']; reason: string };

export interface CacheFanOutOptions {
  /** How long a channel's list of live front-ends is reused (a new front-end's first instructions may then come from the journal instead). */
  frontEndCacheMs?: number;
  /** How long the first batch of a delivery run waits for others to share its front-end messages (default 10 ms). */
  deliveryLingerMs?: number;
  now?: () => Date;
}

interface DeliveryReport {
  queues: number;
  gone: number;
  failed: string[];
}

interface Waiter {
  resolve(report: DeliveryReport): void;
  reject(err: unknown): void;
}

/** Batches of one channel waiting for the next delivery run, by first sequence (a batch notified twice is sent once). */
interface ChannelDeliveries {
  pending: Map<number, { batch: FrontEndBatch; bytes: number; waiters: Waiter[] }>;
  timer?: NodeJS.Timeout;
  running: boolean;
}

/** Room for the message wrapper around the batches. */
const ENVELOPE_OVERHEAD = 256;
const MESSAGE_ROOM = MAX_INLINE_MESSAGE_BYTES - ENVELOPE_OVERHEAD;

/** Raised when no live front-end could be reached; the host retries the message. */
export class FanOutDeliveryError extends Error {
  constructor(channel: string, first: number, failures: string[]) {
    super(`fan-out of ${channel}#${first} reached no front-end: ${failures.join('; ')}`);
    this.name = 'FanOutDeliveryError';
  }
}

/**
 * The queue-triggered fan-out. Messages that can never succeed are written to the rejected queue
 * and the handler returns (one attempt, not maxDequeueCount); transient failures throw so the host
 * retries. Every delivery is a copy of a journal batch, so a front-end that misses one fills the
 * gap from the journal; that is why one unreachable front-end never fails the others.
 */
export class CacheFanOut {
  private readonly frontEndCache = new Map<string, { at: number; queues: Promise<string[]> }>();
  private readonly deliveries = new Map<string, ChannelDeliveries>();
  private readonly frontEndCacheMs: number;
  private readonly deliveryLingerMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly ctx: CacheContext,
    options: CacheFanOutOptions = {},
  ) {
    this.frontEndCacheMs = options.frontEndCacheMs ?? 2_000;
    this.deliveryLingerMs = options.deliveryLingerMs ?? 10;
    this.now = options.now ?? (() => new Date());
  }

  async handle(input: unknown, invocation: FanOutInvocation = {}): Promise<FanOutOutcome> {
    const log = invocation.log ?? silentLog;
    const options = { channels: this.ctx.channels, maxEnvelopeBytes: this.ctx.config.maxEnvelopeBytes };
    let message: ClassifiedMessage = classifyInstructionMessage(input, options);
    if (!this.ctx.config.acceptDirectEnvelopes && (message.kind === 'envelope' || message.kind === 'claim')) {
      // Checked before the claim blob is opened: a refused claim check reads nothing.
      const what = message.kind === 'claim' ? `a claim check (${message.blob})` : `an envelope of channel ${message.envelope.channel}`;
      message = {
        kind: 'rejected',
        code: 'direct_envelope_refused',
        reason: `${what} was enqueued directly, and this fan-out accepts only notices of journaled batches (cache.acceptDirectEnvelopes is false); publish through the journal instead`,
      };
    }
    if (message.kind === 'claim') message = await this.openClaim(message.blob, message.channel, options);
    switch (message.kind) {
      case 'rejected':
        return this.reject(message, input, invocation, log);
      case 'notice': {
        const { channel, first, last } = message.notice;
        return this.deliver(channel, first, last, await this.ctx.journal.readBatch(channel, first), input, invocation, log);
      }
      case 'envelope': {
        // Enqueued directly: journal it here (group commit, idempotent on id), then deliver its batch.
        const { channel } = message.envelope;
        const committed = await this.ctx.commits.commit(message.envelope, { announce: false });
        const { first, last } = committed.batch;
        return this.deliver(channel, first, last, await this.ctx.journal.readBatch(channel, first), input, invocation, log);
      }
      default:
        throw new Error('unreachable');
    }
  }

  private async openClaim(blob: string, channel: string, options: { channels: ReadonlySet<string>; maxEnvelopeBytes: number }): Promise<ClassifiedMessage> {
    const client = this.ctx.journal.container.getBlobClient(blob);
    let text: string;
    try {
      const props = await client.getProperties();
      if ((props.contentLength ?? 0) > options.maxEnvelopeBytes) {
        return { kind: 'rejected', code: 'envelope_too_large', reason: `the claim-checked envelope ${blob} is ${props.contentLength} bytes; the maximum is ${options.maxEnvelopeBytes}` };
      }
      text = await streamToString((await client.download()).readableStreamBody);
    } catch (err) {
      if (isNotFound(err)) return { kind: 'rejected', code: 'claim_not_found', reason: `the claim-check blob ${blob} does not exist in container ${this.ctx.config.journalContainer}` };
      throw err;
    }
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
      return { kind: 'rejected', code: 'not_json', reason: `the claim-check blob ${blob} is not JSON` };
    }
    const classified = classifyEnvelope(value, utf8Length(text), options);
    if (classified.kind === 'envelope' && classified.envelope.channel !== channel) {
      return { kind: 'rejected', code: 'invalid_claim_check', reason: `the claim-check blob ${blob} holds an envelope of channel "${classified.envelope.channel}", not "${channel}"` };
    }
    return classified;
  }

  private async reject(rejection: Rejection, input: unknown, invocation: FanOutInvocation, log: CacheLog): Promise<FanOutOutcome> {
    await recordRejection(this.ctx, { code: rejection.code, reason: rejection.reason, source: 'instructions-queue', original: messageText(input), dequeueCount: invocation.dequeueCount }, this.now());
    log.warn(`cache: rejected an instructions-queue message (${rejection.code}): ${rejection.reason}; moved to ${this.ctx.config.rejectedQueue}`);
    return { outcome: 'rejected', code: rejection.code, reason: rejection.reason };
  }

  private async deliver(channel: string, first: number, last: number, read: BatchRead, input: unknown, invocation: FanOutInvocation, log: CacheLog): Promise<FanOutOutcome> {
    let batch: FrontEndBatch;
    let form: 'inline' | 'inJournal' | 'void';
    if (read.kind === 'batch' && read.batch.last === last) {
      ({ batch, form } = frontEndBatch(read.batch));
    } else if (read.kind === 'invalid' && read.last === last) {
      log.error(`cache: journal batch ${channel}#${first}..${last} is not valid (${read.problem}); delivered as void`);
      batch = { first, last, void: true };
      form = 'void';
    } else {
      const what = read.kind === 'missing' ? 'no journal batch' : `no journal batch ending at ${last}`;
      return this.reject(
        { kind: 'rejected', code: 'journal_entry_not_found', reason: `channel ${channel} has ${what} starting at ${first} (pruned, never written, or another extent)` },
        input,
        invocation,
        log,
      );
    }
    const report = await this.enqueueDelivery(channel, batch);
    if (report.failed.length > 0 && report.failed.length === report.queues - report.gone) throw new FanOutDeliveryError(channel, first, report.failed);
    if (report.failed.length > 0)
      log.warn(`cache: ${channel}#${first}..${last} not delivered to ${report.failed.length} of ${report.queues} front-ends (they fill the gap from the journal): ${report.failed.join('; ')}`);
    return { outcome: 'delivered', channel, first, last, form, frontEnds: report.queues - report.gone - report.failed.length, failed: report.failed };
  }

  /**
   * Batches ready while a delivery run of their channel is in flight, or within
   * `deliveryLingerMs` of the first, go out together: one message per front-end (more only past
   * 48 KiB). Runs of one channel never overlap, so the run length grows with the load. Every
   * invocation still waits for the send that carries its batch.
   */
  private enqueueDelivery(channel: string, batch: FrontEndBatch): Promise<DeliveryReport> {
    let d = this.deliveries.get(channel);
    if (!d) {
      d = { pending: new Map(), running: false };
      this.deliveries.set(channel, d);
    }
    const entry = d.pending.get(batch.first) ?? { batch, bytes: utf8Length(JSON.stringify(batch)), waiters: [] };
    d.pending.set(batch.first, entry);
    const done = new Promise<DeliveryReport>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    this.schedule(channel, d);
    return done;
  }

  private schedule(channel: string, d: ChannelDeliveries): void {
    if (d.running || d.timer || d.pending.size === 0) return;
    d.timer = setTimeout(() => {
      d.timer = undefined;
      void this.run(channel, d);
    }, this.deliveryLingerMs);
  }

  private async run(channel: string, d: ChannelDeliveries): Promise<void> {
    d.running = true;
    const taken = [...d.pending.values()].sort((a, b) => a.batch.first - b.batch.first);
    d.pending.clear();
    try {
      const report = await this.send(
        channel,
        taken.map((t) => t.batch),
      );
      taken.forEach((t) => t.waiters.forEach((w) => w.resolve(report)));
    } catch (err) {
      taken.forEach((t) => t.waiters.forEach((w) => w.reject(err)));
    } finally {
      d.running = false;
      this.schedule(channel, d);
    }
  }

  private async send(channel: string, batches: FrontEndBatch[]): Promise<DeliveryReport> {
    const messages: string[] = [];
    let current: FrontEndBatch[] = [];
    let bytes = 0;
    const close = () => {
      if (current.length === 0) return;
      const message: FrontEndMessage = { version: CACHE_PROTOCOL_VERSION, channel, batches: current };
      messages.push(encodeQueueMessage(message));
      current = [];
      bytes = 0;
    };
    for (const b of batches) {
      const size = utf8Length(JSON.stringify(b)) + 1;
      if (bytes + size > MESSAGE_ROOM) close();
      current.push(b);
      bytes += size;
    }
    close();
    const queues = await this.liveQueues(channel);
    const report: DeliveryReport = { queues: queues.length, gone: 0, failed: [] };
    await Promise.all(
      queues.map(async (q) => {
        const client = this.ctx.queueService.getQueueClient(q);
        try {
          for (const m of messages) await client.sendMessage(m);
        } catch (err) {
          if (isNotFound(err)) {
            report.gone++; // the front-end went away; it catches up from the journal if it returns
            this.frontEndCache.delete(channel);
          } else {
            report.failed.push(`${q}: ${describeStorageError(err)}`);
          }
        }
      }),
    );
    return report;
  }

  private liveQueues(channel: string): Promise<string[]> {
    const now = this.now().getTime();
    const cached = this.frontEndCache.get(channel);
    if (cached && now - cached.at < this.frontEndCacheMs) return cached.queues;
    const queues = listFrontEnds(this.ctx, channel, this.now()).then((all) => all.filter((f) => f.live).map((f) => f.queueName));
    this.frontEndCache.set(channel, { at: now, queues });
    queues.catch(() => this.frontEndCache.delete(channel));
    return queues;
  }
}

/** A journal batch as a front-end receives it: inline when it fits a message alone, else a reference to the journal. */
export function frontEndBatch(batch: JournalBatch): { batch: FrontEndBatch; form: 'inline' | 'inJournal' } {
  const inline: FrontEndBatch = { first: batch.first, last: batch.last, entries: batch.entries };
  if (utf8Length(JSON.stringify(inline)) <= MESSAGE_ROOM) return { batch: inline, form: 'inline' };
  return { batch: { first: batch.first, last: batch.last, inJournal: true }, form: 'inJournal' };
}
