import { afterEach, describe, expect, it } from 'vitest';
import { runCacheJanitor } from '../../../shared/cache/runCacheJanitor';
import { MemorySequenceStore } from '../../../shared/cache/SequenceStore';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

const seqs = (fe: RecordingFrontEnd) => fe.applied.map((e) => e.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('cache front-end catch-up and cold boot (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('a front-end killed mid-stream catches up from the journal when it returns, applying each sequence once', async () => {
    const { ctx, publisher } = cacheSetup();
    const steady = frontEnd(ctx, 'steady');
    const store = new MemorySequenceStore();
    const first = frontEnd(ctx, 'flaky', { store });
    started.push(steady, first);
    await steady.subscriber.start();
    await first.subscriber.start();
    const pump = fanOutPump(ctx);
    pump.start();
    try {
      for (let i = 1; i <= 10; i++) await publisher.publish(generic(i), { channel: 'production' });
      await waitFor(() => first.applied.length >= 4, 20_000, 'first life to apply some');
      await first.subscriber.stop(); // killed mid-stream: its queue stays, its position is in the store
      const diedAt = first.subscriber.lastApplied;
      for (let i = 11; i <= 25; i++) await publisher.publish(generic(i), { channel: 'production' });
      // While it was away the janitor may even have removed its queue: delete it to prove the journal suffices.
      await ctx.queueService.getQueueClient(first.subscriber.queueName).deleteIfExists();
      const second = frontEnd(ctx, 'flaky', { store });
      started.push(second);
      await second.subscriber.start();
      for (let i = 26; i <= 30; i++) await publisher.publish(generic(i), { channel: 'production' });
      await waitFor(() => second.subscriber.lastApplied === 30 && steady.applied.length === 30, 30_000, 'catch-up');
      expect([...seqs(first), ...seqs(second)]).toEqual(range(1, 30));
      expect(seqs(second)[0]).toBe(diedAt + 1);
      expect(seqs(steady)).toEqual(range(1, 30));
      expect(first.coldBoots + second.coldBoots).toBe(0);
    } finally {
      await pump.stop();
    }
  });

  it('a front-end added late starts at the head and applies only what follows', async () => {
    const { ctx, publisher } = cacheSetup();
    for (let i = 1; i <= 7; i++) await publisher.publish(generic(i), { channel: 'production' });
    const late = frontEnd(ctx, 'late');
    started.push(late);
    await late.subscriber.start();
    expect(late.subscriber.lastApplied).toBe(7);
    expect(await late.store.load()).toBe(7);
    const pump = fanOutPump(ctx);
    for (let i = 8; i <= 10; i++) await publisher.publish(generic(i), { channel: 'production' });
    await pump.drain();
    await waitFor(() => late.applied.length === 3, 20_000, 'late front-end');
    expect(seqs(late)).toEqual([8, 9, 10]);
    expect(late.coldBoots).toBe(0);
  });

  it('crossing the cold-boot threshold fires the callback once and resumes after the head', async () => {
    const { ctx, publisher } = cacheSetup({ coldBootThreshold: 5 });
    const store = new MemorySequenceStore();
    const fe = frontEnd(ctx, 'behind', { store });
    started.push(fe);
    await fe.subscriber.start();
    await fe.subscriber.stop();
    for (let i = 1; i <= 8; i++) await publisher.publish(generic(i), { channel: 'production' }); // 8 > 5 behind
    const infos: unknown[] = [];
    const back = frontEnd(ctx, 'behind', { store, onColdBoot: (info) => void infos.push(info) });
    started.push(back);
    await back.subscriber.start();
    expect(infos).toEqual([{ channel: 'production', instance: 'behind', reason: 'too-far-behind', lastApplied: 0, skippedTo: 8 }]);
    expect(back.applied).toEqual([]);
    expect(await store.load()).toBe(8);
    const pump = fanOutPump(ctx);
    // Stale copies of 1..8 still sit in its queue: none may be applied, and no second cold boot.
    for (let i = 9; i <= 11; i++) await publisher.publish(generic(i), { channel: 'production' });
    await pump.drain();
    await waitFor(() => back.applied.length === 3, 20_000, 'after cold boot');
    expect(seqs(back)).toEqual([9, 10, 11]);
    expect(infos).toHaveLength(1);
  });

  it('at the threshold exactly it replays instead of cold-booting', async () => {
    const { ctx, publisher } = cacheSetup({ coldBootThreshold: 5 });
    const store = new MemorySequenceStore(0);
    for (let i = 1; i <= 5; i++) await publisher.publish(generic(i), { channel: 'production' });
    const fe = frontEnd(ctx, 'edge', { store });
    started.push(fe);
    await fe.subscriber.start();
    expect(seqs(fe)).toEqual([1, 2, 3, 4, 5]);
    expect(fe.coldBoots).toBe(0);
  });

  it('cold-boots when the journal no longer holds its next sequence', async () => {
    const { ctx, publisher } = cacheSetup();
    for (let i = 1; i <= 6; i++) await publisher.publish(generic(i), { channel: 'production' });
    await waitFor(async () => (await ctx.journal.readHint('production'))?.last === 6, 5_000, 'the head hint (written in the background)');
    const report = await runCacheJanitor(ctx, { now: new Date(Date.now() + 3 * 24 * 3_600_000) });
    expect(report.channels.find((c) => c.channel === 'production')).toMatchObject({ head: 6, oldest: 6, pruned: 5 });
    const fe = frontEnd(ctx, 'old', { store: new MemorySequenceStore(2) });
    started.push(fe);
    await fe.subscriber.start();
    expect(fe.coldBoots).toBe(1);
    expect(fe.applied).toEqual([]);
    expect(fe.subscriber.lastApplied).toBe(6);
  });
});
