import { describe, expect, it } from 'vitest';
import { Journal } from '../../../shared/cache/Journal';

/**
 * Regression: an advance for a sequence the hint already covers finished its writer without
 * suspending, which left the writer marked busy forever and hung every later publish.
 * A stand-in container records the hint writes (pure logic under test: the coalescing writer).
 */
describe('Journal.advanceHint', () => {
  it('never hangs when an advance is already covered, and coalesces concurrent ones', async () => {
    const writes: number[] = [];
    let etag = 0;
    const container = {
      getBlockBlobClient: () => ({
        upload: async (body: string) => {
          await new Promise((r) => setTimeout(r, 5));
          writes.push((JSON.parse(body) as { sequence: number }).sequence);
          return { etag: String(++etag) };
        },
      }),
      getBlobClient: () => ({ download: async () => Promise.reject(Object.assign(new Error('404'), { statusCode: 404 })) }),
      listBlobsFlat: () => ({ byPage: () => ({ [Symbol.asyncIterator]: async function* () {} }) }),
    };
    const journal = new Journal(container as never);
    await journal.advanceHint('c', 6);
    await journal.advanceHint('c', 5); // covered already: must resolve, not leave the writer busy
    await Promise.all([journal.advanceHint('c', 7), journal.advanceHint('c', 9), journal.advanceHint('c', 8)]);
    await journal.advanceHint('c', 10);
    expect(writes[0]).toBe(6);
    expect(writes.at(-1)).toBe(10);
    expect(writes).toEqual([...writes].sort((a, b) => a - b)); // never backwards
    expect(writes.length).toBeLessThanOrEqual(4); // 7, 8, 9 coalesce into at most two writes
  });
});
