import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { JournalEntry } from '../../../shared/cache/CacheEnvelope';
import { journalEntryName } from '../../../shared/cache/journalNames';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

function envelope(id: string, n: number) {
  return { version: 2, id, channel: 'production', origin: 'test', createdAt: new Date().toISOString(), instructions: generic(n) };
}

describe('cache publish idempotency (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('publishing the same envelope id again returns the same sequence and is applied once', async () => {
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'one');
    started.push(fe);
    await fe.subscriber.start();
    const id = randomUUID();
    const first = await publisher.publish(envelope(id, 1), { channel: 'production' });
    const again = await publisher.publish(envelope(id, 1), { channel: 'production' });
    const other = await publisher.publish(generic(2), { channel: 'production' });
    expect(first).toEqual({ sequence: 1, id, duplicate: false });
    expect(again).toEqual({ sequence: 1, id, duplicate: true });
    expect(other.sequence).toBe(2);
    await fanOutPump(ctx).drain();
    await waitFor(() => fe.applied.length === 2, 20_000, 'applied');
    expect(fe.applied.map((e) => e.id)).toEqual([id, other.id]);
  });

  it('concurrent publishes of one id: one sequence owns it, the others are void and skipped by every front-end', async () => {
    const { ctx, publisher } = cacheSetup();
    const fes = [frontEnd(ctx, 'x'), frontEnd(ctx, 'y')];
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 6 }, () => publisher.publish(envelope(id, 7), { channel: 'production' })));
    expect(new Set(results.map((r) => r.sequence)).size).toBe(1);
    const after = await publisher.publish(generic(8), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied === after.sequence), 20_000, 'applied');
    for (const fe of fes) expect(fe.applied.map((e) => e.id)).toEqual([id, after.id]);
  });

  it('a publisher that crashed after journaling (no id index, no notice) leaves an entry every front-end settles the same way', async () => {
    const { ctx, publisher } = cacheSetup();
    const fes = [frontEnd(ctx, 'p'), frontEnd(ctx, 'q')];
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    await publisher.publish(generic(1), { channel: 'production' });
    // The crash: step one of a publish (the journal entry at the next sequence) and nothing else.
    const orphanId = randomUUID();
    const orphan: JournalEntry = { version: 2, sequence: 2, journaledAt: new Date().toISOString(), envelope: envelope(orphanId, 2) as JournalEntry['envelope'] };
    const text = JSON.stringify(orphan);
    await ctx.journal.container.getBlockBlobClient(journalEntryName('production', 2)).upload(text, Buffer.byteLength(text), { conditions: { ifNoneMatch: '*' }, metadata: { envelopeid: orphanId } });
    const third = await publisher.publish(generic(3), { channel: 'production' });
    expect(third.sequence).toBe(3);
    // The client retries the crashed publish: same id, so it must not be applied twice.
    const retried = await publisher.publish(envelope(orphanId, 2), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied >= Math.max(retried.sequence, 3)), 20_000, 'applied');
    for (const fe of fes) {
      const ids = fe.applied.map((e) => e.id);
      expect(ids.filter((i) => i === orphanId)).toHaveLength(1);
      expect(ids).toHaveLength(3);
    }
    expect(fes[0]!.applied.map((e) => e.sequence)).toEqual(fes[1]!.applied.map((e) => e.sequence));
  });
});
