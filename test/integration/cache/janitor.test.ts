import { describe, expect, it } from 'vitest';
import { toQueueMetadata } from '../../../shared/cache/frontEndMetadata';
import { frontEndQueueName } from '../../../shared/cache/frontEndQueueName';
import { runCacheJanitor } from '../../../shared/cache/runCacheJanitor';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor } from './cacheHarness';

describe('cache janitor (Azurite)', () => {
  it("deletes front-end queues with a stale heartbeat, keeps live ones and other channels' queues", async () => {
    const { ctx, publisher } = cacheSetup();
    const live = frontEnd(ctx, 'alive');
    await live.subscriber.start();
    try {
      const staleName = frontEndQueueName(ctx.config.frontEndQueuePrefix, 'production', 'gone');
      const stale = ctx.queueService.getQueueClient(staleName);
      await stale.create({ metadata: toQueueMetadata('production', 'gone', new Date(Date.now() - 11 * 60_000)) });
      const stagingName = frontEndQueueName(ctx.config.frontEndQueuePrefix, 'staging', 'alive');
      await ctx.queueService.getQueueClient(stagingName).create({ metadata: toQueueMetadata('staging', 'alive', new Date()) });

      await publisher.publish(generic(1), { channel: 'production' });
      // A stale front-end gets no deliveries.
      await fanOutPump(ctx).drain();
      expect((await stale.getProperties()).approximateMessagesCount).toBe(0);

      const report = await runCacheJanitor(ctx);
      const prod = report.channels.find((c) => c.channel === 'production')!;
      expect(prod.frontEnds).toEqual({ live: 1, stale: 1, deleted: [staleName] });
      expect(report.channels.find((c) => c.channel === 'staging')!.frontEnds).toEqual({ live: 1, stale: 0, deleted: [] });
      expect(await stale.exists()).toBe(false);
      expect(await ctx.queueService.getQueueClient(live.subscriber.queueName).exists()).toBe(true);
      expect(prod).toMatchObject({ head: 1, oldest: 1, pruned: 0 });
    } finally {
      await live.subscriber.stop();
    }
  });

  it('prunes batches older than the retention, never the one the head hint names, and publishing continues after the head', async () => {
    const { ctx, publisher } = cacheSetup({ retentionHours: 1 });
    const results = [];
    for (let i = 1; i <= 5; i++) results.push(await publisher.publish(generic(i), { channel: 'production' }));
    const fresh = await runCacheJanitor(ctx);
    expect(fresh.channels[0]).toMatchObject({ channel: 'production', head: 5, oldest: 1, pruned: 0 });

    // The hint is written in the background; once it names batch 5, everything before it may go.
    await waitFor(async () => (await ctx.journal.readHint('production'))?.last === 5, 5_000, 'the head hint');
    const later = await runCacheJanitor(ctx, { now: new Date(Date.now() + 2 * 3_600_000) });
    expect(later.channels[0]).toMatchObject({ head: 5, oldest: 5, pruned: 4 });
    expect(await ctx.journal.batchLast('production', 4)).toBeUndefined();
    expect(await ctx.journal.batchLast('production', 5)).toBe(5);
    // A re-publish of a pruned envelope's id within the id window is still recognised (the publisher remembers it).
    expect(await publisher.publish({ id: results[0]!.id, instructions: generic(1) }, { channel: 'production' })).toEqual({ sequence: 1, id: results[0]!.id, duplicate: true });
    expect((await publisher.publish(generic(6), { channel: 'production' })).sequence).toBe(6);
    expect(later.rejected).toBe(0);
  });

  it("never deletes the Umbraco front-ends' scheduling lease blob, leased or free, however old", async () => {
    const { ctx, publisher } = cacheSetup({ retentionHours: 1 });
    await publisher.publish(generic(1), { channel: 'production' });
    const leased = ctx.journal.container.getBlockBlobClient('production/scheduling-publisher.lease');
    const free = ctx.journal.container.getBlockBlobClient('staging/scheduling-publisher.lease');
    await leased.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    await free.upload('', 0, { conditions: { ifNoneMatch: '*' } });
    const lease = leased.getBlobLeaseClient();
    await lease.acquireLease(60);
    try {
      const report = await runCacheJanitor(ctx, { now: new Date(Date.now() + 30 * 24 * 3_600_000) });
      expect(report.channels.map((c) => c.channel)).toEqual(['production', 'staging']);
      expect(await leased.exists()).toBe(true);
      expect(await free.exists()).toBe(true);
      expect((await leased.getProperties()).leaseState).toBe('leased');
    } finally {
      await lease.releaseLease();
    }
  });
});
