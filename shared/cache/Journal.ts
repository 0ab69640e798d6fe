import type { ContainerClient } from '@azure/storage-blob';
import { CACHE_PROTOCOL_VERSION, type CacheEnvelope, type JournalEntry } from './CacheEnvelope';
import { headHintName, idIndexName, journalEntryName, journalEntryPrefix, sequenceOfEntryName } from './journalNames';
import { isConditionFailed, isNotFound } from './storageErrors';
import { validateEnvelope } from './validateEnvelope';

export interface AppendResult {
  sequence: number;
  id: string;
  /** True when the id was already journaled (by an earlier or a concurrent publish). */
  duplicate: boolean;
  /** A sequence this call wrote but that lost the id race and carries nothing (front-ends skip it). */
  voidSequence?: number;
}

/** A journal entry whose blob is not a valid entry (hand-edited or foreign); front-ends treat it as void. */
export class JournalEntryInvalidError extends Error {
  constructor(readonly sequence: number, problem: string) {
    super(`journal entry ${sequence} is not valid: ${problem}`);
    this.name = 'JournalEntryInvalidError';
  }
}

const MAX_APPEND_ATTEMPTS = 200;
/** Far below any retention (at least 1 h): an entry this young cannot have been pruned. */
const WARM_MS = 60_000;

/**
 * The durable per-channel journal: blob `{channel}/seq/{sequence:020}.json` per envelope.
 *
 * Invariants (docs/cache-protocol.md):
 * - Entries form a contiguous range: sequence s is only created (If-None-Match: *) after s-1 was
 *   seen to exist, so "exists" is monotone and a missing entry below the head means "pruned".
 * - `{channel}/head.json` is a hint that never exceeds the real head and only moves forward
 *   (If-Match); the janitor never prunes at or above it, so creating at hint+1 can never land in a
 *   pruned range.
 * - `{channel}/ids/{id}.json` is created once (If-None-Match: *) and decides which entry owns an
 *   envelope id; entries whose id is owned by another sequence are void. Anyone (publisher,
 *   fan-out, front-end) may settle an unowned entry, so a publisher crash between steps never
 *   leaves front-ends disagreeing.
 */
export class Journal {
  private ensured?: Promise<void>;
  private readonly turns = new Map<string, Promise<void>>();
  private readonly lastCreated = new Map<string, { sequence: number; at: number }>();
  private readonly hintCache = new Map<string, { sequence: number; etag?: string }>();
  private readonly hintWriters = new Map<string, { target: number; active?: boolean; waiters: Array<{ sequence: number; resolve(): void; reject(err: unknown): void }> }>();

  constructor(readonly container: ContainerClient) {}

  ensureContainer(): Promise<void> {
    this.ensured ??= this.container.createIfNotExists().then(
      () => undefined,
      (err) => {
        this.ensured = undefined;
        throw err;
      },
    );
    return this.ensured;
  }

