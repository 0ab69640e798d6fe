import { describe, expect, it } from 'vitest';
import { AbortError } from '../../../shared/async/AbortError';
import { CacheFanOut } from '../../../shared/cache/CacheFanOut';
import { InstructionQueuePump } from '../../../shared/cache/InstructionQueuePump';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor } from './cacheHarness';

/** A host shutdown aborts the signal given in the options: the loops and their waits stop without stop(). */
describe('abortable cache loops (Azurite)', () => {
  it('the pump stops polling when its signal aborts, and drain() stops waiting with an AbortError', async () => {
    const { ctx, publisher } = cacheSetup();
    await ctx.ensureQueue(ctx.config.instructionsQueue);
    const queue = ctx.queueService.getQueueClient(ctx.config.instructionsQueue);
    const controller = new AbortController();
    const fanOut = new CacheFanOut(ctx, { frontEndCacheMs: 0 });
    const pump = new InstructionQueuePump(queue, (input, meta) => fanOut.handle(input, { dequeueCount: meta.dequeueCount }), {
      maxPollingIntervalInMs: 20,
      abortSignal: controller.signal,
    });
    pump.start();
    await publisher.publish(generic(1), { channel: 'production' });
    await waitFor(async () => (await queue.getProperties()).approximateMessagesCount === 0, 20_000, 'the running pump to take the message');

    controller.abort();
    await new Promise((r) => setTimeout(r, 200)); // a receive under way may still complete
    await publisher.publish(generic(2), { channel: 'production' });
    await new Promise((r) => setTimeout(r, 1_000)); // fifty polling intervals
    expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(1);

    const draining = new AbortController();
    const drainer = new InstructionQueuePump(queue, async () => {}, { abortSignal: draining.signal });
    await drainer.drain(); // takes the waiting message
    const started = Date.now();
    setTimeout(() => draining.abort(), 100);
    await expect(drainer.drain(60_000)).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
    await pump.stop();
  });

  it('a front-end stops receiving when its signal aborts, and does not start on an aborted one', async () => {
    const { ctx, publisher } = cacheSetup();
    const controller = new AbortController();
    const fe = frontEnd(ctx, 'abortable', { abortSignal: controller.signal });
    await fe.subscriber.start();
    const pump = fanOutPump(ctx);
    try {
      await publisher.publish(generic(1), { channel: 'production' });
      await pump.drain();
      await waitFor(() => fe.applied.length === 1, 20_000, 'the running front-end to apply');

      controller.abort();
      await new Promise((r) => setTimeout(r, 300)); // a receive under way may still complete
      await publisher.publish(generic(2), { channel: 'production' });
      await pump.drain();
      await new Promise((r) => setTimeout(r, 1_000)); // fifty polling intervals of the harness (20 ms)
      expect(fe.applied.map((e) => e.sequence)).toEqual([1]);
      const own = ctx.queueService.getQueueClient(fe.subscriber.queueName);
      expect((await own.peekMessages()).peekedMessageItems).toHaveLength(1);

      const late = frontEnd(ctx, 'late', { abortSignal: AbortSignal.abort() });
      await expect(late.subscriber.start()).rejects.toBeInstanceOf(AbortError);
      expect(await ctx.queueService.getQueueClient(late.subscriber.queueName).exists()).toBe(false);
    } finally {
      await fe.subscriber.stop();
    }
  });
});
