import { CACHE_PROTOCOL_VERSION, type FrontEndEntry, type FrontEndMessage } from './CacheEnvelope';
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
  if (!Array.isArray(value.entries) || value.entries.length === 0) return 'entries must be a non-empty array';
  for (const [i, raw] of value.entries.entries()) {
    const problem = entryProblem(raw, value.channel);
    if (problem) return `entries[${i}]: ${problem}`;
  }
  return value as unknown as FrontEndMessage;
}

function entryProblem(raw: unknown, channel: string): string | undefined {
  if (!isObject(raw)) return 'not an object';
  const e = raw as Partial<FrontEndEntry> & Record<string, unknown>;
  if (typeof e.sequence !== 'number' || !Number.isSafeInteger(e.sequence) || e.sequence < 1) return 'sequence must be a positive integer';
  if (typeof e.id !== 'string') return 'id missing';
  const forms = [e.envelope !== undefined, e.inJournal === true, e.void === true].filter(Boolean).length;
  if (forms !== 1) return 'exactly one of envelope, inJournal, void expected';
  if (e.envelope !== undefined) {
    const check = validateEnvelope(e.envelope);
    if (!check.ok) return `invalid envelope: ${check.errors.join('; ')}`;
    if (check.envelope.channel !== channel) return 'envelope channel differs from message channel';
  }
  return undefined;
}
