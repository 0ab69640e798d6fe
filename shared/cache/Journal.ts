import { delay } from '../async/delay';
import type { ContainerClient } from '@azure/storage-blob';
import { CACHE_PROTOCOL_VERSION, type JournalBatch } from './CacheEnvelope';
import { batchName, firstOfBatchName, headHintName, journalEntryPrefix } from './journalNames';
import { parseJournalBatch } from './parseJournalBatch';
import { isConditionFailed, isNotFound } from './storageErrors';

export type BatchRead =
  | { kind: 'batch'; batch: JournalBatch }
  | { kind: 'missing' }
  /** Not a valid batch (hand-edited or foreign); `last` from the blob's metadata when it has one. */
  | { kind: 'invalid'; first: number; last?: number; problem: string };

export interface BatchSpan {
  first: number;
  last: number;
}

/** The journal of a channel cannot be followed past a blob whose extent is unknown. */
export class JournalChainError extends Error {
  constructor(
    channel: string,
    readonly first: number,
    problem: string,
  ) {
    super(`the journal of channel ${channel} is broken at batch ${first}: ${problem}`);
    this.name = 'JournalChainError';
  }
}

export interface JournalOptions {
  /** Least time between two head-hint writes of one channel by this process (default 500 ms). */
  hintIntervalMs?: number;
}

/**
 * Storage side of a channel's journal (docs/cache-protocol.md, *Journal*): batch blobs
 * `{channel}/seq/{first:020}.json`, created once with If-None-Match: *, that tile the sequence
 * space (the batch after the one ending at p is the blob named p + 1), and the head hint
 * `{channel}/head.json`, which never runs ahead of the head and only moves forward.
 * Group commit and the id window live in GroupCommit; this class only reads and writes blobs.
 */
export class Journal {
  private ensured?: Promise<void>;
  private readonly hintCache = new Map<string, { span: BatchSpan; etag?: string }>();
  private readonly hintWriters = new Map<string, { target: BatchSpan; active: boolean; lastWrite: number; waiters: Array<{ last: number; resolve(): void; reject(err: unknown): void }> }>();
  private readonly hintIntervalMs: number;

  constructor(
    readonly container: ContainerClient,
    options: JournalOptions = {},
  ) {
    this.hintIntervalMs = options.hintIntervalMs ?? 500;
  }

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

  async readBatch(channel: string, first: number): Promise<BatchRead> {
    let text: string;
    let metadata: Record<string, string> | undefined;
    try {
      const res = await this.container.getBlobClient(batchName(channel, first)).download();
      metadata = res.metadata;
      text = await streamToString(res.readableStreamBody);
    } catch (err) {
      if (isNotFound(err)) return { kind: 'missing' };
      throw err;
    }
    const parsed = parseJournalBatch(text, channel, first);
    if (typeof parsed !== 'string') return { kind: 'batch', batch: parsed };
    return { kind: 'invalid', first, last: lastOf(metadata, first), problem: parsed };
  }

