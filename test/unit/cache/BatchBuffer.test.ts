import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BatchBuffer } from '../../../shared/cache/BatchBuffer';

type Batch = { first: number; last: number };

/** Everything the buffer releases, in release order. */
function releaseAll(buffer: BatchBuffer<string>, deliveries: Batch[]): Batch[] {
  const released: Batch[] = [];
  for (const b of deliveries) {
    buffer.offer(b.first, b.last, `b${b.first}`);
    for (let next = buffer.peekNext(); next; next = buffer.peekNext()) {
      expect(next.item).toBe(`b${next.first}`);
      released.push({ first: next.first, last: next.last });
      buffer.markApplied(next.first, next.last);
    }
  }
  return released;
}

/** Batch lengths -> the batches tiling 1..n. */
function tile(lengths: number[]): Batch[] {
  const batches: Batch[] = [];
  let first = 1;
  for (const l of lengths) {
    batches.push({ first, last: first + l - 1 });
    first += l;
  }
  return batches;
}

describe('BatchBuffer', () => {
  it('releases any shuffle of batches tiling 1..n, with any duplicates, exactly once and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }).chain((lengths) => {
          const batches = tile(lengths);
          return fc.tuple(fc.constant(batches), fc.shuffledSubarray(batches, { minLength: batches.length, maxLength: batches.length }), fc.array(fc.constantFrom(...batches), { maxLength: 30 }));
        }),
        fc.infiniteStream(fc.nat()),
        ([batches, order, dups], positions) => {
          const deliveries = [...order];
          const pos = positions[Symbol.iterator]();
          for (const d of dups) deliveries.splice(pos.next().value % (deliveries.length + 1), 0, d);
          const buffer = new BatchBuffer<string>(0);
          expect(releaseAll(buffer, deliveries)).toEqual(batches);
          expect(buffer.lastApplied).toBe(batches.at(-1)!.last);
          expect(buffer.size).toBe(0);
          expect(buffer.gap()).toBeUndefined();
        },
      ),
    );
  });

  it('drops what is at or below the position and reports the gap before the lowest held batch', () => {
    const b = new BatchBuffer<string>(10);
    expect(b.offer(10, 12, 'old')).toBe(false);
    expect(b.offer(13, 14, 'a')).toBe(true);
    expect(b.offer(13, 14, 'dup')).toBe(false);
    expect(b.offer(17, 19, 'b')).toBe(true);
    expect(b.gap()).toEqual({ from: 11, to: 12 });
    expect(b.peekNext()).toBeUndefined();
    expect(b.highest()).toBe(19);
    b.skipTo(14);
    expect(b.lastApplied).toBe(14);
    expect(b.gap()).toEqual({ from: 15, to: 16 });
    expect(b.dropAbove(18)).toBe(1);
    expect(b.size).toBe(0);
    expect(() => b.markApplied(20, 21)).toThrow(/out of order/);
  });
});
