import { CACHE_PROTOCOL_VERSION, MAX_INLINE_MESSAGE_BYTES, utf8Length, type FrontEndEntry, type FrontEndMessage, type JournalEntry } from './CacheEnvelope';
import type { CacheContext } from './CacheContext';
import { silentLog, type CacheLog } from './CacheLog';
import { classifyEnvelope, classifyInstructionMessage, messageText, type ClassifiedMessage, type Rejection } from './classifyInstructionMessage';
import { JournalEntryInvalidError, streamToString } from './Journal';
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
  | { outcome: 'delivered'; channel: string; sequence: number; id: string; form: 'inline' | 'inJournal' | 'void'; frontEnds: number; failed: string[] }
  | { outcome: 'rejected'; code: Rejection['code']; reason: string };

export interface CacheFanOutOptions {
  /** How long a channel's list of live front-ends is reused (a new front-end's first instructions may then come from the journal instead). */
  frontEndCacheMs?: number;
  /** How long an entry waits for others to share its front-end messages (default 10 ms). */
  deliveryLingerMs?: number;
  now?: () => Date;
}

interface DeliveryReport {
  queues: number;
  gone: number;
  failed: string[];
}

interface PendingBatch {
  entries: FrontEndEntry[];
  bytes: number;
  waiters: Array<{ resolve(report: DeliveryReport): void; reject(err: unknown): void }>;
  timer?: NodeJS.Timeout;
}

/** Room for the message wrapper around the entries. */
const ENVELOPE_OVERHEAD = 256;

/** Raised when no live front-end could be reached; the host retries the message. */
export class FanOutDeliveryError extends Error {
  constructor(channel: string, sequence: number, failures: string[]) {
    super(`fan-out of ${channel}#${sequence} reached no front-end: ${failures.join('; ')}`);
    this.name = 'FanOutDeliveryError';
  }
}

/**
 * The queue-triggered fan-out. Messages that can never succeed are written to the rejected queue
 * and the handler returns (one attempt, not maxDequeueCount); transient failures throw so the host
 * retries. Every delivery is a copy of a journal entry, so a front-end that misses one fills the
 * gap from the journal; that is why one unreachable front-end never fails the others.
 */
