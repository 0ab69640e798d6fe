import { CACHE_PROTOCOL_VERSION, MAX_INSTRUCTIONS_PER_ENVELOPE, REFRESH_TYPES, type CacheEnvelope, type CacheInstruction } from './CacheEnvelope';

/**
 * Hand-written validation of envelope v2, mirroring docs/cache-envelope.schema.json keyword for
 * keyword (test/unit/cache/envelopeSchema.test.ts checks both agree on the same fixtures).
 */

export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const DATE_TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** Channel names go into blob paths and queue names: lowercase, digits, single inner hyphens, at most 24. */
export const CHANNEL_PATTERN = /^[a-z0-9](?:-?[a-z0-9])*$/;
export const CHANNEL_MAX_LENGTH = 24;
export const JSON_IDS_PATTERN = /^\s*\[/;

/** The pattern is what the schema can say; the content must also parse, as Umbraco deserialises it. */
function isJsonArray(text: string): boolean {
  if (!JSON_IDS_PATTERN.test(text)) return false;
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}
export const ORIGIN_MAX_LENGTH = 500;
export const REFRESHER_MAX_LENGTH = 200;

export type EnvelopeValidation = { ok: true; envelope: CacheEnvelope } | { ok: false; code: 'not_an_object' | 'unsupported_version' | 'invalid_envelope'; errors: string[] };

export function isChannelName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= CHANNEL_MAX_LENGTH && CHANNEL_PATTERN.test(name);
}

export function validateEnvelope(raw: unknown): EnvelopeValidation {
  if (!isObject(raw)) return { ok: false, code: 'not_an_object', errors: ['the envelope must be a JSON object'] };
  if (raw.version !== CACHE_PROTOCOL_VERSION) {
    return {
      ok: false,
      code: 'unsupported_version',
      errors: [`version: ${raw.version === undefined ? 'is missing' : `${JSON.stringify(raw.version)} is not supported`} (this is protocol version ${CACHE_PROTOCOL_VERSION})`],
    };
  }
  const errors: string[] = [];
  unknownKeys(raw, '', ['version', 'id', 'channel', 'origin', 'createdAt', 'instructions'], errors);
  if (!isString(raw.id) || !UUID_PATTERN.test(raw.id)) errors.push(`id: ${missingOr(raw.id, 'must be a UUID')}`);
  if (!isChannelName(raw.channel)) errors.push(`channel: ${missingOr(raw.channel, `must be 1-${CHANNEL_MAX_LENGTH} lowercase letters, digits and single inner hyphens`)}`);
  if (!isString(raw.origin) || raw.origin.length < 1 || raw.origin.length > ORIGIN_MAX_LENGTH) errors.push(`origin: ${missingOr(raw.origin, `must be a string of 1-${ORIGIN_MAX_LENGTH} characters`)}`);
  if (!isString(raw.createdAt) || !DATE_TIME_PATTERN.test(raw.createdAt) || Number.isNaN(Date.parse(raw.createdAt))) {
    errors.push(`createdAt: ${missingOr(raw.createdAt, 'must be an ISO 8601 date-time with a time zone')}`);
  }
  if (!Array.isArray(raw.instructions)) {
    errors.push(`instructions: ${missingOr(raw.instructions, 'must be an array')}`);
  } else if (raw.instructions.length < 1 || raw.instructions.length > MAX_INSTRUCTIONS_PER_ENVELOPE) {
    errors.push(`instructions: must hold 1-${MAX_INSTRUCTIONS_PER_ENVELOPE} instructions (has ${raw.instructions.length})`);
  } else {
    raw.instructions.forEach((instruction, i) => validateInstruction(instruction, `instructions[${i}]`, errors));
  }
  if (errors.length > 0) return { ok: false, code: 'invalid_envelope', errors };
  return { ok: true, envelope: raw as unknown as CacheEnvelope };
}

