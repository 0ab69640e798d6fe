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
      if (Number.isSafeInteger(sequence) && sequence >= 0) return { sequence, etag: res.etag };
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

  /** Appends an envelope at the next free sequence, idempotently on its id. */
  async append(envelope: CacheEnvelope, now = new Date()): Promise<AppendResult> {
    const { channel, id } = envelope;
    await this.ensureContainer();
    const [existing, hint] = await Promise.all([this.owner(channel, id), this.readHint(channel)]);
    if (existing !== undefined) return { sequence: existing, id, duplicate: true };

    let candidate = hint.sequence + 1;
    let conflicts = 0;
    for (;;) {
      const entry: JournalEntry = { version: CACHE_PROTOCOL_VERSION, sequence: candidate, journaledAt: now.toISOString(), envelope };
      try {
        await this.upload(journalEntryName(channel, candidate), JSON.stringify(entry), { ifNoneMatch: '*' }, { envelopeid: id });
        break;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        if (++conflicts >= MAX_APPEND_ATTEMPTS) throw new Error(`could not append to channel ${channel}: ${conflicts} conflicting writers`);
        // A few steps cover concurrent publishers; a stale hint is skipped by probing.
        candidate = conflicts < 4 ? candidate + 1 : (await this.findHead(channel, candidate)) + 1;
      }
    }
    const [owner] = await Promise.all([this.claimId(channel, id, candidate), this.advanceHint(channel, candidate, hint.etag)]);
    if (owner === candidate) return { sequence: candidate, id, duplicate: false };
    return { sequence: owner, id, duplicate: true, voidSequence: candidate };
  }

  /** Moves the head hint forward to `sequence` (never back); losing races is fine. */
  async advanceHint(channel: string, sequence: number, etag: string | undefined): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.upload(headHintName(channel), JSON.stringify({ sequence }), etag ? { ifMatch: etag } : { ifNoneMatch: '*' });
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const current = await this.readHint(channel);
      if (current.sequence >= sequence) return;
      etag = current.etag;
    }
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
