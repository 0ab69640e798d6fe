import { CACHE_PROTOCOL_VERSION, utf8Length, type CacheEnvelope, type InstructionNotice } from './CacheEnvelope';
import { isChannelName, isObject, validateEnvelope } from './validateEnvelope';

/** Stable codes of messages that can never succeed; they go to the rejected queue after one attempt. */
export type RejectionCode =
  | 'not_json'
  | 'not_an_object'
  | 'unsupported_version'
  | 'invalid_envelope'
  | 'invalid_notice'
  | 'invalid_claim_check'
  | 'claim_not_found'
  | 'unknown_channel'
  | 'envelope_too_large'
  | 'journal_entry_not_found'
  | 'direct_envelope_refused';

export interface Rejection {
  kind: 'rejected';
  code: RejectionCode;
  reason: string;
}

export type ClassifiedMessage =
  Rejection | { kind: 'notice'; notice: InstructionNotice } | { kind: 'claim'; blob: string; channel: string } | { kind: 'envelope'; envelope: CacheEnvelope; bytes: number };

/** `{channel}/claims/{name}`: inside the channel's prefix of the journal container. */
export const CLAIM_BLOB_PATTERN = /^([a-z0-9](?:-?[a-z0-9])*)\/claims\/[A-Za-z0-9._-][A-Za-z0-9._/-]{0,199}$/;

export interface ClassifyOptions {
  channels: ReadonlySet<string>;
  maxEnvelopeBytes: number;
}

/** Text of a trigger input as it was on the queue (the worker hands over parsed JSON or a string). */
export function messageText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input instanceof Uint8Array) return Buffer.from(input).toString('utf8');
  return JSON.stringify(input) ?? String(input);
}

/**
 * What an instructions-queue message is. The Functions worker passes JSON bodies already parsed
 * and anything else as a string, so both are accepted here.
 */
export function classifyInstructionMessage(input: unknown, options: ClassifyOptions): ClassifiedMessage {
  let value: unknown = input;
  if (input instanceof Uint8Array) value = Buffer.from(input).toString('utf8');
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value.replace(/^\uFEFF/, ''));
    } catch {
      return reject('not_json', 'the message is not JSON');
    }
  }
  if (!isObject(value)) return reject('not_an_object', 'the message is JSON but not an object');
  if (value.version !== CACHE_PROTOCOL_VERSION) {
    return reject(
      'unsupported_version',
      `version ${value.version === undefined ? 'is missing' : JSON.stringify(value.version) + ' is not supported'} (this fan-out speaks version ${CACHE_PROTOCOL_VERSION})`,
    );
  }
  if ('claimCheck' in value) {
    const claim = value.claimCheck;
    const blob = isObject(claim) ? claim.blob : undefined;
    const match = typeof blob === 'string' && !blob.includes('..') ? CLAIM_BLOB_PATTERN.exec(blob) : null;
    if (!match || Object.keys(value).some((k) => k !== 'version' && k !== 'claimCheck') || Object.keys(claim as object).some((k) => k !== 'blob')) {
      return reject('invalid_claim_check', 'claimCheck must be {"blob": "{channel}/claims/<name>"} naming a blob in the journal container, and nothing else beside version');
    }
    if (!options.channels.has(match[1]!)) return unknownChannel(match[1]!, options);
    return { kind: 'claim', blob: blob as string, channel: match[1]! };
  }
  if ('first' in value && !('instructions' in value)) return classifyNotice(value, options);
  return classifyEnvelope(value, utf8Length(messageText(input)), options);
}

/** Validation of an envelope whose JSON text is `bytes` long (also used for claim-check blobs). */
export function classifyEnvelope(value: unknown, bytes: number, options: ClassifyOptions): ClassifiedMessage {
  if (bytes > options.maxEnvelopeBytes) {
    return reject('envelope_too_large', `the envelope is ${bytes} bytes; the maximum is ${options.maxEnvelopeBytes}`);
  }
  const result = validateEnvelope(value);
  if (!result.ok) return reject(result.code, result.errors.join('; '));
  if (!options.channels.has(result.envelope.channel)) return unknownChannel(result.envelope.channel, options);
  // Ids are journaled lowercase whoever enqueued them (docs/cache-protocol.md, Envelope).
  return { kind: 'envelope', envelope: { ...result.envelope, id: result.envelope.id.toLowerCase() }, bytes };
}

function classifyNotice(value: Record<string, unknown>, options: ClassifyOptions): ClassifiedMessage {
  const errors: string[] = [];
  const positive = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
  if (!isChannelName(value.channel)) errors.push('channel must be a channel name');
  if (!positive(value.first)) errors.push('first must be a positive integer');
  if (!positive(value.last) || (positive(value.first) && value.last < value.first)) errors.push('last must be an integer at least first');
  const extra = Object.keys(value).filter((k) => !['version', 'channel', 'first', 'last'].includes(k));
  if (extra.length) errors.push(`unknown fields: ${extra.join(', ')}`);
  if (errors.length) return reject('invalid_notice', `not a valid batch notice: ${errors.join('; ')}`);
  const notice = value as unknown as InstructionNotice;
  if (!options.channels.has(notice.channel)) return unknownChannel(notice.channel, options);
  return { kind: 'notice', notice };
}

function unknownChannel(channel: string, options: ClassifyOptions): Rejection {
  return reject('unknown_channel', `channel "${channel}" is not configured (configured: ${[...options.channels].join(', ') || 'none'})`);
}

function reject(code: RejectionCode, reason: string): Rejection {
  return { kind: 'rejected', code, reason };
}
