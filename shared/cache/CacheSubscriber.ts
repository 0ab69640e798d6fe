import { hostname } from 'node:os';
import path from 'node:path';
import type { QueueClient } from '@azure/storage-queue';
import type { AppliedEnvelope, JournalEntry } from './CacheEnvelope';
import type { CacheContext } from './CacheContext';
import { silentLog, type CacheLog } from './CacheLog';
import { decideCatchUp, type ColdBootReason } from './decideColdBoot';
import { JournalChainError } from './Journal';
import { toQueueMetadata } from './frontEndMetadata';
import { frontEndQueueName } from './frontEndQueueName';
import { parseFrontEndMessage } from './parseFrontEndMessage';
import { decodeQueueMessage } from './queueMessageCodec';
import { AbortError } from '../async/AbortError';
import { delay } from '../async/delay';
import { BatchBuffer } from './BatchBuffer';
import { FileSequenceStore, type SequenceStore } from './SequenceStore';
import { describeStorageError, isNotFound } from './storageErrors';

export interface ColdBootInfo {
  channel: string;
  instance: string;
  reason: ColdBootReason;
  /** Position before the cold boot. */
  lastApplied: number;
  /** Position after: everything up to here is assumed reflected by the rebuild. */
  skippedTo: number;
}

export interface CacheSubscriberOptions {
  context: CacheContext;
  channel: string;
  /** Stable per front-end across restarts (its queue and state). Default: WEBSITE_INSTANCE_ID, else the host name. */
  instance?: string;
  /** Applies one envelope; called strictly in sequence order, once per sequence. A throw is reported and skipped (as Umbraco does). */
  apply(envelope: AppliedEnvelope): void | Promise<void>;
  /** Rebuild caches from the source of truth; called once per cold boot. */
  onColdBoot?(info: ColdBootInfo): void | Promise<void>;
  /** Default: a file under ./.ringkeeper/cache/ named after the queue. */
  store?: SequenceStore;
  /** This front-end's publisher origin; with skipOwnOrigin, envelopes it published are not applied (Umbraco's "originated" rule). */
  origin?: string;
  skipOwnOrigin?: boolean;
  /** Default: the channel config's coldBootThreshold (1000). */
  coldBootThreshold?: number;
  onError?(error: Error, where: string): void;
  log?: CacheLog;
  /** Queue polling backs off from min to max while idle. */
  pollMinInMs?: number;
  pollMaxInMs?: number;
  /** How long an out-of-order delivery waits for the missing ones before they are read from the journal. */
  gapWaitInMs?: number;
  /** While idle, how often the journal is checked for entries whose delivery was lost (default 10 s). */
  probeIntervalInMs?: number;
  /** Default: the channel config's heartbeatSeconds. */
  heartbeatIntervalInMs?: number;
  /** Stops receiving as stop() does (a host shutdown), after the envelope being applied; start() rejects with an AbortError if already aborted. */
  abortSignal?: AbortSignal;
}

type Pending = { kind: 'entries'; entries: JournalEntry[] } | { kind: 'inJournal' } | { kind: 'void' };

const RECEIVE_BATCH = 32;
const VISIBILITY_TIMEOUT_SECONDS = 30;

/**
 * A front-end of one channel: registers a queue (with a heartbeat in its metadata), receives the
 * fan-out's copies of journal batches, applies them strictly in sequence order exactly once per
 * process lifetime, persists its position once per batch (always a batch end, so the next batch is
 * the blob named position + 1), fills gaps from the journal and cold-boots when too far behind.
 * It only reads blobs, never writes them.
 */
export class CacheSubscriber {
  readonly channel: string;
  readonly instance: string;
  readonly queueName: string;
  private readonly ctx: CacheContext;
  private readonly queue: QueueClient;
  private readonly store: SequenceStore;
  private readonly threshold: number;
  private readonly log: CacheLog;
  private buffer = new BatchBuffer<Pending>(0);
  private loop?: Promise<void>;
  private heartbeatTimer?: NodeJS.Timeout;
  /** Aborted by stop() or by the options' signal; every wait of the loop listens to it. */
  private signal = AbortSignal.abort();
  private stopping?: AbortController;
  private gapSince?: number;
  private lastJournalCheck = 0;
  private reRegister = false;