export function validateInstruction(raw: unknown, where: string, errors: string[]): raw is CacheInstruction {
  const before = errors.length;
  if (!isObject(raw)) {
    errors.push(`${where}: must be an object`);
    return false;
  }
  const umbraco = 'RefreshType' in raw || 'RefresherId' in raw;
  const generic = 'refresher' in raw || 'type' in raw;
  if (umbraco && generic) {
    errors.push(`${where}: mixes the Umbraco form (RefreshType, RefresherId) and the generic form (refresher, type)`);
    return false;
  }
  if (!umbraco && !generic) {
    errors.push(`${where}: is neither an Umbraco RefreshInstruction (RefreshType, RefresherId) nor a generic instruction (refresher, type)`);
    return false;
  }
  if (umbraco) {
    unknownKeys(raw, `${where}.`, ['RefreshType', 'RefresherId', 'GuidId', 'IntId', 'JsonIds', 'JsonIdCount', 'JsonPayload'], errors);
    if (!isIntIn(raw.RefreshType, 0, 5)) errors.push(`${where}.RefreshType: ${missingOr(raw.RefreshType, 'must be an integer 0-5 (RefreshMethodType)')}`);
    if (!isString(raw.RefresherId) || !UUID_PATTERN.test(raw.RefresherId)) errors.push(`${where}.RefresherId: ${missingOr(raw.RefresherId, 'must be a GUID')}`);
    if (raw.GuidId !== undefined && raw.GuidId !== null && !(isString(raw.GuidId) && UUID_PATTERN.test(raw.GuidId))) errors.push(`${where}.GuidId: must be a GUID or null`);
    if (raw.IntId !== undefined && raw.IntId !== null && !Number.isInteger(raw.IntId)) errors.push(`${where}.IntId: must be an integer or null`);
    if (raw.JsonIds !== undefined && raw.JsonIds !== null && !(isString(raw.JsonIds) && isJsonArray(raw.JsonIds)))
      errors.push(`${where}.JsonIds: must be a JSON array as a string (e.g. "[1,2]") or null`);
    if (raw.JsonIdCount !== undefined && !isIntIn(raw.JsonIdCount, 0, Number.MAX_SAFE_INTEGER)) errors.push(`${where}.JsonIdCount: must be a non-negative integer`);
    if (raw.JsonPayload !== undefined && raw.JsonPayload !== null && !isString(raw.JsonPayload)) errors.push(`${where}.JsonPayload: must be a string (serialised JSON) or null`);
  } else {
    unknownKeys(raw, `${where}.`, ['refresher', 'type', 'ids', 'payload'], errors);
    if (!isString(raw.refresher) || raw.refresher.length < 1 || raw.refresher.length > REFRESHER_MAX_LENGTH)
      errors.push(`${where}.refresher: ${missingOr(raw.refresher, `must be a string of 1-${REFRESHER_MAX_LENGTH} characters`)}`);
    if (!(isIntIn(raw.type, 0, 5) || (isString(raw.type) && (REFRESH_TYPES as readonly string[]).includes(raw.type)))) {
      errors.push(`${where}.type: ${missingOr(raw.type, `must be one of ${REFRESH_TYPES.join(', ')} or 0-5`)}`);
    }
    if (raw.ids !== undefined) {
      if (!Array.isArray(raw.ids)) errors.push(`${where}.ids: must be an array of integers or strings`);
      else
        raw.ids.forEach((id, i) => {
          if (!(Number.isInteger(id) || (isString(id) && id.length >= 1 && id.length <= REFRESHER_MAX_LENGTH))) errors.push(`${where}.ids[${i}]: must be an integer or a non-empty string`);
        });
    }
  }
  return errors.length === before;
}

function unknownKeys(obj: Record<string, unknown>, prefix: string, allowed: string[], errors: string[]): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) errors.push(`${prefix}${key}: unknown field`);
}

function missingOr(value: unknown, problem: string): string {
  return value === undefined ? 'is missing' : problem;
}

export function isObject(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function isString(raw: unknown): raw is string {
  return typeof raw === 'string';
}

function isIntIn(raw: unknown, min: number, max: number): raw is number {
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= min && raw <= max;
}
