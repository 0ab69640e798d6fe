import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevHost, type DevHost } from '../../../shared/devhost/devHost';
import { azurite, uniqueName } from '../../support/storage';

// In-process: vitest runs each test file in its own fork, so the @azure/functions-core stand-in
// installed here does not reach other test files.
const appRoot = path.resolve(__dirname, '../../fixtures/devhost-app');

interface FixtureState {
  http: Record<string, unknown>[];
  queue: { message: unknown; triggerMetadata: Record<string, unknown>; isInvocationContext: boolean }[];
  timer: { timer: Record<string, unknown>; at: number; functionName: string }[];
  inFlight: number;
  maxInFlight: number;
  timerOverlaps: number;
}

const state = () => (globalThis as unknown as { __devhostFixture: FixtureState }).__devhostFixture;
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One message, or undefined while there is none (or the queue does not exist yet). */
async function receiveOne(queue: QueueClient) {
  if (!(await queue.exists())) return undefined;
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 1 });
  return receivedMessageItems[0];
}

describe('ringkeeper dev host (fixture app)', () => {
  const lines: string[] = [];
  const workQueue = uniqueName('work');
  const outQueue = uniqueName('out');
  let host: DevHost;
  let work: QueueClient;
  let poison: QueueClient;

  beforeAll(async () => {
    const connectionString = azurite().connectionString;
    host = await runDevHost({
      appRoot,
      port: 0,
      useLocalDefault: false,
      env: {
        AzureWebJobsStorage: connectionString,
        FIXTURE_WORK_QUEUE: workQueue,
        FIXTURE_OUT_QUEUE: outQueue,
        FIXTURE_TICK_SCHEDULE: '*/1 * * * * *',
      },
      log: (line) => lines.push(line),
    });
    work = new QueueClient(connectionString, workQueue);
    poison = new QueueClient(connectionString, `${workQueue}-poison`);
    await work.createIfNotExists();
  });

  afterAll(async () => {
    await host?.stop();
  });

  it('prints the ready line once HTTP listens', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ready = lines.find((l) => l.includes('ready'));
    expect(ready).toBe(`ringkeeper dev host ready on ${host.url} (6 functions: echo, hello, boom, enqueue, work, tick)`);
  });

  it('reads the registrations from the app.* calls', () => {
    const byName = Object.fromEntries(host.functions.map((f) => [f.name, f]));
    expect(Object.keys(byName)).toEqual(['echo', 'hello', 'boom', 'enqueue', 'work', 'tick']);
    expect(byName.echo.trigger).toMatchObject({
      type: 'httpTrigger',
      direction: 'in',
      authLevel: 'function',
      methods: ['POST', 'PUT'],
      route: 'rings/{ring:alpha}/items/{id?}',
    });
    expect(byName.echo.metadata.bindings.$return).toMatchObject({ type: 'http', direction: 'out' });
    expect(byName.hello.trigger).toMatchObject({ type: 'httpTrigger', methods: ['GET'], authLevel: 'anonymous' });
    expect(byName.work.trigger).toMatchObject({ type: 'queueTrigger', queueName: '%FIXTURE_WORK_QUEUE%', connection: 'AzureWebJobsStorage' });
    expect(byName.tick.trigger).toMatchObject({ type: 'timerTrigger', schedule: '%FIXTURE_TICK_SCHEDULE%', useMonitor: true });
    const enqueueOutputs = Object.values(byName.enqueue.metadata.bindings).filter((b) => b.type === 'queue');
    expect(enqueueOutputs).toEqual([expect.objectContaining({ direction: 'out', queueName: '%FIXTURE_OUT_QUEUE%' })]);
    expect(typeof byName.echo.handler).toBe('function');
  });

  it('routes an HTTP request with params, method and JSON body to the handler as a real HttpRequest', async () => {
    const res = await fetch(`${host.url}/api/rings/alpha/items/42?x=1&x=2&code=anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-ring')).toBe('alpha');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('set-cookie')).toBe('session=abc; Path=/; HttpOnly');
    const seen = await res.json();
    expect(seen).toMatchObject({
      isHttpRequest: true,
      isInvocationContext: true,
      functionName: 'echo',
      method: 'POST',
      url: `${host.url}/api/rings/alpha/items/42?x=1&x=2&code=anything`,
      params: { ring: 'alpha', id: '42' },
      query: { x: '1,2', code: 'anything' },
      contentType: 'application/json',
      body: { hello: 'world' },
    });
    expect(seen.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => l.includes('[echo] echo handled alpha'))).toBe(true);
  });

  it('matches optional parameters and constraints, and answers 404 like the host otherwise', async () => {
    const optional = await fetch(`${host.url}/api/rings/beta/items`, { method: 'PUT', body: '{}' });
    expect(optional.status).toBe(201);
    expect((await optional.json()).params).toEqual({ ring: 'beta' });

    // {ring:alpha} rejects digits; GET is not among the methods: both 404, as the real host.
    expect((await fetch(`${host.url}/api/rings/b2/items`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${host.url}/api/rings/alpha/items`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/nothing-here`)).status).toBe(404);
  });

  it('serves a plain GET, and answers a handler error with 500', async () => {
    const hello = await fetch(`${host.url}/api/HELLO`);
    expect(hello.status).toBe(200);
    expect(await hello.text()).toBe('hi');
    const boom = await fetch(`${host.url}/api/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toBe('');
  });

  it('writes queue output bindings (an array = one base64 message each)', async () => {
    const res = await fetch(`${host.url}/api/enqueue`, { method: 'POST' });
    expect(res.status).toBe(202);
    const out = new QueueClient(azurite().connectionString, outQueue);
    const { receivedMessageItems } = await out.receiveMessages({ numberOfMessages: 10 });
    const bodies = receivedMessageItems.map((m) => Buffer.from(m.messageText, 'base64').toString('utf8')).sort();
    expect(bodies).toEqual(['two', '{"a":1}'].sort());
  });

  it('processes a base64 queue message with the trigger metadata and deletes it', async () => {
    const sent = await work.sendMessage(b64(JSON.stringify({ n: 1, tag: 'ok' })));
    const call = await waitFor(() => state().queue.find((q) => (q.message as { tag?: string })?.tag === 'ok'));
    expect(call.message).toEqual({ n: 1, tag: 'ok' });
    expect(call.isInvocationContext).toBe(true);
    expect(call.triggerMetadata).toMatchObject({
      id: sent.messageId,
      dequeueCount: 1,
      queueTrigger: { n: 1, tag: 'ok' },
      n: 1,
      tag: 'ok',
    });
    expect(call.triggerMetadata.insertionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(typeof call.triggerMetadata.popReceipt).toBe('string');
    await waitFor(async () => (await work.getProperties()).approximateMessagesCount === 0);
  });

  it('retries a failing message maxDequeueCount times, then moves the original body to <queue>-poison', async () => {
    const original = b64(JSON.stringify({ fail: true, tag: 'poison-me' }));
    const started = Date.now();
    await work.sendMessage(original);
    const poisoned = await waitFor(() => receiveOne(poison));
    expect(poisoned.messageText).toBe(original);
    const attempts = state().queue.filter((q) => (q.message as { tag?: string })?.tag === 'poison-me');
    expect(attempts.map((a) => a.triggerMetadata.dequeueCount)).toEqual([1, 2, 3]);
    // visibilityTimeout is 1 s: the retries cannot all have happened at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    await poison.deleteMessage(poisoned.messageId, poisoned.popReceipt);
    await waitFor(async () => (await work.getProperties()).approximateMessagesCount === 0);
  });

  it('moves a message that is not valid base64 to the poison queue without running the function', async () => {
    const before = state().queue.length;
    await work.sendMessage('this is not base64!');
    const poisoned = await waitFor(() => receiveOne(poison));
    expect(poisoned.messageText).toBe('this is not base64!');
    expect(state().queue.length).toBe(before);
    await poison.deleteMessage(poisoned.messageId, poisoned.popReceipt);
  });

  it('honours batchSize: at most 3 messages run at once (newBatchThreshold 0)', async () => {
    state().maxInFlight = 0;
    for (let i = 0; i < 8; i++) await work.sendMessage(b64(JSON.stringify({ tag: `batch-${i}`, sleepMs: 400 })));
    await waitFor(() => state().queue.filter((q) => String((q.message as { tag?: string })?.tag).startsWith('batch-')).length === 8);
    await waitFor(async () => (await work.getProperties()).approximateMessagesCount === 0);
    expect(state().maxInFlight).toBe(3);
  });

  it('fires the %SETTING% timer on its NCRONTAB schedule with a Timer object, never overlapping', async () => {
    const ticks = await waitFor(() => (state().timer.length >= 2 ? state().timer : undefined), 10_000);
    const first = ticks[0];
    expect(first.functionName).toBe('tick');
    expect(first.timer).toMatchObject({ isPastDue: false, schedule: { adjustForDST: true } });
    const status = first.timer.scheduleStatus as { last: string; next: string; lastUpdated: string };
    expect(status.last).toBe('0001-01-01T00:00:00');
    expect(Date.parse(status.next)).not.toBeNaN();
    expect(Date.parse(status.lastUpdated)).not.toBeNaN();
    // The handler takes 1.5 s on a 1 s schedule: the next run waits for it.
    expect(ticks[1].at - ticks[0].at).toBeGreaterThanOrEqual(1500);
    expect(state().timerOverlaps).toBe(0);
  });

  it('runs a non-HTTP function on demand through the admin API', async () => {
    const before = state().queue.length;
    const res = await fetch(`${host.url}/admin/functions/work`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify({ tag: 'admin' }) }),
    });
    expect(res.status).toBe(202);
    const call = await waitFor(() =>
      state()
        .queue.slice(before)
        .find((q) => (q.message as { tag?: string })?.tag === 'admin'),
    );
    expect(call.triggerMetadata).toMatchObject({ queueTrigger: { tag: 'admin' } });
    expect((await fetch(`${host.url}/admin/functions/nope`, { method: 'POST' })).status).toBe(404);
  });
});
