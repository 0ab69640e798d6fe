import { describe, expect, it } from 'vitest';
import { parseJournalBatch } from '../../../shared/cache/parseJournalBatch';
import { VALID } from './envelopeFixtures';

describe('parseJournalBatch', () => {
  const envelope = VALID[3]![1] as { id: string; channel: string };
  const other = { ...envelope, id: '11111111-2222-4333-8444-555555555555' };
  const batch = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: 2,
      channel: 'production',
      first: 7,
      last: 8,
      previous: 4,
      batchId: '6f1c0f3e-0d7e-4c1b-9f51-0a3a1c1c2b3d',
      journaledAt: '2024-05-01T10:00:00.123Z',
      entries: [
        { sequence: 7, envelope },
        { sequence: 8, envelope: other },
      ],
      ...overrides,
    });

  it('accepts a batch whose entries tile first..last', () => {
    expect(parseJournalBatch(batch(), 'production', 7)).toMatchObject({ first: 7, last: 8, entries: [{ sequence: 7 }, { sequence: 8 }] });
    expect(parseJournalBatch(`\uFEFF${batch()}`, 'production', 7)).toMatchObject({ first: 7 });
  });

  it.each([
    ['not JSON', '{', 7, /not JSON/],
    ['another version', batch({ version: 1 }), 7, /unsupported version 1/],
    ['another channel', batch(), 7, /belongs to channel/],
    ['a first other than the name', batch(), 6, /first is 7, the blob name says 6/],
    ['last before first', batch({ last: 6 }), 7, /last must be/],
    ['previous not below first', batch({ previous: 7 }), 7, /previous must be/],
    ['a batchId that is not a UUID', batch({ batchId: 'x' }), 7, /batchId must be a UUID/],
    ['no batchId', batch({ batchId: undefined }), 7, /batchId must be a UUID/],
    ['a journaledAt without a time', batch({ journaledAt: '2024-05-01' }), 7, /journaledAt must be an RFC 3339 date-time/],
    ['a journaledAt without a zone', batch({ journaledAt: '2024-05-01T10:00:00' }), 7, /journaledAt must be an RFC 3339 date-time/],
    ['a journaledAt Date.parse would take', batch({ journaledAt: 'May 1, 2024' }), 7, /journaledAt must be an RFC 3339 date-time/],
    ['too few entries', batch({ last: 9 }), 7, /must hold 3 entries/],
    [
      'a hole in the sequences',
      batch({
        entries: [
          { sequence: 7, envelope },
          { sequence: 9, envelope: other },
        ],
      }),
      7,
      /entries\[1\] must have sequence 8/,
    ],
    [
      'a repeated id',
      batch({
        entries: [
          { sequence: 7, envelope },
          { sequence: 8, envelope },
        ],
      }),
      7,
      /repeats envelope id/,
    ],
    [
      'an invalid envelope',
      batch({
        entries: [
          { sequence: 7, envelope },
          { sequence: 8, envelope: { ...other, version: 1 } },
        ],
      }),
      7,
      /entries\[1\]/,
    ],
  ])('refuses %s', (_, text, first, problem) => {
    const channel = _ === 'another channel' ? 'staging' : 'production';
    expect(parseJournalBatch(text, channel, first)).toMatch(problem);
  });
});
