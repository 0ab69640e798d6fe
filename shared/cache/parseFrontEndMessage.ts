import { CACHE_PROTOCOL_VERSION, type FrontEndMessage } from './CacheEnvelope';
import { isObject, validateEnvelope } from './validateEnvelope';

/** Validates a message from a front-end queue; a reason string when it is not one. */
export function parseFrontEndMessage(text: string): FrontEndMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isObject(value)) return 'not an object';
  if (value.version !== CACHE_PROTOCOL_VERSION) return `unsupported version ${JSON.stringify(value.version)}`;
  if (typeof value.channel !== 'string') return 'channel missing';
  if (typeof value.sequence !== 'number' || !Number.isSafeInteger(value.sequence) || value.sequence < 1) return 'sequence must be a positive integer';
  if (typeof value.id !== 'string') return 'id missing';
  const forms = [value.envelope !== undefined, value.inJournal === true, value.void === true].filter(Boolean).length;
  if (forms !== 1) return 'exactly one of envelope, inJournal, void expected';
  if (value.envelope !== undefined) {
    const check = validateEnvelope(value.envelope);
    if (!check.ok) return `invalid envelope: ${check.errors.join('; ')}`;
    if (check.envelope.channel !== value.channel) return 'envelope channel differs from message channel';
  }
  return value as unknown as FrontEndMessage;
}
