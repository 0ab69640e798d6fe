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
  if (!Array.isArray(value.batches) || value.batches.length === 0) return 'batches must be a non-empty array';
  let after = 0;
  for (const [i, raw] of value.batches.entries()) {
    const problem = batchProblem(raw, value.channel, after);
    if (problem) return `batches[${i}]: ${problem}`;
    after = (raw as { last: number }).last;
  }
  return value as unknown as FrontEndMessage;
}

function batchProblem(raw: unknown, channel: string, after: number): string | undefined {
  if (!isObject(raw)) return 'not an object';
  const { first, last } = raw;
  if (typeof first !== 'number' || !Number.isSafeInteger(first) || first < 1) return 'first must be a positive integer';
  if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < first) return 'last must be an integer at least first';
  if (first <= after) return 'batches must be in ascending order without overlap';
  const forms = [raw.entries !== undefined, raw.inJournal === true, raw.void === true].filter(Boolean).length;
  if (forms !== 1) return 'exactly one of entries, inJournal, void expected';
  if (raw.entries === undefined) return undefined;
  if (!Array.isArray(raw.entries) || raw.entries.length !== last - first + 1) return `entries must hold ${last - first + 1} entries`;
  for (const [i, e] of raw.entries.entries()) {
    if (!isObject(e) || e.sequence !== first + i) return `entries[${i}] must have sequence ${first + i}`;
    const check = validateEnvelope(e.envelope);
    if (!check.ok) return `entries[${i}]: invalid envelope: ${check.errors.join('; ')}`;
    if (check.envelope.channel !== channel) return `entries[${i}]: envelope channel differs from message channel`;
  }
  return undefined;
}
