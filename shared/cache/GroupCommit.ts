import { randomUUID } from 'node:crypto';
import { CACHE_PROTOCOL_VERSION, utf8Length, type CacheEnvelope, type JournalBatch } from './CacheEnvelope';
import { silentLog, type CacheLog } from './CacheLog';
import { JournalChainError, type BatchSpan, type Journal } from './Journal';

export interface CommitResult {
  sequence: number;
  id: string;
  /** True when the id was committed before (by any process, within the id window): the earlier sequence. */
  duplicate: boolean;
  /** The journal batch holding `sequence`. */
  batch: BatchSpan;
}

export interface GroupCommitOptions {
  /** How long a committed id is recognised (cache.idempotencyMinutes). */
  windowMs: number;
  /** Sends the notice of a batch; awaited before the batch's publishes return. */
  announce?(channel: string, batch: BatchSpan): Promise<void>;
  maxBatchEnvelopes?: number;
  maxBatchBytes?: number;
  now?: () => Date;
  log?: CacheLog;
}

interface Waiter {
  envelope: CacheEnvelope;
  bytes: number;
  announce: boolean;
  resolve(result: CommitResult): void;
  reject(err: unknown): void;
}

interface Known {
  sequence: number;
  batch: BatchSpan;
  at: number;
}

/** What one process knows of one channel: the newest batch and every id of the window, complete. */
interface ChannelState {
  tail?: BatchSpan;
  /** When the tail was last confirmed (a commit, or a read of the chain's end). */
  confirmedAt: number;
  window: Map<string, Known>;
  prunedAt: number;
  pending: Waiter[];
  busy: boolean;
}

