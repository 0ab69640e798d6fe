import { afterEach, describe, expect, it } from 'vitest';
import { decodeQueueMessage, encodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import { createCacheContext } from '../../../shared/cache/CacheContext';
import { CachePublisher } from '../../../shared/cache/CachePublisher';
import { listFrontEnds } from '../../../shared/cache/listFrontEnds';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

const N = 40;

describe('cache channel ordering (Azurite)', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('5 front-ends apply every instruction exactly once in publisher order despite duplicated and reordered deliveries', async () => {
    const { ctx, publisher } = cacheSetup();
    // No journal probing and a long gap wait: the order must come from the buffer, not from re-reading the journal.
    const fes = ['fe-1', 'fe-2', 'fe-3', 'fe-4', 'fe-5'].map((id) => frontEnd(ctx, id, { probeIntervalInMs: 600_000, gapWaitInMs: 15_000 }));
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();

    const published = [];
    for (let i = 1; i <= N; i++) published.push(await publisher.publish(generic(i), { channel: 'production' }));
    expect(published.map((p) => p.sequence)).toEqual(Array.from({ length: N }, (_, i) => i + 1));

    // Fault injection on the instructions queue: take the notices off, put them back reversed,
    // with every third one twice.
    const instructions = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    const notices: string[] = [];
    for (;;) {
      const { receivedMessageItems } = await instructions.receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) break;
      for (const m of receivedMessageItems) {
        notices.push(m.messageText);
        await instructions.deleteMessage(m.messageId, m.popReceipt);
      }
    }
    expect(notices).toHaveLength(N);
    const injected = [...notices].reverse().flatMap((n, i) => (i % 3 === 0 ? [n, n] : [n]));
    for (const n of injected) await instructions.sendMessage(n);

    expect(fes.map((fe) => fe.applied.length)).toEqual([0, 0, 0, 0, 0]); // nothing comes from the journal by itself
    const pump = fanOutPump(ctx);
    await pump.drain();

    // And on one front-end queue: duplicate copies of what the fan-out delivered, out of order.
    const victim = ctx.queueService.getQueueClient(fes[2]!.subscriber.queueName);
    const peeked = await victim.peekMessages({ numberOfMessages: 32 });
    for (const m of [...peeked.peekedMessageItems].reverse()) await victim.sendMessage(m.messageText);

    const expected = Array.from({ length: N }, (_, i) => i + 1);
    await waitFor(() => fes.every((fe) => fe.applied.length >= N), 30_000, 'all front-ends to apply everything');
    await new Promise((r) => setTimeout(r, 500)); // let any stray duplicate arrive; it must not be applied
    for (const fe of fes) {
      expect(fe.applied.map((e) => e.sequence)).toEqual(expected);
      expect(fe.applied.map((e) => e.instructions)).toEqual(expected.map((i) => generic(i)));
      expect(fe.applied.map((e) => e.id)).toEqual(published.map((p) => p.id));
      expect(fe.coldBoots).toBe(0);
    }
  });

  it("concurrent publishers: one total order, each publisher's awaited calls in call order, identical on every front-end", async () => {
    const { ctx, publisher } = cacheSetup();
    const fes = ['a', 'b', 'c'].map((id) => frontEnd(ctx, id));
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    const pump = fanOutPump(ctx);
    pump.start();
    try {
      const runs = await Promise.all(
        ['p1', 'p2', 'p3'].map(async (p) => {
          const seqs: number[] = [];
          for (let i = 0; i < 10; i++) seqs.push((await publisher.publish([{ refresher: p, type: 'RefreshById', ids: [i] }], { channel: 'production', origin: p })).sequence);
          return seqs;
        }),
      );
      for (const seqs of runs) expect([...seqs].sort((x, y) => x - y)).toEqual(seqs); // increasing per publisher
      expect(new Set(runs.flat()).size).toBe(30);
      await waitFor(() => fes.every((fe) => fe.applied.length >= 30), 30_000, 'all applied');
      const order = fes[0]!.applied.map((e) => `${e.origin}:${JSON.stringify(e.instructions)}`);
      for (const fe of fes) {
        expect(fe.applied.map((e) => e.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect(fe.applied.map((e) => `${e.origin}:${JSON.stringify(e.instructions)}`)).toEqual(order);
      }
      for (const p of ['p1', 'p2', 'p3']) {
        const mine = fes[0]!.applied.filter((e) => e.origin === p).map((e) => (e.instructions[0] as { ids: number[] }).ids[0]);
        expect(mine).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
    } finally {
      await pump.stop();
    }
  });

  it('four publishing processes at once: one chain of batches without holes or overlaps, every envelope once, identical on every front-end', async () => {
    const { config, ctx } = cacheSetup();
    const fes = ['m', 'n'].map((id) => frontEnd(ctx, id));
    started.push(...fes);
    for (const fe of fes) await fe.subscriber.start();
    const processes = Array.from({ length: 4 }, () => new CachePublisher(createCacheContext(config)));
    const pump = fanOutPump(ctx);
    pump.start();
    try {
      // Each process has 4 callers in flight at once: batches form inside a process, conflicts across them.
      const results = (
        await Promise.all(
          processes.flatMap((p, pi) =>
            Array.from({ length: 4 }, async (_, ci) => {
              const mine = [];
              for (let i = 0; i < 6; i++) mine.push(await p.publish([{ refresher: `p${pi}c${ci}`, type: 'RefreshById', ids: [i] }], { channel: 'production', origin: `p${pi}c${ci}` }));
              return mine;
            }),
          ),
        )
      ).flat();
      expect(results.map((r) => r.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 96 }, (_, i) => i + 1));
      await waitFor(() => fes.every((fe) => fe.subscriber.lastApplied === 96), 30_000, 'all applied');
      for (const fe of fes) {
        expect(fe.applied.map((e) => e.sequence)).toEqual(Array.from({ length: 96 }, (_, i) => i + 1));
        expect(fe.applied.map((e) => e.id)).toEqual(fes[0]!.applied.map((e) => e.id));
      }
      const bySequence = new Map(results.map((r) => [r.sequence, r.id]));
      expect(fes[0]!.applied.map((e) => e.id)).toEqual(fes[0]!.applied.map((e) => bySequence.get(e.sequence)));
      // Each caller's awaited publishes keep their order.
      for (const origin of new Set(fes[0]!.applied.map((e) => e.origin))) {
        expect(fes[0]!.applied.filter((e) => e.origin === origin).map((e) => (e.instructions[0] as { ids: number[] }).ids[0])).toEqual([0, 1, 2, 3, 4, 5]);
      }
    } finally {
      await pump.stop();
    }
  });

  it('a front-end whose deliveries are all lost still gets everything from the journal', async () => {
    const { ctx, publisher } = cacheSetup();
    const fe = frontEnd(ctx, 'lonely');
    started.push(fe);
    await fe.subscriber.start();
    for (let i = 1; i <= 5; i++) await publisher.publish(generic(i), { channel: 'production' });
    // No fan-out at all: the notices stay on the instructions queue; the idle probe finds the entries.
    await waitFor(() => fe.applied.length === 5, 20_000, 'journal probe');
    expect(fe.applied.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    const registered = await listFrontEnds(ctx, 'production');
    expect(registered.map((r) => r.queueName)).toEqual([fe.subscriber.queueName]);
    expect(decodeQueueMessage(encodeQueueMessage('x'))).toBe('x');
  });
});
