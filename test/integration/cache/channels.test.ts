import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CacheSubscriber } from '../../../shared/cache/CacheSubscriber';
import { MemorySequenceStore } from '../../../shared/cache/SequenceStore';
import type { AppliedEnvelope } from '../../../shared/cache/CacheEnvelope';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

describe('cache channels and large envelopes (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  const others: CacheSubscriber[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
    await Promise.all(others.splice(0).map((s) => s.stop()));
  });

  it('front-ends of one channel never see another channel, even when channel names share a prefix', async () => {
    const { ctx, publisher } = cacheSetup({ channels: [{ name: 'production' }, { name: 'production-eu' }, { name: 'staging' }] });
    const prod = frontEnd(ctx, 'same-instance');
    started.push(prod);
    await prod.subscriber.start();
    const seen: Record<string, AppliedEnvelope[]> = { 'production-eu': [], staging: [] };
    for (const channel of ['production-eu', 'staging'] as const) {
      const s = new CacheSubscriber({
        context: ctx,
        channel,
        instance: 'same-instance',
        store: new MemorySequenceStore(),
        pollMinInMs: 20,
        pollMaxInMs: 200,
        gapWaitInMs: 300,
        apply: (e) => void seen[channel]!.push(e),
      });
      others.push(s);
      await s.start();
    }
    await publisher.publish(generic(1), { channel: 'production' });
    await publisher.publish(generic(2), { channel: 'staging' });
    await publisher.publish(generic(3), { channel: 'production-eu' });
    await publisher.publish(generic(4), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => prod.applied.length === 2 && seen.staging!.length === 1 && seen['production-eu']!.length === 1, 20_000, 'all channels');
    await new Promise((r) => setTimeout(r, 300));
    expect(prod.applied.map((e) => [e.channel, e.sequence, e.instructions])).toEqual([
      ['production', 1, generic(1)],
      ['production', 2, generic(4)],
    ]);
    expect(seen.staging!.map((e) => [e.channel, e.sequence, e.instructions])).toEqual([['staging', 1, generic(2)]]);
    expect(seen['production-eu']!.map((e) => [e.channel, e.sequence, e.instructions])).toEqual([['production-eu', 1, generic(3)]]);
  });

  it('an envelope over the queue limit reaches front-ends whole through the journal (claim check), from publish and from direct enqueue', async () => {
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'big');
    started.push(fe);
    await fe.subscriber.start();
    const payload = JSON.stringify({ items: Array.from({ length: 1500 }, (_, i) => ({ Id: i, Key: randomUUID(), ChangeTypes: 2 })) });
    expect(Buffer.byteLength(payload)).toBeGreaterThan(100 * 1024);
    const umbraco = [
      { RefreshType: 4, RefresherId: '900A4FBE-DF3C-41E6-BB77-BE896CD158EA', GuidId: '00000000-0000-0000-0000-000000000000', IntId: 0, JsonIds: null, JsonIdCount: 1, JsonPayload: payload },
    ];
    const published = await publisher.publish(umbraco, { channel: 'production' });
    const direct = {
      version: 2 as const,
      id: randomUUID(),
      channel: 'production',
      origin: 'dotnet',
      createdAt: new Date().toISOString(),
      instructions: [{ refresher: 'media', type: 'RefreshByJson' as const, payload: { blob: 'z'.repeat(90 * 1024) } }],
    };
    await publisher.enqueue(direct);
    const outcomes: unknown[] = [];
    const { CacheFanOut } = await import('../../../shared/cache/CacheFanOut');
    const fanOut = new CacheFanOut(ctx, { frontEndCacheMs: 0 });
    const pump = fanOutPump(ctx, {
      handle: async (input: unknown, inv: never) => {
        const o = await fanOut.handle(input, inv);
        outcomes.push(o);
        return o;
      },
    } as never);
    await pump.drain();
    outcomes.sort((a, b) => (a as { first: number }).first - (b as { first: number }).first);
    expect(outcomes).toMatchObject([
      { outcome: 'delivered', form: 'inJournal', first: 1, last: 1 },
      { outcome: 'delivered', form: 'inJournal', first: 2, last: 2 },
    ]);
    // The claim check lives inside the channel's prefix (an identity limited to production/ can read it).
    expect(await ctx.journal.container.getBlobClient(`production/claims/${direct.id}.json`).exists()).toBe(true);
    await waitFor(() => fe.applied.length === 2, 20_000, 'large envelopes');
    expect(fe.applied[0]!.id).toBe(published.id);
    expect(fe.applied[0]!.instructions).toEqual(umbraco);
    expect(fe.applied[1]!.instructions).toEqual(direct.instructions);
  });

  it("skips envelopes of its own origin when asked (Umbraco's originated rule) but still advances", async () => {
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'self', { origin: 'web-01', skipOwnOrigin: true });
    started.push(fe);
    await fe.subscriber.start();
    await publisher.publish(generic(1), { channel: 'production', origin: 'web-01' });
    await publisher.publish(generic(2), { channel: 'production', origin: 'web-02' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fe.subscriber.lastApplied === 2, 20_000, 'advance');
    expect(fe.applied.map((e) => e.origin)).toEqual(['web-02']);
  });
});
