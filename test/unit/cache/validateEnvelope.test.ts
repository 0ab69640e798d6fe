import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../../shared/cache/validateEnvelope';
import { toEnvelope } from '../../../shared/cache/toEnvelope';
import { parseFrontEndMessage } from '../../../shared/cache/parseFrontEndMessage';
import { describeInstruction } from '../../../shared/cache/describeInstruction';
import { fromQueueMetadata, isLive, toQueueMetadata } from '../../../shared/cache/frontEndMetadata';
import { UMBRACO_CONTENT_TYPE, UMBRACO_USER, VALID } from './envelopeFixtures';

describe('validateEnvelope error messages name the field', () => {
  it('lists every problem with its path', () => {
    const result = validateEnvelope({
      version: 2,
      channel: 'Prod',
      instructions: [
        { RefreshType: 9, RefresherId: 'x' },
        { refresher: 'a', type: 'Nope', ids: [true] },
      ],
    });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: string[] }).errors;
    expect(errors).toEqual([
      'id: is missing',
      'channel: must be 1-24 lowercase letters, digits and single inner hyphens',
      'origin: is missing',
      'createdAt: is missing',
      'instructions[0].RefreshType: must be an integer 0-5 (RefreshMethodType)',
      'instructions[0].RefresherId: must be a GUID',
      'instructions[1].type: must be one of RefreshAll, RefreshByGuid, RefreshById, RefreshByIds, RefreshByJson, RemoveById or 0-5',
      'instructions[1].ids[0]: must be an integer or a non-empty string',
    ]);
  });
});

// Issue #11 item 3: "[1," was accepted (201) and delivered; the schema's pattern cannot see it.
describe('validateEnvelope reads JsonIds content', () => {
  it.each(['[1,', '[', '[1] x', '[}'])('refuses JsonIds %j, which is not a JSON array', (JsonIds) => {
    const envelope = { ...(VALID[0]![1] as object), instructions: [{ ...UMBRACO_USER, JsonIds }] };
    expect(validateEnvelope(envelope)).toMatchObject({ ok: false, errors: ['instructions[0].JsonIds: must be a JSON array as a string (e.g. "[1,2]") or null'] });
  });

  it('accepts a JSON array string', () => {
    const envelope = { ...(VALID[0]![1] as object), instructions: [{ ...UMBRACO_USER, JsonIds: ' [1, 2]' }] };
    expect(validateEnvelope(envelope)).toMatchObject({ ok: true });
  });
});

describe('toEnvelope', () => {
  const defaults = { channel: 'production', origin: 'cli', now: () => new Date('2024-01-02T03:04:05.000Z'), newId: () => '11111111-2222-4333-8444-555555555555' };
  it('wraps instructions and fills defaults', () => {
    expect(toEnvelope([UMBRACO_USER], defaults)).toEqual({
      ok: true,
      envelope: { version: 2, id: '11111111-2222-4333-8444-555555555555', channel: 'production', origin: 'cli', createdAt: '2024-01-02T03:04:05.000Z', instructions: [UMBRACO_USER] },
    });
    expect(toEnvelope(UMBRACO_CONTENT_TYPE, defaults)).toMatchObject({ ok: true, envelope: { instructions: [UMBRACO_CONTENT_TYPE] } });
    expect(toEnvelope({ instructions: [{ refresher: 'x', type: 0 }], origin: 'mine' }, defaults)).toMatchObject({ ok: true, envelope: { origin: 'mine' } });
  });
  it('keeps given fields (a wrong version stays wrong), lower-cases the id and refuses another channel', () => {
    const env = VALID[0]![1] as { id: string };
    expect(toEnvelope({ ...env, id: env.id.toUpperCase() }, defaults)).toMatchObject({ ok: true, envelope: { id: env.id.toLowerCase() } });
    expect(toEnvelope({ ...env, version: 7 }, defaults)).toMatchObject({ ok: false, code: 'unsupported_version' });
    expect(toEnvelope({ ...env, channel: 'staging' }, defaults)).toMatchObject({ ok: false, code: 'channel_mismatch' });
    expect(toEnvelope('text', defaults)).toMatchObject({ ok: false, code: 'not_an_object' });
    expect(toEnvelope([], defaults)).toMatchObject({ ok: false, code: 'invalid_envelope' });
  });
});

describe('front-end messages and metadata', () => {
  const envelope = VALID[3]![1] as { channel: string; id: string };
  it('accepts whole batches with exactly one of entries, inJournal, void, in ascending order', () => {
    const msg = (...batches: unknown[]) => JSON.stringify({ version: 2, channel: 'production', batches });
    const entries = [
      { sequence: 3, envelope },
      { sequence: 4, envelope: { ...envelope, id: '11111111-2222-4333-8444-555555555555' } },
    ];
    expect(parseFrontEndMessage(msg({ first: 3, last: 4, entries }, { first: 5, last: 5, inJournal: true }, { first: 6, last: 9, void: true }))).toMatchObject({
      batches: [{ first: 3, entries }, { inJournal: true }, { void: true }],
    });
    expect(parseFrontEndMessage(msg({ first: 3, last: 3, void: true, inJournal: true }))).toMatch(/batches\[0\]: exactly one/);
    expect(parseFrontEndMessage(msg({ first: 3, last: 3, void: true }, { first: -1, last: 3, void: true }))).toMatch(/batches\[1\]: first/);
    expect(parseFrontEndMessage(msg({ first: 5, last: 5, void: true }, { first: 3, last: 4, entries }))).toMatch(/ascending/);
    expect(parseFrontEndMessage(msg({ first: 3, last: 5, entries }))).toMatch(/must hold 3 entries/);
    expect(parseFrontEndMessage(msg({ first: 2, last: 3, entries }))).toMatch(/entries\[0\] must have sequence 2/);
    expect(parseFrontEndMessage(JSON.stringify({ version: 2, channel: 'staging', batches: [{ first: 3, last: 4, entries }] }))).toMatch(/channel differs/);
    expect(parseFrontEndMessage(msg())).toMatch(/non-empty/);
    expect(parseFrontEndMessage(JSON.stringify({ version: 1, channel: 'production', batches: [{ first: 1, last: 1, void: true }] }))).toMatch(/version/);
    expect(parseFrontEndMessage('nope')).toBe('not JSON');
  });

  it('round-trips metadata and judges liveness by the heartbeat', () => {
    const now = new Date('2024-01-01T00:10:00Z');
    const meta = fromQueueMetadata(toQueueMetadata('production', 'wëb 01/ä', new Date('2024-01-01T00:00:00Z')))!;
    expect(meta).toEqual({ channel: 'production', instance: 'wëb 01/ä', heartbeat: new Date('2024-01-01T00:00:00Z') });
    expect(isLive(meta, now, 10)).toBe(true);
    expect(isLive(meta, new Date(now.getTime() + 1), 10)).toBe(false);
    expect(isLive({ ...meta, heartbeat: undefined }, now, 10)).toBe(false);
    expect(fromQueueMetadata({ instance: 'x' })).toBeUndefined();
  });

  it('describes instructions for operators', () => {
    expect(describeInstruction(UMBRACO_USER as never)).toBe('User RefreshByIds ids=[1]');
    expect(describeInstruction({ refresher: 'content', type: 2, ids: [5] })).toBe('content RefreshById ids=[5]');
  });
});