  constructor(private readonly options: CacheSubscriberOptions) {
    this.ctx = options.context;
    this.channel = options.channel;
    if (!this.ctx.channels.has(this.channel)) throw new Error(`channel "${this.channel}" is not configured`);
    this.instance = options.instance ?? process.env.WEBSITE_INSTANCE_ID ?? hostname();
    this.queueName = frontEndQueueName(this.ctx.config.frontEndQueuePrefix, this.channel, this.instance);
    this.queue = this.ctx.queueService.getQueueClient(this.queueName);
    this.store = options.store ?? new FileSequenceStore(path.join(process.cwd(), '.ringkeeper', 'cache', `${this.queueName}.json`));
    this.threshold = options.coldBootThreshold ?? this.ctx.config.coldBootThreshold;
    this.log = options.log ?? silentLog;
  }

  get lastApplied(): number {
    return this.buffer.lastApplied;
  }

  /** Registers, catches up from the journal (or starts at the head), then receives until stop(). */
  async start(): Promise<void> {
    if (this.loop) return;
    AbortError.throwIfAborted(this.options.abortSignal);
    await this.register();
    const stored = await this.store.load();
    if (stored !== undefined) this.buffer = new BatchBuffer<Pending>(stored);
    await this.catchUp(stored === undefined);
    const stopping = new AbortController();
    this.stopping = stopping;
    this.signal = this.options.abortSignal ? AbortSignal.any([this.options.abortSignal, stopping.signal]) : stopping.signal;
    const heartbeatIntervalInMs = this.options.heartbeatIntervalInMs ?? this.ctx.config.heartbeatSeconds * 1000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), heartbeatIntervalInMs);
    this.heartbeatTimer.unref();
    this.loop = this.run();
  }

  private get running(): boolean {
    return !this.signal.aborted;
  }

  /** Stops after the envelope being applied, if any. `unregister` deletes the queue (a front-end that never returns). */
  async stop(options: { unregister?: boolean } = {}): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
    if (options.unregister) await this.queue.deleteIfExists();
  }

  private async register(): Promise<void> {
    await this.queue.createIfNotExists();
    await this.queue.setMetadata(toQueueMetadata(this.channel, this.instance, new Date()));
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.queue.setMetadata(toQueueMetadata(this.channel, this.instance, new Date()));
    } catch (err) {
      // Deleted as stale (e.g. the process was suspended): the loop re-registers and catches up.
      if (isNotFound(err)) this.reRegister = true;
      else this.report(err, 'heartbeat');
    }
  }

  private async run(): Promise<void> {
    try {
      await this.receiveUntilAborted();
    } finally {
      clearInterval(this.heartbeatTimer);
    }
  }

  private async receiveUntilAborted(): Promise<void> {
    const pollMin = this.options.pollMinInMs ?? 50;
    const pollMax = this.options.pollMaxInMs ?? 1000;
    const gapWait = this.options.gapWaitInMs ?? 1500;
    const probeInterval = this.options.probeIntervalInMs ?? 10_000;
    let wait = pollMin;
    while (this.running) {
      let received = 0;
      try {
        if (this.reRegister) {
          this.reRegister = false;
          await this.register();
          await this.catchUp(false);
        }
        received = await this.receiveOnce();
        const gap = this.buffer.gap();
        const now = Date.now();
        if (gap) {
          this.gapSince ??= now;
          if (now - this.gapSince >= gapWait) await this.catchUp(false);
        } else {
          this.gapSince = undefined;
        }
        if (received === 0 && this.buffer.size === 0 && now - this.lastJournalCheck >= probeInterval) await this.catchUp(false);
      } catch (err) {
        if (isNotFound(err)) this.reRegister = true;
        // A delivered inJournal batch whose blob is unreadable and has no "last": the catch-up cold-boots past it.
        else if (err instanceof JournalChainError && err.first === this.lastApplied + 1) await this.catchUp(false).catch((e: unknown) => this.report(e, 'journal'));
        else this.report(err, 'receive');
      }
      // A full batch: more is waiting. A partial one: linger pollMin so the next receive carries several.
      wait = received >= RECEIVE_BATCH ? 0 : received > 0 ? pollMin : Math.min(Math.max(wait * 2, pollMin), pollMax);
      if (this.gapSince !== undefined) wait = Math.min(wait, Math.max(0, this.gapSince + gapWait - Date.now()));
      if (wait > 0) await delay(wait, { abortSignal: this.signal }).catch(() => undefined); // aborted: the loop condition ends it
    }
  }

  private async receiveOnce(): Promise<number> {
    const response = await this.queue.receiveMessages({ numberOfMessages: RECEIVE_BATCH, visibilityTimeout: VISIBILITY_TIMEOUT_SECONDS });
    const items = response.receivedMessageItems;
    if (items.length === 0) return 0;
    for (const item of items) {
      const message = parseFrontEndMessage(decodeQueueMessage(item.messageText));
      if (typeof message === 'string') {
        this.report(new Error(`ignored a message in ${this.queueName}: ${message}`), 'receive');
        continue;
      }
      if (message.channel !== this.channel) {
        this.report(new Error(`ignored a message of channel "${message.channel}" in ${this.queueName}`), 'receive');
        continue;
      }
      for (const b of message.batches) {
        const pending: Pending = b.entries ? { kind: 'entries', entries: b.entries } : b.inJournal ? { kind: 'inJournal' } : { kind: 'void' };
        this.buffer.offer(b.first, b.last, pending); // duplicates and applied ones are dropped here
      }
    }
    const highest = this.buffer.highest();
    if (highest !== undefined && highest - this.lastApplied > this.threshold) await this.catchUp(false);
    await this.drain();
    // Delete after applying: a crash before this redelivers, and redeliveries dedupe by sequence.
    // Held (out-of-order) ones are deleted too; the journal has them if this process dies.
    await Promise.all(
      items.map((item) =>
        this.queue.deleteMessage(item.messageId, item.popReceipt).catch((err) => {
          if (!isNotFound(err)) this.report(err, 'delete');
        }),
      ),
    );
    return items.length;
  }

  /** Applies every held batch that is next in order (stops early when asked to stop). */
  private async drain(): Promise<void> {
    for (let next = this.buffer.peekNext(); next && this.running; next = this.buffer.peekNext()) {
      let item = next.item;
      if (item.kind === 'inJournal') {
        const read = await this.readBatch(next.first);
        if (read === 'missing' || read.last !== next.last) return this.catchUp(false);
        item = read.item;
      }
      await this.applyBatch(next.first, next.last, item);
    }
  }

  /** Applies a batch entry by entry, then saves the position once (as Umbraco saves lastsynced once per batch of rows). */
  private async applyBatch(first: number, last: number, item: Pending): Promise<void> {
    if (item.kind === 'entries') {
      for (const { sequence, envelope: e } of item.entries) {
        if (this.options.skipOwnOrigin && this.options.origin !== undefined && e.origin === this.options.origin) continue;
        try {
          await this.options.apply({ sequence, id: e.id, channel: e.channel, origin: e.origin, createdAt: e.createdAt, instructions: e.instructions });
        } catch (err) {
          this.report(err, `apply ${this.channel}#${sequence}`);
        }
      }
    }
    this.buffer.markApplied(first, last);
    await this.store.save(last);
  }

  /** The batch starting at `first` from the journal (void, reported, when it is not a valid batch). */
  private async readBatch(first: number): Promise<{ last: number; item: Pending } | 'missing'> {
    const read = await this.ctx.journal.readBatch(this.channel, first);
    if (read.kind === 'missing') return 'missing';
    if (read.kind === 'batch') return { last: read.batch.last, item: { kind: 'entries', entries: read.batch.entries } };
    if (read.last === undefined) throw new JournalChainError(this.channel, first, `not a valid batch (${read.problem}) and no "last" metadata`);
    this.report(new Error(`journal batch ${this.channel}#${first}..${read.last} is not valid (${read.problem}); skipped`), 'journal');
    return { last: read.last, item: { kind: 'void' } };
  }

  /**
   * Brings the position up to the journal's head: replays what is missing, or cold-boots when
   * too far behind or the next entry was pruned. `fresh`: no stored position (start at the head).
   */
  private async catchUp(fresh: boolean): Promise<void> {
    this.lastJournalCheck = Date.now();
    this.gapSince = undefined;
    const head = (await this.ctx.journal.head(this.channel)).last;
    const last = this.lastApplied;
    try {
      const nextExists = fresh || head <= last ? true : (await this.ctx.journal.batchLast(this.channel, last + 1)) !== undefined;
      const decision = decideCatchUp({ lastApplied: fresh ? undefined : last, head, nextExists, threshold: this.threshold });
      switch (decision.action) {
        case 'start-at-head':
          this.buffer = new BatchBuffer<Pending>(decision.head);
          await this.store.save(decision.head);
          this.log.info(`cache: ${this.queueName} starts at the head of ${this.channel} (${decision.head})`);
          return;
        case 'up-to-date':
          return this.dropBeyond(head);
        case 'cold-boot':
          return await this.coldBoot(decision.reason, decision.skipTo);
        case 'replay':
          await this.replay(decision.to);
          return this.dropBeyond(head);
      }
    } catch (err) {
      // The next batch cannot be read and nothing says where it ends: the chain cannot be followed past it,
      // but the head (found beyond it) can be reached by rebuilding, as after pruning.
      if (!(err instanceof JournalChainError) || err.first !== this.lastApplied + 1 || head <= this.lastApplied) throw err;
      this.report(err, 'journal');
      return this.coldBoot('journal-corrupt', head);
    }
  }

  /** Follows the chain from the position to `to`, batch by batch (held copies first, else the journal). */
  private async replay(to: number): Promise<void> {
    while (this.lastApplied < to) {
      const first = this.lastApplied + 1;
      const held = this.buffer.get(first);
      const batch = held && held.item.kind !== 'inJournal' ? held : await this.readBatch(first);
      // Pruned while we were reading: nothing left to replay from.
      if (batch === 'missing') return this.coldBoot('journal-pruned', (await this.ctx.journal.head(this.channel)).last);
      await this.applyBatch(first, batch.last, batch.item);
    }
  }

  /** Held deliveries above the journal head cannot be genuine (entries exist before their copies). */
  private dropBeyond(head: number): void {
    const dropped = this.buffer.dropAbove(head);
    if (dropped > 0) this.report(new Error(`dropped ${dropped} deliveries above the journal head ${head} in ${this.queueName}`), 'receive');
  }

  private async coldBoot(reason: ColdBootReason, skipTo: number): Promise<void> {
    const lastApplied = this.lastApplied;
    // As Umbraco: store the new position first, then rebuild; a crash mid-rebuild rebuilds on restart anyway.
    if (skipTo < lastApplied) this.buffer = new BatchBuffer<Pending>(skipTo);
    else this.buffer.skipTo(skipTo);
    await this.store.save(skipTo);
    this.log.warn(`cache: ${this.queueName} cold boot (${reason}): position ${lastApplied} -> ${skipTo}`);
    try {
      await this.options.onColdBoot?.({ channel: this.channel, instance: this.instance, reason, lastApplied, skippedTo: skipTo });
    } catch (err) {
      this.report(err, 'cold boot');
    }
  }

  private report(err: unknown, where: string): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.options.onError) this.options.onError(error, where);
    else this.log.error(`cache: ${this.queueName} ${where}: ${describeStorageError(error)}`);
  }
}