  async read(channel: string, sequence: number): Promise<JournalEntry | undefined> {
    const text = await this.download(journalEntryName(channel, sequence));
    if (text === undefined) return undefined;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      throw new JournalEntryInvalidError(sequence, 'not JSON');
    }
    const e = entry as Partial<JournalEntry>;
    if (e?.version !== CACHE_PROTOCOL_VERSION || e.sequence !== sequence) throw new JournalEntryInvalidError(sequence, 'wrong version or sequence');
    const check = validateEnvelope(e.envelope);
    if (!check.ok) throw new JournalEntryInvalidError(sequence, check.errors.join('; '));
    if (check.envelope.channel !== channel) throw new JournalEntryInvalidError(sequence, `belongs to channel "${check.envelope.channel}"`);
    return entry as JournalEntry;
  }

  async exists(channel: string, sequence: number): Promise<boolean> {
    if (sequence < 1) return true;
    return this.container.getBlobClient(journalEntryName(channel, sequence)).exists();
  }

  /** The head hint and its ETag. Falls back to listing when the hint blob is missing (new or damaged journal). */
  async readHint(channel: string): Promise<{ sequence: number; etag?: string }> {
    const blob = this.container.getBlobClient(headHintName(channel));
    try {
      const res = await blob.download();
      const text = await streamToString(res.readableStreamBody);
      const sequence = Number((JSON.parse(text) as { sequence?: unknown }).sequence);
      if (Number.isSafeInteger(sequence) && sequence >= 0) {
        this.hintCache.set(channel, { sequence, etag: res.etag });
        return { sequence, etag: res.etag };
      }
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof SyntaxError)) throw err;
    }
    return { sequence: await this.listHighest(channel) };
  }

  /** The newest sequence (0 when the journal is empty): the hint, then probing forward. */
  async head(channel: string): Promise<number> {
    return this.findHead(channel, (await this.readHint(channel)).sequence);
  }

  /** Given that `known` exists, the highest existing sequence: gallop forward, then bisect. */
  async findHead(channel: string, known: number): Promise<number> {
    let low = known;
    let step = 1;
    while (await this.exists(channel, low + step)) {
      low += step;
      step *= 2;
    }
    let high = low + step; // missing
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await this.exists(channel, mid)) low = mid;
      else high = mid;
    }
    return low;
  }

  /** Sequence that owns `id`, if any. */
  async owner(channel: string, id: string): Promise<number | undefined> {
    const text = await this.download(idIndexName(channel, id));
    if (text === undefined) return undefined;
    const sequence = Number((JSON.parse(text) as { sequence?: unknown }).sequence);
    if (!Number.isSafeInteger(sequence)) throw new Error(`id index of ${id} in channel ${channel} is damaged`);
    return sequence;
  }

  /** Makes `sequence` the owner of `id` unless someone was first; returns the owner. */
  async claimId(channel: string, id: string, sequence: number): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.upload(idIndexName(channel, id), JSON.stringify({ sequence }), { ifNoneMatch: '*' });
        return sequence;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const owner = await this.owner(channel, id);
      if (owner !== undefined) return owner;
    }
    throw new Error(`could not settle the owner of id ${id} in channel ${channel}`);
  }

  /** Whether an entry is the one that owns its envelope id (settling it if nobody has). */
  async isCommitted(entry: JournalEntry): Promise<boolean> {
    const { channel, id } = entry.envelope;
    const owner = (await this.owner(channel, id)) ?? (await this.claimId(channel, id, entry.sequence));
    return owner === entry.sequence;
  }

  /**
   * Appends an envelope at the next free sequence, idempotently on its id. Appends of one process
   * to one channel take turns for the conditional create only (they would just race each other
   * for the same slot); settling the id, moving the hint and `onCreated` (the publisher's notice)
   * run in parallel after the turn.
   */
  async append(envelope: CacheEnvelope, options: { now?: Date; onCreated?: (sequence: number) => Promise<void> } = {}): Promise<AppendResult> {
    const { channel, id } = envelope;
    await this.ensureContainer();
    const existing = await this.owner(channel, id);
    if (existing !== undefined) return { sequence: existing, id, duplicate: true };

    const previous = this.turns.get(channel) ?? Promise.resolve();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const mine = previous.then(() => gate);
    this.turns.set(channel, mine);
    let candidate: number;
    try {
      await previous;
      candidate = await this.create(envelope, options.now ?? new Date());
    } finally {
      release();
      if (this.turns.get(channel) === mine) this.turns.delete(channel);
    }
    const [owner] = await Promise.all([this.claimId(channel, id, candidate), this.advanceHint(channel, candidate), options.onCreated?.(candidate)]);
    if (owner === candidate) return { sequence: candidate, id, duplicate: false };
    return { sequence: owner, id, duplicate: true, voidSequence: candidate };
  }

  /** One conditional create at the first free sequence; returns it. */
  private async create(envelope: CacheEnvelope, now: Date): Promise<number> {
    const { channel, id } = envelope;
    // Warm: this process appended a moment ago, so that sequence exists and is far from any pruning;
    // start after it without reading the hint. Cold: the hint (never ahead of the head, never pruned).
    const recent = this.lastCreated.get(channel);
    const warm = recent !== undefined && Date.now() - recent.at < WARM_MS;
    let candidate = (warm ? recent.sequence : (await this.readHint(channel)).sequence) + 1;
    let conflicts = 0;
    for (;;) {
      const entry: JournalEntry = { version: CACHE_PROTOCOL_VERSION, sequence: candidate, journaledAt: now.toISOString(), envelope };
      try {
        await this.upload(journalEntryName(channel, candidate), JSON.stringify(entry), { ifNoneMatch: '*' }, { envelopeid: id });
        this.lastCreated.set(channel, { sequence: candidate, at: Date.now() });
        return candidate;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        if (++conflicts >= MAX_APPEND_ATTEMPTS) throw new Error(`could not append to channel ${channel}: ${conflicts} conflicting writers`);
        // A few steps cover other publishing processes; a stale start is skipped by probing.
        candidate = conflicts < 4 ? candidate + 1 : (await this.findHead(channel, candidate)) + 1;
      }
    }
  }

  /**
   * Moves the head hint forward to `sequence` (never back). Concurrent advances of one process
   * coalesce into one write of the highest; other processes' writes are detected by ETag.
   */
  advanceHint(channel: string, sequence: number): Promise<void> {
    let writer = this.hintWriters.get(channel);
    if (!writer) {
      writer = { target: 0, waiters: [] };
      this.hintWriters.set(channel, writer);
    }
    const w = writer;
    w.target = Math.max(w.target, sequence);
    // Each caller waits for the first write that covers its sequence, not for the writer to go idle.
    const done = new Promise<void>((resolve, reject) => w.waiters.push({ sequence, resolve, reject }));
    if (!w.active) {
      w.active = true; // set before the writer runs: it may finish without ever suspending
      void (async () => {
        try {
          while ((this.hintCache.get(channel)?.sequence ?? -1) < w.target) {
            const target = w.target;
            await this.writeHint(channel, target);
            const covered = w.waiters.filter((x) => x.sequence <= target);
            w.waiters = w.waiters.filter((x) => x.sequence > target);
            covered.forEach((x) => x.resolve());
          }
          w.waiters.splice(0).forEach((x) => x.resolve());
        } catch (err) {
          w.waiters.splice(0).forEach((x) => x.reject(err));
        } finally {
          w.active = false;
        }
      })();
    }
    return done;
  }

  private async writeHint(channel: string, sequence: number): Promise<void> {
    let known = this.hintCache.get(channel) ?? (await this.readHint(channel));
    for (let attempt = 0; attempt < 10 && known.sequence < sequence; attempt++) {
      try {
        const body = JSON.stringify({ sequence });
        const res = await this.container.getBlockBlobClient(headHintName(channel)).upload(body, Buffer.byteLength(body), {
          conditions: known.etag ? { ifMatch: known.etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        this.hintCache.set(channel, { sequence, etag: res.etag });
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      known = await this.readHint(channel);
    }
    // Lost every race: someone else keeps it moving; the hint only has to be safe, not current.
    this.hintCache.set(channel, { ...known, sequence: Math.max(known.sequence, sequence) });
  }

  private async listHighest(channel: string): Promise<number> {
    let highest = 0;
    try {
      for await (const page of this.container.listBlobsFlat({ prefix: journalEntryPrefix(channel) }).byPage({ maxPageSize: 5000 })) {
        for (const item of page.segment.blobItems) highest = Math.max(highest, sequenceOfEntryName(item.name) ?? 0);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err; // no container yet: an empty journal
    }
    return highest;
  }

  private async download(name: string): Promise<string | undefined> {
    try {
      const res = await this.container.getBlobClient(name).download();
      return await streamToString(res.readableStreamBody);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async upload(name: string, body: string, conditions: { ifNoneMatch?: string; ifMatch?: string }, metadata?: Record<string, string>): Promise<void> {
    await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      conditions,
      metadata,
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
  }
}

export async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
