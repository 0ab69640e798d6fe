import { describe, expect, it } from 'vitest';
import { classifyInstructionMessage, messageText } from '../../../shared/cache/classifyInstructionMessage';
import { VALID } from './envelopeFixtures';

const options = { channels: new Set(['production', 'staging']), maxEnvelopeBytes: 4096 };
const envelope = VALID[0]![1] as Record<string, unknown>;

describe('classifyInstructionMessage', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a non-JSON string', 'hello {', 'not_json'],
    ['JSON that is not an object', '[1,2]', 'not_an_object'],
    ['a parsed number from the worker', 42, 'not_an_object'],
    ['wrong version', { ...envelope, version: 2 }, 'unsupported_version'],
    ['missing version', { channel: 'production' }, 'unsupported_version'],
    ['missing fields', { version: 1, instructions: [] }, 'invalid_envelope'],
    ['unknown channel', { ...envelope, channel: 'nowhere' }, 'unknown_channel'],
    ['too large', { ...envelope, origin: 'o'.repeat(400), instructions: Array.from({ length: 40 }, () => (envelope.instructions as unknown[])[0]) }, 'envelope_too_large'],
    ['a notice with a bad sequence', { version: 1, channel: 'production', sequence: 0, id: envelope.id }, 'invalid_notice'],
    ['a notice for an unknown channel', { version: 1, channel: 'nowhere', sequence: 3, id: envelope.id }, 'unknown_channel'],
    ['a claim check outside claims/', { version: 1, claimCheck: { blob: 'production/seq/1.json' } }, 'invalid_claim_check'],
    ['a claim check climbing out', { version: 1, claimCheck: { blob: 'claims/../x' } }, 'invalid_claim_check'],
  ];
  it.each(cases)('rejects %s', (_, input, code) => {
    expect(classifyInstructionMessage(input, options)).toMatchObject({ kind: 'rejected', code });
  });

  it('accepts envelopes parsed by the worker or as text, notices and claim checks', () => {
    expect(classifyInstructionMessage(envelope, options)).toMatchObject({ kind: 'envelope', envelope });
    expect(classifyInstructionMessage(JSON.stringify(envelope), options)).toMatchObject({ kind: 'envelope' });
    expect(classifyInstructionMessage(Buffer.from(JSON.stringify(envelope)), options)).toMatchObject({ kind: 'envelope' });
    expect(classifyInstructionMessage({ version: 1, channel: 'staging', sequence: 7, id: envelope.id }, options)).toEqual({ kind: 'notice', notice: { version: 1, channel: 'staging', sequence: 7, id: envelope.id } });
    expect(classifyInstructionMessage({ version: 1, claimCheck: { blob: 'claims/production/x.json' } }, options)).toEqual({ kind: 'claim', blob: 'claims/production/x.json' });
  });

  it('keeps the original text for the rejected queue', () => {
    expect(messageText('raw')).toBe('raw');
    expect(messageText({ a: 1 })).toBe('{"a":1}');
  });
});
