import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { JournalBatch } from '../../../shared/cache/CacheEnvelope';
import { createCacheContext } from '../../../shared/cache/CacheContext';
import { CachePublisher } from '../../../shared/cache/CachePublisher';
import { GroupCommit } from '../../../shared/cache/GroupCommit';
import { Journal } from '../../../shared/cache/Journal';
import { journalEntryPrefix } from '../../../shared/cache/journalNames';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

function envelope(id: string, n: number) {
  return { version: 2, id, channel: 'production', origin: 'test', createdAt: new Date().toISOString(), instructions: generic(n) };
}

/** Every envelope id in the channel's journal, in sequence order (each batch read whole). */
async function journaledIds(journal: Journal): Promise<string[]> {
  const ids: string[] = [];
  for await (const item of journal.container.listBlobsFlat({ prefix: journalEntryPrefix('production') })) {
    const text = (await journal.container.getBlobClient(item.name).downloadToBuffer()).toString('utf8');
    ids.push(...(JSON.parse(text) as JournalBatch).entries.map((e) => e.envelope.id));
  }
  return ids;
}

/** A journal whose process dies right after the batch blob is written: the create succeeded, nobody hears of it. */
class DiesAfterCreate extends Journal {
  override async createBatch(batch: JournalBatch): Promise<boolean> {
    if (await super.createBatch(batch)) throw new Error('process died after writing the batch');
    return false;
  }
}

/** A journal whose process dies just before the batch blob is written. */
class DiesBeforeCreate extends Journal {
  override async createBatch(): Promise<boolean> {
    throw new Error('process died before writing the batch');
  }
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

  it('concurrent publishes of one id in one process share one sequence; the journal holds it once', async () => {
    const { ctx, publisher } = cacheSetup();
    const fes = [frontEnd(ctx, 'x'), frontEnd(ctx, 'y')];
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 6 }, () => publisher.publish(envelope(id, 7), { channel: 'production' })));
    expect(new Set(results.map((r) => r.sequence)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const after = await publisher.publish(generic(8), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied === after.sequence), 20_000, 'applied');
    for (const fe of fes) expect(fe.applied.map((e) => e.id)).toEqual([id, after.id]);
    expect(await journaledIds(ctx.journal)).toEqual([id, after.id]);
  });

  it('a retry through another process (cold, or warm with a stale tail) gets the first sequence, not a second one', async () => {
    const { config, ctx, publisher } = cacheSetup();
    const other = createCacheContext(config);
    const otherPublisher = new CachePublisher(other);
    await otherPublisher.publish(generic(0), { channel: 'production' }); // the other process is warm: its tail is 1
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const firsts = await Promise.all(ids.map((id, i) => publisher.publish(envelope(id, i), { channel: 'production' })));
    // Warm with a stale tail: its create at 2 conflicts, it reads the batches it missed and finds the ids.
    const retries = await Promise.all(ids.map((id, i) => otherPublisher.publish(envelope(id, i), { channel: 'production' })));
    expect(retries).toEqual(firsts.map((f) => ({ ...f, duplicate: true })));
    // Cold: a third process loads the id window from the journal (hint, then forward, then backwards).
    const third = new CachePublisher(createCacheContext(config));
    expect(await third.publish(envelope(ids[2]!, 2), { channel: 'production' })).toEqual({ ...firsts[2], duplicate: true });
    expect(await journaledIds(ctx.journal)).toHaveLength(6);
  });

  it('a crash in the middle of a group commit leaves every envelope of the batch committed once or retryable, never half', async () => {
    const { config, ctx, publisher } = cacheSetup();
    const fes = [frontEnd(ctx, 'p'), frontEnd(ctx, 'q')];
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    await publisher.publish(generic(0), { channel: 'production' });
    const pending = (ids: string[]) => ids.map((id, i) => envelope(id, 100 + i));

    // Crash 1: after the batch blob was written, before the notice and the answers.
    const crashedJournal = new DiesAfterCreate(ctx.blobService.getContainerClient(config.journalContainer));
    const crashed = new GroupCommit(crashedJournal, { windowMs: 600_000, announce: async () => Promise.reject(new Error('unreachable: no notice after a crash')) });
    const afterIds = Array.from({ length: 4 }, () => randomUUID());
    const lost = await Promise.allSettled(pending(afterIds).map((e) => crashed.commit(e)));
    expect(lost.every((r) => r.status === 'rejected')).toBe(true);

    // Crash 2: before the batch blob was written.
    const neverJournal = new DiesBeforeCreate(ctx.blobService.getContainerClient(config.journalContainer));
    const never = new GroupCommit(neverJournal, { windowMs: 600_000 });
    const beforeIds = Array.from({ length: 3 }, () => randomUUID());
    expect((await Promise.allSettled(pending(beforeIds).map((e) => never.commit(e)))).every((r) => r.status === 'rejected')).toBe(true);

    // The first publish went alone (idle channel); the three that queued behind it formed one batch,
    // which the dying process wrote whole (after reading the batch it had written before dying once).
    expect(await ctx.journal.batchLast('production', 2)).toBe(2);
    expect(await ctx.journal.batchLast('production', 3)).toBe(5);
    const journaled = await journaledIds(ctx.journal);
    expect(journaled.slice(1)).toEqual(afterIds);
    for (const id of beforeIds) expect(journaled).not.toContain(id);

    // Front-ends get the crashed batch from the journal (no notice was ever sent), once each.
    const later = await publisher.publish(generic(9), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied === later.sequence), 20_000, 'gap filled from the journal');

    // The clients retry everything (another process): the committed ones keep their sequences, the others commit now.
    const retried = await Promise.all(pending([...afterIds, ...beforeIds]).map((e) => publisher.publish(e, { channel: 'production' })));
    expect(retried.slice(0, 4)).toEqual(afterIds.map((id, i) => ({ id, sequence: 2 + i, duplicate: true })));
    expect(retried.slice(4).every((r) => !r.duplicate && r.sequence > later.sequence)).toBe(true);
    // And a retry in the crashed process itself (its tail is stale: it reads the batch it wrote) finds them too.
    const sameProcess = new GroupCommit(new Journal(ctx.blobService.getContainerClient(config.journalContainer)), { windowMs: 600_000 });
    expect((await sameProcess.commit(pending([afterIds[1]!])[0]!)).sequence).toBe(3);

    await fanOutPump(ctx).drain();
    const total = 1 + afterIds.length + 1 + beforeIds.length;
    await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied === total), 20_000, 'retries applied');
    for (const fe of fes) {
      const ids = fe.applied.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length); // applied once each
      for (const id of [...afterIds, ...beforeIds]) expect(ids).toContain(id);
      expect(fe.applied.map((e) => e.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
    expect(new Set(await journaledIds(ctx.journal)).size).toBe(total);
  });
});
