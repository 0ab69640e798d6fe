import { describe, expect, it } from 'vitest';
import type { FrontEndMessage, InstructionNotice } from '../../../shared/cache/CacheEnvelope';
import { decodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor } from './cacheHarness';

describe('cache channel batching (Azurite)', () => {
  it('concurrent publishes share batches and notices; the fan-out sends one message per front-end per run; front-ends apply whole batches', async () => {
    const { ctx, publisher } = cacheSetup();
    const fes = [frontEnd(ctx, 'b1'), frontEnd(ctx, 'b2')];
    for (const fe of fes) {
      await fe.subscriber.start();
      await fe.subscriber.stop(); // registered and live, not receiving: the test reads the queues itself
    }
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => publisher.publish(generic(i), { channel: 'production' })));
    expect(results.map((r) => r.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));

    const instructions = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    const notices = (await instructions.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => JSON.parse(decodeQueueMessage(m.messageText)) as InstructionNotice);
    expect(notices.length).toBeLessThan(40 / 4); // one notice per batch, not per envelope
    expect(notices.reduce((n, x) => n + x.last - x.first + 1, 0)).toBe(40);

    await fanOutPump(ctx).drain();
    for (const fe of fes) {
      const queue = ctx.queueService.getQueueClient(fe.subscriber.queueName);
      const messages = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => JSON.parse(decodeQueueMessage(m.messageText)) as FrontEndMessage);
      expect(messages.length).toBeLessThanOrEqual(notices.length);
      const batches = messages.flatMap((m) => m.batches).sort((a, b) => a.first - b.first);
      expect(batches.map((b) => [b.first, b.last])).toEqual([...notices].sort((a, b) => a.first - b.first).map((n) => [n.first, n.last]));
      expect(batches.flatMap((b) => b.entries!.map((e) => e.sequence))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }

    // Restarted, the front-ends take everything in one receive and save their position once per batch.
    for (const fe of fes) {
      const saves: number[] = [];
      const save = fe.store.save.bind(fe.store);
      fe.store.save = async (s: number) => {
        saves.push(s);
        await save(s);
      };
      await fe.subscriber.start();
      await waitFor(() => fe.applied.length === 40, 20_000, 'applied');
      expect(fe.applied.map((e) => e.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(saves).toEqual([...notices].map((n) => n.last).sort((a, b) => a - b));
      await fe.subscriber.stop({ unregister: true });
    }
  });
});
