/**
 * Umbraco front-ends in .NET on ringkeeper's cache channel: three processes with real Umbraco.Cms.Core 17.8.1
 * (UmbracoBuilder, DistributedCache, CacheRefresherCollection) and Ringkeeper.Umbraco, on Azurite, with ringkeeper's
 * own TypeScript fan-out delivering to their queues.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { frontEndQueueName } from '../../shared/cache/frontEndQueueName';
import { runCacheCommand } from '../../shared/cli/cacheCommand';
import type { CliIo } from '../../shared/cli/CliIo';
import { interopDescribe } from '../interop/harness';
import { azurite } from '../support/storage';
import { cacheSetup, fanOutPump, waitFor } from '../integration/cache/cacheHarness';
import { channelSettings, DotnetFrontEnd, ensureFrontEndBuilt, type FrontEndSettings, type RefresherCall } from '../support/dotnetFrontEnd';

const LEASE_SECONDS = 15;

interopDescribe('Umbraco front-ends in .NET (Ringkeeper.Umbraco on Azurite, TypeScript fan-out)', () => {
  const setup = cacheSetup();
  const pump = fanOutPump(setup.ctx);
  let dir: string;
  const running: DotnetFrontEnd[] = [];

  const settings = (instance: string, extra: FrontEndSettings = {}): FrontEndSettings => ({
    ...channelSettings(setup.config, { channel: 'production', instance, connectionString: azurite().connectionString, positionFile: path.join(dir, `${instance}.json`) }),
    PollMax: '00:00:00.200',
    GapWait: '00:00:00.500',
    // Long enough that only the fan-out's deliveries and the gap fill can bring anything in time.
    ProbeInterval: '00:01:00',
    SchedulingLeaseDuration: `00:00:${LEASE_SECONDS}`,
    ...extra,
  });

  async function umbraco(instance: string) {
    const { fe, started } = await DotnetFrontEnd.umbraco(instance, settings(instance));
    running.push(fe);
    return { fe, started };
  }

  let backOffice: DotnetFrontEnd;
  let web1: DotnetFrontEnd;
  let web2: DotnetFrontEnd;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rk-dotnet-fe-'));
    await ensureFrontEndBuilt();
    pump.start();
    // The back-office starts first, so it holds the scheduling lease.
    ({ fe: backOffice } = await umbraco('backoffice'));
    [{ fe: web1 }, { fe: web2 }] = await Promise.all([umbraco('web1'), umbraco('web2')]);
  }, 240_000);

  afterAll(async () => {
    running.forEach((fe) => fe.kill());
    await pump.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until each front-end's refresher calls from `since` equal `expected`, then a little longer to catch extras. */
  async function expectCalls(fes: Array<[DotnetFrontEnd, number]>, expected: RefresherCall[], timeoutMs = 30_000) {
    await waitFor(() => fes.every(([fe, since]) => fe.calls.length - since >= expected.length), timeoutMs, 'refresher calls to arrive');
    await new Promise((r) => setTimeout(r, 1500));
    for (const [fe, since] of fes) expect(fe.calls.slice(since), fe.name).toEqual(expected);
  }

  it("every other front-end receives exactly the back-office's DistributedCache calls, in order, once; the originator applies each once", async () => {
    const since = [backOffice, web1, web2].map((fe) => fe.calls.length);
    const key = '0b6c1b1e-1111-4222-8333-944455556666';
    await backOffice.request([
      { m: 'RefreshInt', id: 1052 },
      { m: 'RefreshInts', ids: [7, 8, 9] },
      { m: 'RefreshGuid', id: key },
      { m: 'Remove', id: 1053 },
      {
        m: 'RefreshByPayload',
        refresher: 'payloads',
        payload: [
          { id: 1, key, changeTypes: 'RefreshNode' },
          { id: 2, key, changeTypes: 'Remove' },
        ],
      },
    ]);
    await backOffice.request([{ m: 'RefreshAll' }, { m: 'RefreshAll', refresher: 'payloads' }]);
    const expected: RefresherCall[] = [
      { refresher: 'recording', method: 'RefreshInt', arg: 1052 },
      { refresher: 'recording', method: 'RefreshInt', arg: 7 },
      { refresher: 'recording', method: 'RefreshInt', arg: 8 },
      { refresher: 'recording', method: 'RefreshInt', arg: 9 },
      { refresher: 'recording', method: 'RefreshGuid', arg: key },
      { refresher: 'recording', method: 'Remove', arg: 1053 },
      {
        refresher: 'payloads',
        method: 'RefreshPayload',
        arg: [
          { Id: 1, Key: key, ChangeTypes: 'RefreshNode' },
          { Id: 2, Key: key, ChangeTypes: 'Remove' },
        ],
      },
      { refresher: 'recording', method: 'RefreshAll', arg: null },
      { refresher: 'payloads', method: 'RefreshAll', arg: null },
    ];
    // The originator ran them locally, at once; it must never get them again from the channel.
    expect(backOffice.calls.slice(since[0])).toEqual(expected);
    await expectCalls(
      [
        [web1, since[1]!],
        [web2, since[2]!],
        [backOffice, since[0]!],
      ],
      expected,
    );
  }, 120_000);

  it('a delivery that never happened (its notice deleted) is filled from the journal, in order', async () => {
    const since = [web1, web2].map((fe) => fe.calls.length);
    await pump.stop();
    await backOffice.request([{ m: 'RefreshInt', id: 501 }]);
    // Lose the notice: no front-end queue ever gets this batch.
    const instructions = setup.ctx.queueService.getQueueClient(setup.config.instructionsQueue);
    const { receivedMessageItems } = await instructions.receiveMessages({ numberOfMessages: 32 });
    expect(receivedMessageItems.length).toBeGreaterThan(0);
    await Promise.all(receivedMessageItems.map((m) => instructions.deleteMessage(m.messageId, m.popReceipt)));
    pump.start();
    await backOffice.request([{ m: 'RefreshInt', id: 502 }]);
    await expectCalls(
      [
        [web1, since[0]!],
        [web2, since[1]!],
      ],
      [
        { refresher: 'recording', method: 'RefreshInt', arg: 501 },
        { refresher: 'recording', method: 'RefreshInt', arg: 502 },
      ],
    );
  }, 120_000);

  it('1,500 instructions while a front-end is stopped: on restart it reports ColdBoot once and resumes at the head', async () => {
    await web2.stop();
    const since1 = web1.calls.length;
    await backOffice.burst(10_000, 1500);
    // The running front-end gets every one, once (group commit orders concurrent requests; compare as a set).
    await waitFor(() => web1.calls.length - since1 >= 1500, 120_000, 'web1 to apply the burst');
    const ids = web1.calls.slice(since1).map((c) => c.arg as number);
    expect(new Set(ids).size).toBe(1500);
    expect(Math.min(...ids)).toBe(10_000);
    expect(Math.max(...ids)).toBe(11_499);

    const { fe: again, started } = await umbraco('web2');
    expect(started.bootState).toBe('ColdBoot');
    expect(started.bootStateAgain).toBe('ColdBoot'); // decided once per boot
    expect(again.stderr).toMatch(/cold boot \(TooFarBehind\)/i);
    expect(again.calls).toEqual([]); // nothing of the burst is replayed
    web2 = again;

    const since = [web1.calls.length, web2.calls.length];
    await backOffice.request([{ m: 'RefreshInt', id: 777 }]);
    await expectCalls(
      [
        [web1, since[0]!],
        [web2, since[1]!],
      ],
      [{ refresher: 'recording', method: 'RefreshInt', arg: 777 }],
    );
  }, 300_000);

  it('a .NET front-end (Ringkeeper.Cache) and `ringkeeper cache tail --json` see identical sequences; TypeScript and .NET publishers interleave into one order', async () => {
    const configFile = path.join(dir, 'ringkeeper.json');
    writeFileSync(configFile, JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { ...setup.raw, storage: undefined } }));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const controller = new AbortController();
    const io: CliIo = { stdout, stderr, stdin: Readable.from(['']), env: {}, cwd: dir, signal: controller.signal };
    const tail = runCacheCommand(['tail', '--channel', 'production', '--json', '--config', configFile], io);
    const { fe: plain, subscribed } = await DotnetFrontEnd.plain('plain', settings('plain-dotnet'));
    running.push(plain);
    // The same instance gets the same queue whichever side it runs on.
    expect(subscribed.queue).toBe(frontEndQueueName(setup.config.frontEndQueuePrefix, 'production', 'plain-dotnet'));
    try {
      await waitFor(() => err.includes('tailing production'), 20_000, 'the tail to start');
      const published: Array<{ sequence: number; id: string }> = [];
      const dotnetSettings = settings('publisher');
      await Promise.all([
        (async () => {
          for (let i = 0; i < 10; i++) published.push(await setup.publisher.publish([{ refresher: 'content', type: 'RefreshByIds', ids: [i] }], { channel: 'production' }));
        })(),
        (async () => {
          for (let i = 0; i < 5; i++)
            published.push(...(await DotnetFrontEnd.publish(dotnetSettings, [[{ refresher: 'media', type: 'RefreshByIds', ids: [i] }], [{ refresher: 'media', type: 'RefreshAll' }]])));
        })(),
      ]);
      expect(published).toHaveLength(20);
      expect(published.every((p) => !p.duplicate)).toBe(true);
      const order = [...published].sort((a, b) => a.sequence - b.sequence).map((p) => [p.sequence, p.id.toLowerCase()]);
      expect(new Set(order.map(([s]) => s)).size).toBe(20);
      const tailed = () =>
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { sequence: number; id: string });
      await waitFor(() => tailed().length >= 20 && plain.envelopes.length >= 20, 30_000, 'the tail and the .NET front-end to apply everything');
      await new Promise((r) => setTimeout(r, 1000));
      expect(tailed().map((e) => [e.sequence, e.id.toLowerCase()])).toEqual(order);
      expect(plain.envelopes.map((e) => [e.sequence, e.id.toLowerCase()])).toEqual(order);
    } finally {
      controller.abort();
      expect(await tail).toBe(0);
      await plain.stop({ unregister: true });
    }
  }, 240_000);

  it('a plain .NET front-end probes the journal while idle (no fan-out) and re-creates its queue after it was deleted as stale', async () => {
    const { fe: plain, subscribed } = await DotnetFrontEnd.plain('prober', settings('prober-dotnet', { ProbeInterval: '00:00:01' }));
    running.push(plain);
    try {
      await pump.stop();
      const quiet: Array<{ sequence: number; id: string }> = [];
      for (let i = 0; i < 3; i++) quiet.push(await setup.publisher.publish([{ refresher: 'content', type: 'RefreshAll' }], { channel: 'production' }));
      await waitFor(() => plain.envelopes.length >= 3, 20_000, 'the idle probe to find the undelivered batches');
      expect(plain.envelopes.map((e) => e.sequence)).toEqual(quiet.map((p) => p.sequence));

      const queue = setup.ctx.queueService.getQueueClient(subscribed.queue);
      await queue.delete();
      pump.start();
      const later: Array<{ sequence: number; id: string }> = [];
      for (let i = 0; i < 2; i++) later.push(await setup.publisher.publish([{ refresher: 'media', type: 'RefreshAll' }], { channel: 'production' }));
      await waitFor(async () => plain.envelopes.length >= 5 && (await queue.exists()), 30_000, 'the front-end to re-register and catch up');
      expect(plain.envelopes.map((e) => e.sequence)).toEqual([...quiet, ...later].map((p) => p.sequence));
    } finally {
      pump.start();
      await plain.stop({ unregister: true });
    }
  }, 120_000);

  it('stopping the scheduling publisher hands the role to another front-end within the lease period', async () => {
    expect(await backOffice.role()).toBe('SchedulingPublisher');
    expect(await web1.role()).toBe('Subscriber');
    expect(await web2.role()).toBe('Subscriber');
    const crashedAt = Date.now();
    await backOffice.killed(); // no release: the lease has to expire
    let roles: string[] = [];
    await waitFor(
      async () => {
        roles = await Promise.all([web1.role(), web2.role()]);
        return roles.includes('SchedulingPublisher');
      },
      (LEASE_SECONDS + LEASE_SECONDS / 3 + 5) * 1000,
      'a new scheduling publisher',
    );
    // Within the lease period plus one renewal interval (the moment a waiting front-end next tries).
    expect(Date.now() - crashedAt).toBeLessThan((LEASE_SECONDS + LEASE_SECONDS / 3 + 2) * 1000);
    expect(roles.filter((r) => r === 'SchedulingPublisher')).toHaveLength(1);
  }, 120_000);
});
