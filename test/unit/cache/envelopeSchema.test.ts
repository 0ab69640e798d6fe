import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validateEnvelope } from '../../../shared/cache/validateEnvelope';
import { INVALID, VALID } from './envelopeFixtures';

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(path.resolve(__dirname, '../../../docs/cache-envelope.schema.json'), 'utf8')) as Schema;

/**
 * A small evaluator for exactly the JSON Schema keywords docs/cache-envelope.schema.json uses, so
 * the published schema is checked against the same fixtures as the hand-written validator.
 */
function matches(value: unknown, s: Schema | boolean): boolean {
  if (s === true || (typeof s === 'object' && Object.keys(s).filter((k) => k !== 'description').length === 0)) return true;
  if (s === false) return false;
  const known = [
    '$schema',
    '$id',
    'title',
    'description',
    '$defs',
    'type',
    'required',
    'additionalProperties',
    'properties',
    'const',
    'pattern',
    'maxLength',
    'minLength',
    'format',
    'items',
    'minItems',
    'maxItems',
    '$ref',
    'oneOf',
    'enum',
    'minimum',
    'maximum',
  ];
  for (const k of Object.keys(s)) if (!known.includes(k)) throw new Error(`evaluator does not know keyword ${k}`);
  if (s.$ref) return matches(value, resolve(s.$ref as string));
  if (s.oneOf) return (s.oneOf as Schema[]).filter((sub) => matches(value, sub)).length === 1;
  if ('const' in s && JSON.stringify(value) !== JSON.stringify(s.const)) return false;
  if (s.enum && !(s.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))) return false;
  if (s.type) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeOk(value, t))) return false;
  }
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern as string, 'u').test(value)) return false;
    if (s.maxLength !== undefined && [...value].length > (s.maxLength as number)) return false;
    if (s.minLength !== undefined && [...value].length < (s.minLength as number)) return false;
    if (s.format === 'date-time' && Number.isNaN(Date.parse(value))) return false;
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < (s.minimum as number)) return false;
    if (s.maximum !== undefined && value > (s.maximum as number)) return false;
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < (s.minItems as number)) return false;
    if (s.maxItems !== undefined && value.length > (s.maxItems as number)) return false;
    if (s.items && !value.every((v) => matches(v, s.items as Schema))) return false;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const present = Object.keys(obj).filter((k) => obj[k] !== undefined);
    if (s.required && !(s.required as string[]).every((k) => present.includes(k))) return false;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    if (s.additionalProperties === false && present.some((k) => !(k in props))) return false;
    for (const k of present) if (props[k] && !matches(obj[k], props[k])) return false;
  }
  return true;
}

function typeOk(value: unknown, t: string): boolean {
  switch (t) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    default:
      throw new Error(`type ${t}`);
  }
}

function resolve(ref: string): Schema {
  const m = /^#\/\$defs\/(\w+)$/.exec(ref);
  if (!m) throw new Error(`ref ${ref}`);
  return (schema.$defs as Record<string, Schema>)[m[1]!]!;
}

describe('docs/cache-envelope.schema.json and validateEnvelope agree', () => {
  it.each(VALID)('valid: %s', (_, envelope) => {
    expect(matches(envelope, schema)).toBe(true);
    expect(validateEnvelope(envelope)).toMatchObject({ ok: true });
  });

  it.each(INVALID)('invalid: %s', (_, envelope) => {
    expect(matches(envelope, schema)).toBe(false);
    expect(validateEnvelope(envelope)).toMatchObject({ ok: false });
  });
});
