import { randomUUID } from 'node:crypto';
import { CACHE_PROTOCOL_VERSION, type CacheEnvelope } from './CacheEnvelope';
import { isObject, validateEnvelope } from './validateEnvelope';

export interface EnvelopeDefaults {
  channel: string;
  origin: string;
  now?: () => Date;
  newId?: () => string;
}

export type ToEnvelopeResult = { ok: true; envelope: CacheEnvelope } | { ok: false; code: 'not_an_object' | 'unsupported_version' | 'invalid_envelope' | 'channel_mismatch'; errors: string[] };

/**
 * Publisher input -> envelope: a full envelope, `{instructions, ...}` with fields to fill, an array
 * of instructions, or one instruction. Missing version/id/channel/origin/createdAt get defaults;
 * present ones are kept (so a wrong version is rejected, not silently upgraded).
 */
export function toEnvelope(input: unknown, defaults: EnvelopeDefaults): ToEnvelopeResult {
  let draft: Record<string, unknown>;
  if (Array.isArray(input)) draft = { instructions: input };
  else if (isObject(input) && ('instructions' in input || 'version' in input || 'id' in input)) draft = { ...input };
  else if (isObject(input) && ('RefreshType' in input || 'refresher' in input || 'RefresherId' in input || 'type' in input)) draft = { instructions: [input] };
  else if (isObject(input)) draft = { ...input };
  else return { ok: false, code: 'not_an_object', errors: ['expected an envelope, an array of instructions or one instruction'] };

  if (draft.channel !== undefined && draft.channel !== defaults.channel) {
    return { ok: false, code: 'channel_mismatch', errors: [`channel: the envelope names ${JSON.stringify(draft.channel)} but it is published to "${defaults.channel}"`] };
  }
  const envelope = {
    version: draft.version ?? CACHE_PROTOCOL_VERSION,
    id: draft.id ?? (defaults.newId ?? randomUUID)(),
    channel: defaults.channel,
    origin: draft.origin ?? defaults.origin,
    createdAt: draft.createdAt ?? (defaults.now?.() ?? new Date()).toISOString(),
    ...Object.fromEntries(Object.entries(draft).filter(([k]) => !['version', 'id', 'channel', 'origin', 'createdAt'].includes(k))),
  };
  const result = validateEnvelope(envelope);
  if (!result.ok) return result;
  // Ids are compared as blob names; one spelling per UUID.
  return { ok: true, envelope: { ...result.envelope, id: result.envelope.id.toLowerCase() } };
}