  /** `last` of the batch starting at `first` from its metadata (one HEAD request); undefined when there is none. */
  async batchLast(channel: string, first: number): Promise<number | undefined> {
    try {
      const props = await this.container.getBlobClient(batchName(channel, first)).getProperties();
      const last = lastOf(props.metadata, first);
      if (last === undefined) throw new JournalChainError(channel, first, 'the blob has no valid "last" metadata');
      return last;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates the batch blob unless any blob has that name; false when one does. */
  async createBatch(batch: JournalBatch): Promise<boolean> {
    const body = JSON.stringify(batch);
    try {
      await this.container.getBlockBlobClient(batchName(batch.channel, batch.first)).upload(body, Buffer.byteLength(body), {
        conditions: { ifNoneMatch: '*' },
        metadata: { last: String(batch.last), batchid: batch.batchId },
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /** The head hint, or undefined when it is missing or not readable (a new or damaged journal). */
  async readHint(channel: string): Promise<BatchSpan | undefined> {
    try {
      const res = await this.container.getBlobClient(headHintName(channel)).download();
      const value = JSON.parse(await streamToString(res.readableStreamBody)) as Partial<BatchSpan> & { version?: unknown };
      const { first, last } = value;
      if (value.version === CACHE_PROTOCOL_VERSION && Number.isSafeInteger(first) && Number.isSafeInteger(last) && first! >= 1 && last! >= first!) {
        const span = { first: first!, last: last! };
        const cached = this.hintCache.get(channel);
        if (!cached || cached.span.last <= span.last) this.hintCache.set(channel, { span, etag: res.etag });
        return span;
      }
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof SyntaxError)) throw err;
    }
    return undefined;
  }

  /**
   * The newest batch (`{first: 0, last: 0}` for an empty journal): the hint, then following the
   * chain with HEAD requests. Without a hint the walk starts at sequence 1 (what a front-end, which
   * may not list blobs, does); `listWhenNoHint` lists the channel's batches instead.
   */
  async head(channel: string, options: { listWhenNoHint?: boolean } = {}): Promise<BatchSpan> {
    let span = await this.readHint(channel);
    if (!span && options.listWhenNoHint) {
      const first = await this.newestByListing(channel);
      if (first !== undefined) span = { first, last: (await this.batchLast(channel, first)) ?? first };
    }
    span ??= { first: 0, last: 0 };
    for (;;) {
      const last = await this.batchLast(channel, span.last + 1);
      if (last === undefined) return span;
      span = { first: span.last + 1, last };
    }
  }

  /** `first` of the newest batch blob by listing; undefined when there is none. */
  async newestByListing(channel: string): Promise<number | undefined> {
    let newest: number | undefined;
    try {
      for await (const page of this.container.listBlobsFlat({ prefix: journalEntryPrefix(channel) }).byPage({ maxPageSize: 5000 })) {
        for (const item of page.segment.blobItems) {
          const first = firstOfBatchName(item.name);
          if (first !== undefined && (newest === undefined || first > newest)) newest = first;
        }
      }
    } catch (err) {
      if (!isNotFound(err)) throw err; // no container yet: an empty journal
    }
    return newest;
  }

  /**
   * Moves the head hint forward to the batch `span` (never back), in the background of commits:
   * one write in flight per channel, at most one per `hintIntervalMs`, coalesced to the highest
   * batch asked for. Other processes' writes are detected by ETag. Resolves once a write covers
   * `span.last` (callers need not wait).
   */
  advanceHint(channel: string, span: BatchSpan): Promise<void> {
    let writer = this.hintWriters.get(channel);
    if (!writer) {
      writer = { target: span, active: false, lastWrite: 0, waiters: [] };
      this.hintWriters.set(channel, writer);
    }
    const w = writer;
    if (span.last > w.target.last) w.target = span;
    const done = new Promise<void>((resolve, reject) => w.waiters.push({ last: span.last, resolve, reject }));
    if (!w.active) {
      w.active = true; // set before the writer runs: it may finish without ever suspending
      void (async () => {
        try {
          while ((this.hintCache.get(channel)?.span.last ?? -1) < w.target.last) {
            const wait = w.lastWrite + this.hintIntervalMs - Date.now();
            if (wait > 0) await delay(wait);
            const target = w.target;
            await this.writeHint(channel, target);
            w.lastWrite = Date.now();
            const covered = w.waiters.filter((x) => x.last <= target.last);
            w.waiters = w.waiters.filter((x) => x.last > target.last);
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

  private async writeHint(channel: string, span: BatchSpan): Promise<void> {
    if (!this.hintCache.has(channel)) await this.readHint(channel);
    let known = this.hintCache.get(channel);
    for (let attempt = 0; attempt < 10 && (known?.span.last ?? -1) < span.last; attempt++) {
      try {
        const body = JSON.stringify({ version: CACHE_PROTOCOL_VERSION, first: span.first, last: span.last });
        const res = await this.container.getBlockBlobClient(headHintName(channel)).upload(body, Buffer.byteLength(body), {
          conditions: known?.etag ? { ifMatch: known.etag } : { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
        this.hintCache.set(channel, { span, etag: res.etag });
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      this.hintCache.delete(channel);
      await this.readHint(channel);
      known = this.hintCache.get(channel);
    }
    // Lost every race: someone else keeps it moving; the hint only has to be safe, not current.
    if (!known || known.span.last < span.last) this.hintCache.set(channel, { span, etag: known?.etag });
  }
}

function lastOf(metadata: Record<string, string> | undefined, first: number): number | undefined {
  const raw = metadata?.last;
  if (raw === undefined || !/^\d{1,16}$/.test(raw)) return undefined;
  const last = Number(raw);
  return Number.isSafeInteger(last) && last >= first ? last : undefined;
}

export async function streamToString(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
