import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { randomUUID } from 'node:crypto';
import { fanOutCacheInstructions } from '../../../functions/fanOutCacheInstructions';
import { publishCacheInstructions } from '../../../functions/publishCacheInstructions';
import { cacheJanitor } from '../../../functions/cacheJanitor';
import { decodeQueueMessage, triggerInputOf } from '../../../shared/cache/queueMessageCodec';
import { azurite } from '../../support/storage';
import { cacheSetup, frontEnd, generic, readRejected, waitFor } from './cacheHarness';

describe('cache functions (handlers on Azurite)', () => {
  const setup = cacheSetup();
  const saved = process.env.RINGKEEPER_CONFIG_JSON;
  beforeAll(() => {
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { ...setup.raw, storage: undefined } });
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.RINGKEEPER_CONFIG_JSON;
    else process.env.RINGKEEPER_CONFIG_JSON = saved;
  });

  const post = (channel: string, body: string) =>
    publishCacheInstructions(
      new HttpRequest({ method: 'POST', url: `http://localhost/api/cache/${channel}/instructions`, params: { channel }, body: { string: body }, headers: { 'content-type': 'application/json' } }),
      new InvocationContext({ functionName: 'publish-cache-instructions', logHandler: () => {} }),
    );

  it('POST publishes (201 {sequence, id}), replays by id (200), and refuses with problem+json codes', async () => {
    const id = randomUUID();
    const envelope = { version: 2, id, channel: 'production', origin: 'http-test', createdAt: new Date().toISOString(), instructions: generic(1) };
    const created = await post('production', JSON.stringify(envelope));
    expect(created.status).toBe(201);
    expect(created.jsonBody).toEqual({ sequence: 1, id });
    const replay = await post('production', JSON.stringify(envelope));
    expect(replay.status).toBe(200);
    expect(replay.jsonBody).toEqual({ sequence: 1, id });

    const cases: Array<[string, string, number, string]> = [
      ['production', '{nope', 400, 'not_json'],
      ['production', JSON.stringify({ ...envelope, id: randomUUID(), version: 3 }), 400, 'unsupported_version'],
      ['production', JSON.stringify([{ refresher: 'x' }]), 400, 'invalid_envelope'],
      ['production', JSON.stringify({ ...envelope, id: randomUUID(), channel: 'staging' }), 400, 'channel_mismatch'],
      ['nowhere', JSON.stringify(generic(1)), 404, 'unknown_channel'],
      ['production', JSON.stringify([{ refresher: 'x', type: 'RefreshByJson', payload: 'p'.repeat(1024 * 1024) }]), 413, 'envelope_too_large'],
    ];
    for (const [channel, body, status, code] of cases) {
      const res = await post(channel, body);
      expect([res.status, (res.headers as Record<string, string>)['content-type']]).toEqual([status, 'application/problem+json']);
      expect(JSON.parse(res.body as string)).toMatchObject({ status, code });
    }
  });

  it('the queue handler fans out with a real InvocationContext and routes poison input to the rejected queue without throwing', async () => {
    const fe = frontEnd(setup.ctx, 'fn');
    await fe.subscriber.start();
    try {
      const res = await post('production', JSON.stringify(generic(2)));
      const { sequence } = res.jsonBody as { sequence: number };
      const queue = setup.ctx.queueService.getQueueClient(setup.config.instructionsQueue);
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
      const last = receivedMessageItems.at(-1)!;
      const context = new InvocationContext({ functionName: 'fan-out-cache-instructions', triggerMetadata: { dequeueCount: last.dequeueCount }, logHandler: () => {} });
      const outcome = await fanOutCacheInstructions(triggerInputOf(decodeQueueMessage(last.messageText)), context);
      expect(outcome).toMatchObject({ outcome: 'delivered', channel: 'production', first: sequence, last: sequence, frontEnds: 1, form: 'inline' });
      await waitFor(() => fe.subscriber.lastApplied === sequence, 20_000, 'applied');
      expect(fe.applied.map((e) => e.instructions)).toEqual([generic(2)]);

      const rejected = await fanOutCacheInstructions('definitely not json', new InvocationContext({ triggerMetadata: { dequeueCount: 1 }, logHandler: () => {} }));
      expect(rejected).toMatchObject({ outcome: 'rejected', code: 'not_json' });
      const records = await readRejected(setup.ctx);
      expect(records.filter((r) => r.source === 'instructions-queue').map((r) => r.code)).toEqual(['not_json']);
    } finally {
      await fe.subscriber.stop();
    }
  });

  it('concurrent POSTs are committed together: fewer journal writes than publishes, one contiguous run of sequences', async () => {
    const journal = setup.ctx.journal;
    const before = (await journal.head('staging')).last;
    const responses = await Promise.all(Array.from({ length: 24 }, (_, i) => post('staging', JSON.stringify(generic(i)))));
    expect(responses.map((r) => r.status)).toEqual(Array(24).fill(201));
    const sequences = responses.map((r) => (r.jsonBody as { sequence: number }).sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: 24 }, (_, i) => before + 1 + i));
    const batches: Array<[number, number]> = [];
    for (let first = before + 1; first <= before + 24;) {
      const last = (await journal.batchLast('staging', first))!;
      batches.push([first, last]);
      first = last + 1;
    }
    // The first POST finds the channel idle and commits alone; the others queue behind it and share writes.
    expect(batches.length).toBeLessThanOrEqual(4);
    expect(batches.at(-1)![1]).toBe(before + 24);
  });

  it('the janitor timer reports per-channel figures', async () => {
    const report = await cacheJanitor(undefined, new InvocationContext({ functionName: 'cache-janitor', logHandler: () => {} }));
    expect(report.channels.map((c) => c.channel)).toEqual(['production', 'staging']);
    expect(report.channels[0]!.head).toBeGreaterThanOrEqual(2);
  });
});
