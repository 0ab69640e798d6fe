import { hostname } from 'node:os';
import { CACHE_PROTOCOL_VERSION, MAX_INLINE_MESSAGE_BYTES, utf8Length, type CacheEnvelope, type ClaimCheckMessage } from './CacheEnvelope';
import type { CacheContext } from './CacheContext';
import { CachePublishError } from './CachePublishError';
import { claimName } from './journalNames';
import { encodeQueueMessage } from './queueMessageCodec';
import { recordRejection } from './recordRejection';
import { toEnvelope } from './toEnvelope';
import { silentLog, type CacheLog } from './CacheLog';

export interface PublishResult {
  sequence: number;
  id: string;
  /** True when this id had been published before; the earlier sequence is returned. */
  duplicate: boolean;
}

export interface PublishOptions {
  channel: string;
  /** Fills a missing envelope origin. */
  origin?: string;
}

/** Default origin: this process, Umbraco-LocalIdentity-like (machine, pid). */
export function defaultOrigin(): string {
  return `${hostname()}/ringkeeper [P${process.pid}]`;
}

/**
 * Publishes envelopes in the channel's total order: journal first (the sequence is fixed when
 * publish returns, so awaited publishes are applied in call order), then a small notice per
 * journal batch on the instructions queue for the fan-out. Idempotent on the envelope id within
 * the id window (cache.idempotencyMinutes), across processes.
 */
export class CachePublisher {
  constructor(
    private readonly ctx: CacheContext,
    private readonly log: CacheLog = silentLog,
  ) {}

  /** `input`: an envelope, `{instructions}`, an array of instructions or one instruction. */
  async publish(input: unknown, options: PublishOptions): Promise<PublishResult> {
    const envelope = await this.accept(input, options);
    // Group commit: concurrent publishes share one journal write and one notice per batch.
    const result = await this.ctx.commits.commit(envelope);
    return { sequence: result.sequence, id: result.id, duplicate: result.duplicate };
  }

  /** Validates and normalises; refusals are thrown and also recorded in the rejected queue. */
  async accept(input: unknown, options: PublishOptions): Promise<CacheEnvelope> {
    const original = typeof input === 'string' ? input : (JSON.stringify(input) ?? '');
    if (!this.ctx.channels.has(options.channel)) {
      await this.refuse(new CachePublishError('unknown_channel', 404, [`channel "${options.channel}" is not configured (configured: ${[...this.ctx.channels].join(', ')})`]), original);
    }
    const result = toEnvelope(input, { channel: options.channel, origin: options.origin ?? defaultOrigin() });
    if (!result.ok) await this.refuse(new CachePublishError(result.code, 400, result.errors), original);
    const envelope = (result as { envelope: CacheEnvelope }).envelope;
    const bytes = utf8Length(JSON.stringify(envelope));
    if (bytes > this.ctx.config.maxEnvelopeBytes) {
      await this.refuse(new CachePublishError('envelope_too_large', 413, [`the envelope is ${bytes} bytes; the maximum is ${this.ctx.config.maxEnvelopeBytes}`]), original);
    }
    return envelope;
  }

  /**
   * The queue-only path (for publishers that cannot reach the journal API): enqueue the envelope
   * on the instructions queue, inline or, when too large for a queue message, by claim check. It
   * is journaled by the fan-out, so its place in the order is the fan-out's, not the call's.
   */
  async enqueue(envelope: CacheEnvelope): Promise<void> {
    const text = JSON.stringify(envelope);
    await this.ctx.ensureQueue(this.ctx.config.instructionsQueue);
    const queue = this.ctx.queueService.getQueueClient(this.ctx.config.instructionsQueue);
    if (utf8Length(text) <= MAX_INLINE_MESSAGE_BYTES) {
      await queue.sendMessage(encodeQueueMessage(text));
      return;
    }
    const blob = claimName(envelope.channel, envelope.id);
    await this.ctx.journal.ensureContainer();
    await this.ctx.journal.container.getBlockBlobClient(blob).upload(text, utf8Length(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
    const claim: ClaimCheckMessage = { version: CACHE_PROTOCOL_VERSION, claimCheck: { blob } };
    await queue.sendMessage(encodeQueueMessage(claim));
  }

  private async refuse(error: CachePublishError, original: string): Promise<never> {
    try {
      await recordRejection(this.ctx, { code: error.code === 'not_json' ? 'not_json' : error.code, reason: error.message, source: 'publish', original });
    } catch (err) {
      // The caller still gets the refusal; the audit copy is best effort.
      this.log.warn(`cache: could not record a refused publish in ${this.ctx.config.rejectedQueue}: ${(err as Error).message}`);
    }
    this.log.warn(`cache: refused publish (${error.code}): ${error.message}`);
    throw error;
  }
}
