import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SequenceBuffer } from '../../../shared/cache/SequenceBuffer';

/** Everything the buffer releases, in release order. */
function releaseAll(buffer: SequenceBuffer<string>, deliveries: number[]): number[] {
  const released: number[] = [];
  for (const s of deliveries) {
    buffer.offer(s, `e${s}`);
    for (let next = buffer.peekNext(); next; next = buffer.peekNext()) {
      expect(next.item).toBe(`e${next.sequence}`);
      released.push(next.sequence);
      buffer.markApplied(next.sequence);
    }
  }
  return released;
}

describe('SequenceBuffer', () => {
  it('releases any shuffle of 1..n with any duplicates exactly once, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i + 1), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 1, max: n }), { maxLength: 30 })),
        ),
        fc.infiniteStream(fc.nat()),
        ([n, order, dups], positions) => {
          const deliveries = [...order];
          const pos = positions[Symbol.iterator]();
          for (const d of dups) deliveries.splice(pos.next().value % (deliveries.length + 1), 0, d);
          const buffer = new SequenceBuffer<string>(0);
          expect(releaseAll(buffer, deliveries)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(buffer.size).toBe(0);
          expect(buffer.gap()).toBeUndefined();
        },
      ),
    );
  });

  it('drops what is at or below the position and reports the gap before the lowest held', () => {
    const b = new SequenceBuffer<string>(10);
    expect(b.offer(10, 'old')).toBe(false);
    expect(b.offer(13, 'a')).toBe(true);
    expect(b.offer(13, 'dup')).toBe(false);
    expect(b.offer(15, 'b')).toBe(true);
    expect(b.gap()).toEqual({ from: 11, to: 12 });
    expect(b.peekNext()).toBeUndefined();
    expect(b.highest()).toBe(15);
    b.skipTo(13);
    expect(b.lastApplied).toBe(13);
    expect(b.gap()).toEqual({ from: 14, to: 14 });
    expect(b.dropAbove(14)).toBe(1);
    expect(b.size).toBe(0);
    expect(() => b.markApplied(20)).toThrow(/out of order/);
  });
});
