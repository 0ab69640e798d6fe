/**
 * Wire format of the cache instruction channel, version 2 (docs/cache-protocol.md,
 * docs/cache-envelope.schema.json). Pure types and limits; no I/O.
 */

export const CACHE_PROTOCOL_VERSION = 2;

/** Largest accepted envelope, UTF-8 bytes of its JSON. Larger envelopes are rejected, never truncated. */
export const MAX_ENVELOPE_BYTES = 256 * 1024;

/** Umbraco splits a batch into rows of at most MaxProcessingInstructionCount (1000) instructions. */
export const MAX_INSTRUCTIONS_PER_ENVELOPE = 1000;

/**
 * Largest JSON text sent inline in a queue message. Queue messages are at most 64 KiB and base64
 * costs 4/3, so 48 KiB of UTF-8 is the most that still fits; larger payloads go by claim check.
 */
export const MAX_INLINE_MESSAGE_BYTES = 48 * 1024;

/** Umbraco's RefreshMethodType, by value. */
export const REFRESH_TYPES = ['RefreshAll', 'RefreshByGuid', 'RefreshById', 'RefreshByIds', 'RefreshByJson', 'RemoveById'] as const;
export type RefreshTypeName = (typeof REFRESH_TYPES)[number];

/** One instruction exactly as Umbraco serialises RefreshInstruction (Newtonsoft, enum as number). */
export interface UmbracoRefreshInstruction {
  RefreshType: 0 | 1 | 2 | 3 | 4 | 5;
  RefresherId: string;
  GuidId?: string | null;
  IntId?: number | null;
  /** A JSON array serialised as a string, e.g. "[1,2,3]". */
  JsonIds?: string | null;
  JsonIdCount?: number;
  /** A JSON document serialised as a string. */
  JsonPayload?: string | null;
}

/** The same thing for non-Umbraco apps: a refresher name or id, a method, optional ids and payload. */
export interface GenericInstruction {
  refresher: string;
  type: RefreshTypeName | 0 | 1 | 2 | 3 | 4 | 5;
  ids?: Array<number | string>;
  payload?: unknown;
}

export type CacheInstruction = UmbracoRefreshInstruction | GenericInstruction;

export interface CacheEnvelope {
  version: typeof CACHE_PROTOCOL_VERSION;
  /** UUID; the idempotency key of a publish. */
  id: string;
  channel: string;
  /** Who published (Umbraco's "originated"); subscribers may skip their own. */
  origin: string;
  /** ISO 8601 date-time. */
  createdAt: string;
  instructions: CacheInstruction[];
}

/** One sequence of a journal batch. */
export interface JournalEntry {
  sequence: number;
  envelope: CacheEnvelope;
}

/**
 * A journal blob `{channel}/seq/{first:020}.json`: the run of consecutive sequences one group
 * commit wrote. Batches tile the sequence space: the next batch is the blob named `last + 1`.
 */
export interface JournalBatch {
  version: typeof CACHE_PROTOCOL_VERSION;
  channel: string;
  first: number;
  last: number;
  /** `first` of the batch ending at `first - 1`; 0 for a channel's first batch. */
  previous: number;
  /** Chosen per create attempt: tells a writer whose create timed out whether the blob is its own. */
  batchId: string;
  journaledAt: string;
  entries: JournalEntry[];
}

/** Publisher -> fan-out on the instructions queue: "the batch first..last of channel C is journaled". */
export interface InstructionNotice {
  version: typeof CACHE_PROTOCOL_VERSION;
  channel: string;
  first: number;
  last: number;
}

/** Direct enqueuers with an envelope over the inline limit: the envelope is in `{channel}/claims/{id}.json`. */
export interface ClaimCheckMessage {
  version: typeof CACHE_PROTOCOL_VERSION;
  claimCheck: { blob: string };
}

/**
 * One whole journal batch as delivered to a front-end. Exactly one of: `entries` inline;
 * `inJournal` (too large for a queue message: read the batch blob); `void` (the blob is not a
 * valid batch: nothing to apply, advance to `last`).
 */
export interface FrontEndBatch {
  first: number;
  last: number;
  entries?: JournalEntry[];
  inJournal?: true;
  void?: true;
}

/** Fan-out -> one front-end queue: whole batches in ascending order, at most 48 KiB of JSON. */
export interface FrontEndMessage {
  version: typeof CACHE_PROTOCOL_VERSION;
  channel: string;
  batches: FrontEndBatch[];
}

/** What a subscriber's apply callback receives. */
export interface AppliedEnvelope {
  sequence: number;
  id: string;
  channel: string;
  origin: string;
  createdAt: string;
  instructions: CacheInstruction[];
}

export function isUmbracoInstruction(i: CacheInstruction): i is UmbracoRefreshInstruction {
  return (i as UmbracoRefreshInstruction).RefreshType !== undefined;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