export const MAX_BATCH_ENVELOPES = 256;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Group commit of one process (docs/cache-protocol.md, *Publishing: group commit*): publishes to a
 * channel that arrive while a commit is in flight are written together as the next batch, one
 * conditional create holding a run of consecutive sequences. An idle channel commits at once.
 *
 * Idempotency without a request per envelope: the committer knows every id journaled in the
 * channel during the id window, because it only ever creates at the end of a chain whose every
 * batch it has read (a 409 makes it read the winner's batch before trying after it).
 */
export class GroupCommit {
  private readonly channels = new Map<string, ChannelState>();
  private readonly maxEnvelopes: number;
  private readonly maxBytes: number;
  private readonly now: () => Date;
  private readonly log: CacheLog;

  constructor(
    private readonly journal: Journal,
    private readonly options: GroupCommitOptions,
  ) {
    this.maxEnvelopes = options.maxBatchEnvelopes ?? MAX_BATCH_ENVELOPES;
    this.maxBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? silentLog;
  }

  /** Commits `envelope` (or finds its earlier commit). `announce`: send the batch's notice (publishers do; the fan-out delivers itself). */
  commit(envelope: CacheEnvelope, options: { announce?: boolean } = {}): Promise<CommitResult> {
    const state = this.state(envelope.channel);
    return new Promise<CommitResult>((resolve, reject) => {
      state.pending.push({ envelope, bytes: utf8Length(JSON.stringify(envelope)), announce: options.announce ?? true, resolve, reject });
      if (!state.busy) void this.run(envelope.channel, state);
    });
  }

  private state(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (!state) {
      state = { confirmedAt: 0, window: new Map(), prunedAt: 0, pending: [], busy: false };
      this.channels.set(channel, state);
    }
    return state;
  }

  private async run(channel: string, state: ChannelState): Promise<void> {
    state.busy = true;
    try {
      while (state.pending.length > 0) {
        const group = this.take(state);
        try {
          await this.commitGroup(channel, state, group);
        } catch (err) {
          // Nothing is half done: the batch blob exists whole or not at all, and the next commit
          // reads it (409) before writing after it. The callers retry with the same ids.
          group.forEach((w) => w.reject(err));
        }
      }
    } finally {
      state.busy = false;
    }
  }

  /** The next batch: the oldest waiters, within the envelope and byte limits (at least one). */
  private take(state: ChannelState): Waiter[] {
    let bytes = 0;
    let count = 0;
    while (count < state.pending.length && count < this.maxEnvelopes) {
      const next = state.pending[count]!;
      if (count > 0 && bytes + next.bytes > this.maxBytes) break;
      bytes += next.bytes;
      count++;
    }
    return state.pending.splice(0, count);
  }

  private async commitGroup(channel: string, state: ChannelState, group: Waiter[]): Promise<void> {
    await this.ensureKnown(channel, state);
    const results = new Map<Waiter, CommitResult>();
    let remaining = group;
    for (;;) {
      // Duplicates of the window, and repeats of an id inside this group, take no new sequence.
      const fresh: Waiter[] = [];
      const freshIds = new Set<string>();
      const repeats: Waiter[] = [];
      for (const w of remaining) {
        const id = w.envelope.id.toLowerCase();
        const known = state.window.get(id);
        if (known) results.set(w, { sequence: known.sequence, id: w.envelope.id, duplicate: true, batch: known.batch });
        else if (freshIds.has(id)) repeats.push(w);
        else {
          freshIds.add(id);
          fresh.push(w);
        }
      }
      if (fresh.length === 0) break;
      const tail = state.tail ?? { first: 0, last: 0 };
      const first = tail.last + 1;
      const batch: JournalBatch = {
        version: CACHE_PROTOCOL_VERSION,
        channel,
        first,
        last: first + fresh.length - 1,
        previous: tail.first,
        batchId: randomUUID(),
        journaledAt: this.now().toISOString(),
        entries: fresh.map((w, i) => ({ sequence: first + i, envelope: w.envelope })),
      };
      if (!(await this.journal.createBatch(batch))) {
        const read = await this.journal.readBatch(channel, first);
        // Our own batch there means our create succeeded and its response was lost.
        if (read.kind !== 'batch' || read.batch.batchId !== batch.batchId) {
          this.learnAt(channel, state, read, first);
          remaining = [...fresh, ...repeats];
          continue;
        }
      }
      this.learn(state, batch);
      fresh.forEach((w, i) => results.set(w, { sequence: first + i, id: w.envelope.id, duplicate: false, batch: { first, last: batch.last } }));
      for (const w of repeats) {
        const known = state.window.get(w.envelope.id.toLowerCase())!;
        results.set(w, { sequence: known.sequence, id: w.envelope.id, duplicate: true, batch: known.batch });
      }
      void this.journal.advanceHint(channel, { first, last: batch.last }).catch((err) => this.log.warn(`cache: head hint of ${channel} not advanced: ${(err as Error).message}`));
      break;
    }
    // One notice per batch that has a publish to answer; a duplicate's notice is sent again (it heals a notice lost in a crash).
    const notices = new Map<number, BatchSpan>();
    for (const [w, r] of results) if (w.announce) notices.set(r.batch.first, r.batch);
    if (this.options.announce) await Promise.all([...notices.values()].map((b) => this.options.announce!(channel, b)));
    for (const w of group) w.resolve(results.get(w)!);
  }

  /** Makes the state complete up to the chain's end: reload when it is missing or older than the window. */
  private async ensureKnown(channel: string, state: ChannelState): Promise<void> {
    const now = this.now().getTime();
    if (state.tail && now - state.confirmedAt < this.options.windowMs) {
      if (now - state.prunedAt > Math.min(this.options.windowMs / 10, 60_000)) this.prune(state, now);
      return;
    }
    await this.journal.ensureContainer();
    state.window.clear();
    state.tail = undefined;
    const start = (await this.journal.readHint(channel)) ?? (await this.newestByListing(channel));
    if (!start) {
      // An empty journal, unless a batch 1 exists that the hint does not know of yet.
      state.tail = { first: 0, last: 0 };
      await this.walkForward(channel, state);
      state.confirmedAt = now;
      return;
    }
    const startRead = await this.journal.readBatch(channel, start.first);
    if (startRead.kind === 'missing') throw new JournalChainError(channel, start.first, 'the batch the head hint names does not exist');
    this.learnAt(channel, state, startRead, start.first);
    await this.walkForward(channel, state);
    // Backwards for the rest of the window: every id committed within it must be known.
    const oldest = now - this.options.windowMs;
    let previous = startRead.kind === 'batch' ? startRead.batch.previous : 0;
    let journaledAt = startRead.kind === 'batch' ? Date.parse(startRead.batch.journaledAt) : now;
    while (previous > 0 && journaledAt >= oldest) {
      const read = await this.journal.readBatch(channel, previous);
      if (read.kind !== 'batch') break; // pruned (or damaged): nothing older to know
      journaledAt = Date.parse(read.batch.journaledAt);
      if (journaledAt >= oldest) this.learnIds(state, read.batch);
      previous = read.batch.previous;
    }
    state.confirmedAt = now;
    state.prunedAt = now;
  }

  private async newestByListing(channel: string): Promise<BatchSpan | undefined> {
    const first = await this.journal.newestByListing(channel);
    return first === undefined ? undefined : { first, last: first };
  }

  private async walkForward(channel: string, state: ChannelState): Promise<void> {
    for (;;) {
      const first = state.tail!.last + 1;
      const read = await this.journal.readBatch(channel, first);
      if (read.kind === 'missing') return;
      this.learnAt(channel, state, read, first);
    }
  }

  /** Takes in a batch read at `first` (the chain's next one): its ids, and it becomes the tail. */
  private learnAt(channel: string, state: ChannelState, read: Awaited<ReturnType<Journal['readBatch']>>, first: number): void {
    if (read.kind === 'batch') return this.learn(state, read.batch);
    if (read.kind === 'missing') throw new JournalChainError(channel, first, 'a conflicting create left no blob');
    if (read.last === undefined) throw new JournalChainError(channel, first, read.problem);
    // A damaged batch: its extent is known, its ids are not.
    this.log.error(`cache: journal batch ${channel}#${first}..${read.last} is not valid (${read.problem}); its envelope ids cannot be recognised`);
    state.tail = { first, last: read.last };
    state.confirmedAt = this.now().getTime();
  }

  private learn(state: ChannelState, batch: JournalBatch): void {
    this.learnIds(state, batch);
    if (!state.tail || batch.last > state.tail.last) state.tail = { first: batch.first, last: batch.last };
    state.confirmedAt = this.now().getTime();
  }

  private learnIds(state: ChannelState, batch: JournalBatch): void {
    const at = Date.parse(batch.journaledAt);
    const span = { first: batch.first, last: batch.last };
    for (const e of batch.entries) state.window.set(e.envelope.id.toLowerCase(), { sequence: e.sequence, batch: span, at });
  }

  private prune(state: ChannelState, now: number): void {
    state.prunedAt = now;
    const oldest = now - this.options.windowMs;
    for (const [id, k] of state.window) if (k.at < oldest) state.window.delete(id);
  }
}