export class CacheFanOut {
  private readonly frontEndCache = new Map<string, { at: number; queues: Promise<string[]> }>();
  private readonly pending = new Map<string, PendingBatch>();
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
    if (message.kind === 'claim') message = await this.openClaim(message.blob, options);
    switch (message.kind) {
      case 'rejected':
        return this.reject(message, input, invocation, log);
      case 'notice':
        return this.deliver(message.notice.channel, message.notice.sequence, input, invocation, log);
      case 'envelope': {
        // Enqueued directly: journal it here (idempotent on id), then deliver like any entry.
        const appended = await this.ctx.journal.append(message.envelope, { now: this.now() });
        if (appended.voidSequence !== undefined) await this.deliver(message.envelope.channel, appended.voidSequence, input, invocation, log);
        return this.deliver(message.envelope.channel, appended.sequence, input, invocation, log);
      }
      default:
        throw new Error('unreachable');
    }
  }

  private async openClaim(blob: string, options: { channels: ReadonlySet<string>; maxEnvelopeBytes: number }): Promise<ClassifiedMessage> {
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
    return classifyEnvelope(value, utf8Length(text), options);
  }

  private async reject(rejection: Rejection, input: unknown, invocation: FanOutInvocation, log: CacheLog): Promise<FanOutOutcome> {
    await recordRejection(this.ctx, { code: rejection.code, reason: rejection.reason, source: 'instructions-queue', original: messageText(input), dequeueCount: invocation.dequeueCount }, this.now());
    log.warn(`cache: rejected an instructions-queue message (${rejection.code}): ${rejection.reason}; moved to ${this.ctx.config.rejectedQueue}`);
    return { outcome: 'rejected', code: rejection.code, reason: rejection.reason };
  }

  /** The front-end entry for a journal entry: inline, a journal reference when too large, or void. Undefined when there is no entry. */
  private async frontEndEntry(channel: string, sequence: number, log: CacheLog): Promise<{ entry: FrontEndEntry; bytes: number; form: 'inline' | 'inJournal' | 'void' } | undefined> {
    const sized = (entry: FrontEndEntry, form: 'inline' | 'inJournal' | 'void') => ({ entry, form, bytes: utf8Length(JSON.stringify(entry)) });
    let journaled: JournalEntry | undefined;
    try {
      journaled = await this.ctx.journal.read(channel, sequence);
    } catch (err) {
      if (!(err instanceof JournalEntryInvalidError)) throw err;
      log.error(`cache: ${err.message}; delivered as void`);
      return sized({ sequence, id: '00000000-0000-0000-0000-000000000000', void: true }, 'void');
    }
    if (!journaled) return undefined;
    const id = journaled.envelope.id;
    if (!(await this.ctx.journal.isCommitted(journaled))) return sized({ sequence, id, void: true }, 'void');
    const inline = sized({ sequence, id, envelope: journaled.envelope }, 'inline');
    return inline.bytes <= MAX_INLINE_MESSAGE_BYTES - ENVELOPE_OVERHEAD ? inline : sized({ sequence, id, inJournal: true }, 'inJournal');
  }

  private async deliver(channel: string, sequence: number, input: unknown, invocation: FanOutInvocation, log: CacheLog): Promise<FanOutOutcome> {
    const delivery = await this.frontEndEntry(channel, sequence, log);
    if (!delivery) {
      return this.reject({ kind: 'rejected', code: 'journal_entry_not_found', reason: `channel ${channel} has no journal entry ${sequence} (pruned, or never written)` }, input, invocation, log);
    }
    const report = await this.batch(channel, delivery.entry, delivery.bytes);
    if (report.failed.length > 0 && report.failed.length === report.queues - report.gone) throw new FanOutDeliveryError(channel, sequence, report.failed);
    if (report.failed.length > 0) log.warn(`cache: ${channel}#${sequence} not delivered to ${report.failed.length} of ${report.queues} front-ends (they fill the gap from the journal): ${report.failed.join('; ')}`);
    return { outcome: 'delivered', channel, sequence, id: delivery.entry.id, form: delivery.form, frontEnds: report.queues - report.gone - report.failed.length, failed: report.failed };
  }

  /**
   * Entries of concurrent invocations (the host runs a batch in parallel) that are ready within
   * `deliveryLingerMs` travel in one message per front-end: fewer sends, receives and deletes.
   * Every invocation still waits for the send that carries its entry.
   */
  private batch(channel: string, entry: FrontEndEntry, bytes: number): Promise<DeliveryReport> {
    let batch = this.pending.get(channel);
    if (batch && batch.bytes + bytes > MAX_INLINE_MESSAGE_BYTES - ENVELOPE_OVERHEAD) {
      void this.flush(channel, batch);
      batch = undefined;
    }
    if (!batch) {
      const created: PendingBatch = { entries: [], bytes: 0, waiters: [] };
      created.timer = setTimeout(() => void this.flush(channel, created), this.deliveryLingerMs);
      this.pending.set(channel, created);
      batch = created;
    }
    batch.entries.push(entry);
    batch.bytes += bytes + 1;
    const b = batch;
    return new Promise((resolve, reject) => b.waiters.push({ resolve, reject }));
  }

  private async flush(channel: string, batch: PendingBatch): Promise<void> {
    if (this.pending.get(channel) === batch) this.pending.delete(channel);
    clearTimeout(batch.timer);
    try {
      const entries = [...batch.entries].sort((a, b) => a.sequence - b.sequence);
      const message: FrontEndMessage = { version: CACHE_PROTOCOL_VERSION, channel, entries };
      const queues = await this.liveQueues(channel);
      const encoded = encodeQueueMessage(message);
      const results = await Promise.allSettled(queues.map((q) => this.ctx.queueService.getQueueClient(q).sendMessage(encoded)));
      const report: DeliveryReport = { queues: queues.length, gone: 0, failed: [] };
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        if (isNotFound(r.reason)) {
          report.gone++; // the front-end went away; it catches up from the journal if it returns
          this.frontEndCache.delete(channel);
        } else {
          report.failed.push(`${queues[i]}: ${describeStorageError(r.reason)}`);
        }
      });
      batch.waiters.forEach((w) => w.resolve(report));
    } catch (err) {
      batch.waiters.forEach((w) => w.reject(err));
    }
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
