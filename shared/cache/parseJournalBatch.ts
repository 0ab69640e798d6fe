import { CACHE_PROTOCOL_VERSION, type JournalBatch } from './CacheEnvelope';
import { isObject, UUID_PATTERN, validateEnvelope } from './validateEnvelope';

/**
 * Checks a journal batch blob (docs/cache-protocol.md, *Journal*) read as `{channel}/seq/{first}`:
 * the batch itself, or a reason it is not a valid one. Pure.
 */
export function parseJournalBatch(text: string, channel: string, first: number): JournalBatch | string {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return 'not JSON';
  }
  if (!isObject(value)) return 'not an object';
  if (value.version !== CACHE_PROTOCOL_VERSION) return `unsupported version ${JSON.stringify(value.version)}`;
  if (value.channel !== channel) return `belongs to channel ${JSON.stringify(value.channel)}`;
  if (value.first !== first) return `first is ${JSON.stringify(value.first)}, the blob name says ${first}`;
  const last = value.last;
  if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < first) return 'last must be an integer at least first';
  const previous = value.previous;
  if (typeof previous !== 'number' || !Number.isSafeInteger(previous) || previous < 0 || previous >= first) return 'previous must be an integer below first';
  if (typeof value.batchId !== 'string' || !UUID_PATTERN.test(value.batchId)) return 'batchId must be a UUID';
  if (typeof value.journaledAt !== 'string' || Number.isNaN(Date.parse(value.journaledAt))) return 'journaledAt must be a date-time';
  const entries = value.entries;
  if (!Array.isArray(entries) || entries.length !== last - first + 1) return `entries must hold ${last - first + 1} entries`;
  const ids = new Set<string>();
  for (const [i, raw] of entries.entries()) {
    if (!isObject(raw) || raw.sequence !== first + i) return `entries[${i}] must have sequence ${first + i}`;
    const check = validateEnvelope(raw.envelope);
    if (!check.ok) return `entries[${i}]: ${check.errors.join('; ')}`;
    if (check.envelope.channel !== channel) return `entries[${i}] belongs to channel ${JSON.stringify(check.envelope.channel)}`;
    const id = check.envelope.id.toLowerCase();
    if (ids.has(id)) return `entries[${i}] repeats envelope id ${id}`;
    ids.add(id);
  }
  return value as unknown as JournalBatch;
}
