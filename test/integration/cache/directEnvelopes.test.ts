import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CacheFanOut, type FanOutOutcome } from '../../../shared/cache/CacheFanOut';
import { InstructionQueuePump } from '../../../shared/cache/InstructionQueuePump';
import { listFrontEnds } from '../../../shared/cache/listFrontEnds';
import { encodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import type { CacheContext } from '../../../shared/cache/CacheContext';
import { cacheSetup, fanOutPump, frontEnd, generic, readRejected, waitFor, type RecordingFrontEnd } from './cacheHarness';

function envelope(channel: string, n: number) {
  return { version: 2, id: randomUUID(), channel, origin: 'test', createdAt: new Date().toISOString(), instructions: generic(n) };
}

/** Every blob of the journal container with its ETag: "nothing was journaled" is this snapshot unchanged. */
async function journalSnapshot(ctx: CacheContext): Promise<string[]> {
  const out: string[] = [];
  for await (const b of ctx.journal.container.listBlobsFlat()) out.push(`${b.name} ${b.properties.etag}`);
  return out.sort();
}

/** Drains the instructions queue, counting attempts per message and keeping every outcome. */
async function drainCounting(ctx: CacheContext) {
  const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
  const fanOut = new CacheFanOut(ctx, { frontEndCacheMs: 0 });
  const attempts = new Map<string, number>();
  const outcomes: FanOutOutcome[] = [];
  await new InstructionQueuePump(queue, async (input, meta) => {
    attempts.set(meta.id, (attempts.get(meta.id) ?? 0) + 1);
    outcomes.push(await fanOut.handle(input, { dequeueCount: meta.dequeueCount }));
  }).drain();
  return { attempts: [...attempts.values()], outcomes };
}

/** The publisher moves head.json in the background; snapshots are taken once it is final. */
async function headHintAt(ctx: CacheContext, last: number): Promise<void> {
  await waitFor(async () => (await ctx.journal.readHint('production'))?.last === last, 5_000, 'the head hint (written in the background)');
}

async function frontEndQueueEmpty(ctx: CacheContext): Promise<boolean> {
  const queues = await listFrontEnds(ctx, 'production', new Date());
  const counts = await Promise.all(queues.map(async (f) => (await ctx.queueService.getQueueClient(f.queueName).getProperties()).approximateMessagesCount));
  return queues.length > 0 && counts.every((c) => c === 0);
}

describe('cache: what a sender on the shared instructions queue can do (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('with acceptDirectEnvelopes false, envelopes and claim checks enqueued directly are rejected after one attempt and never journaled; notices still fan out', async () => {
    const { ctx, publisher } = cacheSetup({ acceptDirectEnvelopes: false });
    expect(ctx.config.acceptDirectEnvelopes).toBe(false);
    const fe = frontEnd(ctx, 'witness');
    started.push(fe);
    await fe.subscriber.start();
    const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    await queue.createIfNotExists();

    await publisher.publish(generic(1), { channel: 'production' });
    // A staging identity may send to the shared queue: it tries to publish to production, and to staging.
    await queue.sendMessage(encodeQueueMessage(envelope('production', 2)));
    await queue.sendMessage(encodeQueueMessage(envelope('staging', 3)));
    const claimed = envelope('production', 4);
    const claimText = JSON.stringify(claimed);
    await ctx.journal.container.getBlockBlobClient(`production/claims/${claimed.id}.json`).upload(claimText, Buffer.byteLength(claimText));
    await queue.sendMessage(encodeQueueMessage({ version: 2, claimCheck: { blob: `production/claims/${claimed.id}.json` } }));
    await publisher.publish(generic(5), { channel: 'production' });
    await headHintAt(ctx, 2);
    const before = await journalSnapshot(ctx);

    const { attempts, outcomes } = await drainCounting(ctx);
    expect(attempts).toHaveLength(5);
    expect(attempts.every((n) => n === 1)).toBe(true);
    expect(outcomes.filter((o) => o.outcome === 'delivered').map((o) => o.outcome === 'delivered' && [o.channel, o.first, o.last])).toEqual([
      ['production', 1, 1],
      ['production', 2, 2],
    ]);
    const rejected = await readRejected(ctx);
    expect(rejected.map((r) => r.code)).toEqual(['direct_envelope_refused', 'direct_envelope_refused', 'direct_envelope_refused']);
    for (const r of rejected) expect(r).toMatchObject({ source: 'instructions-queue', dequeueCount: 1 });
    expect(rejected[0]!.reason).toMatch(/envelope of channel production was enqueued directly.*cache\.acceptDirectEnvelopes is false/);
    expect(rejected[1]!.reason).toMatch(/envelope of channel staging/);
    expect(rejected[2]!.reason).toMatch(new RegExp(`claim check \\(production/claims/${claimed.id}\\.json\\)`));
    expect(JSON.parse(rejected[1]!.original).id).toBeDefined(); // the message itself is kept for the operator

    expect(await journalSnapshot(ctx)).toEqual(before);
    expect(await ctx.journal.head('production', { listWhenNoHint: true })).toMatchObject({ last: 2 });
    expect(await ctx.journal.head('staging', { listWhenNoHint: true })).toMatchObject({ last: 0 });
    await waitFor(() => fe.applied.length === 2, 20_000, 'the published batches');
    expect(fe.applied.map((e) => [e.sequence, e.instructions])).toEqual([
      [1, generic(1)],
      [2, generic(5)],
    ]);
  });

  it('a notice naming another channel only re-announces batches that channel already journaled: front-ends apply each entry once, and nothing is written to the journal', async () => {
    // The default (acceptDirectEnvelopes true): notices are trusted the same either way.
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'victim');
    started.push(fe);
    await fe.subscriber.start();
    await publisher.publish(generic(1), { channel: 'production' });
    await publisher.publish(generic(2), { channel: 'production' });
    await fanOutPump(ctx).drain();
    await waitFor(() => fe.applied.length === 2, 20_000, 'the published batches');
    await headHintAt(ctx, 2);
    const before = await journalSnapshot(ctx);

    // What anyone who may send to the instructions queue can forge for production: real extents
    // (replays), a wrong extent, a batch that does not exist.
    const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    for (const [first, last] of [
      [1, 1],
      [2, 2],
      [1, 2],
      [3, 3],
      [2, 2],
    ] as const) {
      await queue.sendMessage(encodeQueueMessage({ version: 2, channel: 'production', first, last }));
    }
    const { attempts, outcomes } = await drainCounting(ctx);
    expect(attempts.every((n) => n === 1)).toBe(true);
    // The replays carry the journal's own batches, not anything the sender wrote.
    const delivered = outcomes.filter((o) => o.outcome === 'delivered');
    expect(delivered.map((o) => o.outcome === 'delivered' && [o.first, o.last, o.form, o.frontEnds])).toEqual([
      [1, 1, 'inline', 1],
      [2, 2, 'inline', 1],
      [2, 2, 'inline', 1],
    ]);
    expect((await readRejected(ctx)).map((r) => r.code)).toEqual(['journal_entry_not_found', 'journal_entry_not_found']);

    await waitFor(() => frontEndQueueEmpty(ctx), 20_000, 'the front-end to consume the replays');
    await new Promise((r) => setTimeout(r, 300));
    expect(fe.applied.map((e) => [e.sequence, e.instructions])).toEqual([
      [1, generic(1)],
      [2, generic(2)],
    ]);
    expect(fe.errors).toEqual([]);
    expect(await journalSnapshot(ctx)).toEqual(before);
  });
});
