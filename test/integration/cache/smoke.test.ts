import { afterEach, describe, expect, it } from 'vitest';
import { cacheSetup, fanOutPump, frontEnd, generic, waitFor, type RecordingFrontEnd } from './cacheHarness';

describe('cache smoke', () => {
  const started: RecordingFrontEnd[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((f) => f.subscriber.stop()));
  });

  it('publishes, fans out and applies in order on two front-ends', async () => {
    const { ctx, publisher } = cacheSetup();
    const a = frontEnd(ctx, 'a');
    const b = frontEnd(ctx, 'b');
    started.push(a, b);
    await a.subscriber.start();
    await b.subscriber.start();
    const pump = fanOutPump(ctx);
    const results = [];
    for (let i = 1; i <= 10; i++) results.push(await publisher.publish(generic(i), { channel: 'production' }));
    expect(results.map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await pump.drain();
    await waitFor(() => a.applied.length === 10 && b.applied.length === 10);
    expect(a.applied.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.applied.map((e) => e.instructions)).toEqual(results.map((_, i) => generic(i + 1)));
  });
});
