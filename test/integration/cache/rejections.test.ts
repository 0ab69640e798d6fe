import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CachePublishError } from '../../../shared/cache/CachePublishError';
import { encodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import { cacheSetup, fanOutPump, frontEnd, generic, readRejected, waitFor, type RecordingFrontEnd } from './cacheHarness';

function envelope(overrides: Record<string, unknown> = {}) {
  return { version: 2, id: randomUUID(), channel: 'production', origin: 'test', createdAt: new Date().toISOString(), instructions: generic(1), ...overrides };
}

describe('cache rejections (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('non-JSON, wrong version, missing fields, a 1 MB payload and an unknown channel each land in the rejected queue after one attempt, without disturbing valid traffic', async () => {
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'witness');
    started.push(fe);
    await fe.subscriber.start();
    const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    await queue.createIfNotExists();

    // A 1 MB envelope cannot be a queue message (64 KiB); it arrives by claim check.
    const huge = envelope({ instructions: [{ refresher: 'content', type: 'RefreshByJson', payload: 'x'.repeat(1024 * 1024) }] });
    const hugeText = JSON.stringify(huge);
    await ctx.journal.ensureContainer();
    await ctx.journal.container.getBlockBlobClient('production/claims/huge.json').upload(hugeText, Buffer.byteLength(hugeText));

    const bad: Array<[string, string]> = [
      ['not_json', 'this is { not json'],
      ['unsupported_version', JSON.stringify(envelope({ version: 1 }))],
      ['invalid_envelope', JSON.stringify({ version: 2, channel: 'production', instructions: generic(1) })],
      ['envelope_too_large', JSON.stringify({ version: 2, claimCheck: { blob: 'production/claims/huge.json' } })],
      ['unknown_channel', JSON.stringify(envelope({ channel: 'nowhere' }))],
    ];
    // Interleave valid traffic: two publishes (journal + notice) and one envelope enqueued directly.
    await publisher.publish(generic(1), { channel: 'production' });
    for (const [, text] of bad.slice(0, 3)) await queue.sendMessage(encodeQueueMessage(text));
    const direct = envelope({ instructions: generic(2) });
    await queue.sendMessage(encodeQueueMessage(direct));
    for (const [, text] of bad.slice(3)) await queue.sendMessage(encodeQueueMessage(text));
    await publisher.publish(generic(3), { channel: 'production' });

    const attempts = new Map<string, number>();
    const outcomes: unknown[] = [];
    const { CacheFanOut } = await import('../../../shared/cache/CacheFanOut');
    const fanOut = new CacheFanOut(ctx, { frontEndCacheMs: 0 });
    const counting = new (await import('../../../shared/cache/InstructionQueuePump')).InstructionQueuePump(queue, async (input, meta) => {
      attempts.set(meta.id, (attempts.get(meta.id) ?? 0) + 1);
      outcomes.push(await fanOut.handle(input, { dequeueCount: meta.dequeueCount }));
    });
    await counting.drain();

    expect([...attempts.values()].every((n) => n === 1)).toBe(true); // one attempt each, no retries
    expect(attempts.size).toBe(8);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    const rejected = await readRejected(ctx);
    expect(rejected.map((r) => r.code).sort()).toEqual(bad.map(([code]) => code).sort());
    for (const r of rejected) {
      expect(r.source).toBe('instructions-queue');
      expect(r.reason.length).toBeGreaterThan(10);
      expect(r.dequeueCount).toBe(1);
      expect(Date.parse(r.receivedAt)).not.toBeNaN();
    }
    expect(rejected.find((r) => r.code === 'not_json')!.original).toBe('this is { not json');
    expect(rejected.find((r) => r.code === 'invalid_envelope')!.reason).toMatch(/id: is missing.*origin: is missing.*createdAt: is missing/);
    expect(rejected.find((r) => r.code === 'unsupported_version')!.reason).toMatch(/version 1 is not supported/);
    expect(rejected.find((r) => r.code === 'unknown_channel')!.reason).toMatch(/"nowhere" is not configured/);
    expect(rejected.find((r) => r.code === 'envelope_too_large')!.reason).toMatch(/maximum is 262144/);

    await waitFor(() => fe.applied.length === 3, 20_000, 'valid traffic');
    // Published ones were sequenced at publish time; the directly enqueued one when the fan-out journaled it.
    expect(fe.applied.map((e) => e.instructions)).toEqual([generic(1), generic(3), generic(2)]);
    expect(fe.applied.map((e) => e.sequence)).toEqual([1, 2, 3]);
    expect(fe.applied[2]!.id).toBe(direct.id);
  });

  it('the publisher refuses a 1 MB envelope with 413 and records it in the rejected queue, cut to fit', async () => {
    const { ctx, publisher } = cacheSetup();
    const payload = 'y'.repeat(1024 * 1024);
    const err = await publisher.publish([{ refresher: 'media', type: 'RefreshByJson', payload }], { channel: 'production' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CachePublishError);
    expect(err).toMatchObject({ code: 'envelope_too_large', status: 413 });
    const unknown = await publisher.publish(generic(1), { channel: 'nowhere' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'unknown_channel', status: 404 });
    const rejected = await readRejected(ctx);
    expect(rejected.map((r) => r.code)).toEqual(['envelope_too_large', 'unknown_channel']);
    expect(rejected[0]).toMatchObject({ source: 'publish', originalTruncated: true });
    expect(rejected[0]!.originalBytes).toBeGreaterThan(1024 * 1024);
    expect(await ctx.journal.head('production')).toEqual({ first: 0, last: 0 });
  });

  it('a notice for a batch the journal does not hold, or with another extent, is rejected, not retried', async () => {
    const { ctx, publisher } = cacheSetup();
    const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    await queue.createIfNotExists();
    await publisher.publish(generic(1), { channel: 'production' });
    await queue.clearMessages();
    await queue.sendMessage(encodeQueueMessage({ version: 2, channel: 'production', first: 99, last: 99 }));
    await queue.sendMessage(encodeQueueMessage({ version: 2, channel: 'production', first: 1, last: 3 }));
    await fanOutPump(ctx).drain();
    const rejected = await readRejected(ctx);
    expect(rejected.map((r) => r.code)).toEqual(['journal_entry_not_found', 'journal_entry_not_found']);
    expect(rejected.map((r) => r.reason).join(' ')).toMatch(/no journal batch starting at 99.*no journal batch ending at 3 starting at 1/);
  });

  it('storage failures throw so the host retries; nothing is rejected', async () => {
    const { ctx } = cacheSetup();
    const { CacheFanOut } = await import('../../../shared/cache/CacheFanOut');
    // Point the journal at a container name Azure refuses: every write fails with a non-permanent storage error.
    const journal = new (await import('../../../shared/cache/Journal')).Journal(ctx.blobService.getContainerClient('NO_SUCH_container'));
    const broken = { ...ctx, journal, commits: new (await import('../../../shared/cache/GroupCommit')).GroupCommit(journal, { windowMs: 600_000 }) };
    const fanOut = new CacheFanOut(broken);
    await expect(fanOut.handle(envelope(), { dequeueCount: 1 })).rejects.toThrow();
    expect(await readRejected(ctx)).toEqual([]);
  });
});
