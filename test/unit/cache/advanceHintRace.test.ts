import { describe, expect, it } from 'vitest';
import { Journal } from '../../../shared/cache/Journal';

/**
 * Regression: an advance for a batch the hint already covers finished its writer without
 * suspending, which left the writer marked busy forever and hung every later advance.
 * A stand-in container records the hint writes (pure logic under test: the coalescing writer).
 */
describe('Journal.advanceHint', () => {
  function recordingJournal(hintIntervalMs: number) {
    const writes: Array<{ first: number; last: number; at: number }> = [];
    let etag = 0;
    const container = {
      getBlockBlobClient: () => ({
        upload: async (body: string) => {
          await new Promise((r) => setTimeout(r, 5));
          const { first, last } = JSON.parse(body) as { first: number; last: number };
          writes.push({ first, last, at: Date.now() });
          return { etag: String(++etag) };
        },
      }),
      getBlobClient: () => ({ download: async () => Promise.reject(Object.assign(new Error('404'), { statusCode: 404 })) }),
    };
    return { writes, journal: new Journal(container as never, { hintIntervalMs }) };
  }

  it('never hangs when an advance is already covered, and coalesces concurrent ones', async () => {
    const { writes, journal } = recordingJournal(0);
    await journal.advanceHint('c', { first: 5, last: 6 });
    await journal.advanceHint('c', { first: 5, last: 5 }); // covered already: must resolve, not leave the writer busy
    await Promise.all([journal.advanceHint('c', { first: 7, last: 7 }), journal.advanceHint('c', { first: 9, last: 9 }), journal.advanceHint('c', { first: 8, last: 8 })]);
    await journal.advanceHint('c', { first: 10, last: 12 });
    expect(writes[0]).toMatchObject({ first: 5, last: 6 });
    expect(writes.at(-1)).toMatchObject({ first: 10, last: 12 });
    const lasts = writes.map((w) => w.last);
    expect(lasts).toEqual([...lasts].sort((a, b) => a - b)); // never backwards
    expect(writes.length).toBeLessThanOrEqual(4); // 7, 8, 9 coalesce into at most two writes
  });

  it('writes at most once per interval however many batches commit', async () => {
    const { writes, journal } = recordingJournal(100);
    const advances: Array<Promise<void>> = [];
    for (let last = 1; last <= 30; last++) {
      advances.push(journal.advanceHint('c', { first: last, last }));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(advances);
    expect(writes.at(-1)).toMatchObject({ first: 30, last: 30 });
    expect(writes.length).toBeLessThanOrEqual(4); // ~150 ms of commits: the first write, then one per 100 ms
    for (let i = 1; i < writes.length; i++) expect(writes[i]!.at - writes[i - 1]!.at).toBeGreaterThanOrEqual(95);
  });
});
