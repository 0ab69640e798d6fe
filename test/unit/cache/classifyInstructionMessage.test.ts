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
    ['wrong version (v1)', { ...envelope, version: 1 }, 'unsupported_version'],
    ['missing version', { channel: 'production' }, 'unsupported_version'],
    ['missing fields', { version: 2, instructions: [] }, 'invalid_envelope'],
    ['unknown channel', { ...envelope, channel: 'nowhere' }, 'unknown_channel'],
    ['too large', { ...envelope, origin: 'o'.repeat(400), instructions: Array.from({ length: 40 }, () => (envelope.instructions as unknown[])[0]) }, 'envelope_too_large'],
    ['a notice with a bad first', { version: 2, channel: 'production', first: 0, last: 1 }, 'invalid_notice'],
    ['a notice ending before it starts', { version: 2, channel: 'production', first: 5, last: 4 }, 'invalid_notice'],
    ['a v1 notice', { version: 2, channel: 'production', first: 3, last: 3, sequence: 3, id: envelope.id }, 'invalid_notice'],
    ['a notice for an unknown channel', { version: 2, channel: 'nowhere', first: 3, last: 3 }, 'unknown_channel'],
    ['a claim check outside claims/', { version: 2, claimCheck: { blob: 'production/seq/1.json' } }, 'invalid_claim_check'],
    ['a claim check outside any channel (v1 path)', { version: 2, claimCheck: { blob: 'claims/production/x.json' } }, 'invalid_claim_check'],
    ['a claim check climbing out', { version: 2, claimCheck: { blob: 'production/claims/../../x' } }, 'invalid_claim_check'],
    ['a claim check of an unknown channel', { version: 2, claimCheck: { blob: 'nowhere/claims/x.json' } }, 'unknown_channel'],
  ];
  it.each(cases)('rejects %s', (_, input, code) => {
    expect(classifyInstructionMessage(input, options)).toMatchObject({ kind: 'rejected', code });
  });

  it('accepts envelopes parsed by the worker or as text, notices and claim checks', () => {
    expect(classifyInstructionMessage(envelope, options)).toMatchObject({ kind: 'envelope', envelope });
    expect(classifyInstructionMessage(JSON.stringify(envelope), options)).toMatchObject({ kind: 'envelope' });
    expect(classifyInstructionMessage(Buffer.from(JSON.stringify(envelope)), options)).toMatchObject({ kind: 'envelope' });
    expect(classifyInstructionMessage({ version: 2, channel: 'staging', first: 7, last: 9 }, options)).toEqual({ kind: 'notice', notice: { version: 2, channel: 'staging', first: 7, last: 9 } });
    expect(classifyInstructionMessage({ version: 2, claimCheck: { blob: 'production/claims/x.json' } }, options)).toEqual({ kind: 'claim', blob: 'production/claims/x.json', channel: 'production' });
  });

  it('keeps the original text for the rejected queue', () => {
    expect(messageText('raw')).toBe('raw');
    expect(messageText({ a: 1 })).toBe('{"a":1}');
  });
});
