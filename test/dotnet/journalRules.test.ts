/**
 * The reader's journal rules, identical in TypeScript and .NET (docs/cache-protocol.md, Journal and Damaged journal):
 * a batch blob with a bad batchId or journaledAt is not a valid batch (void when its metadata says where it ends),
 * one without `last` metadata is journal corruption (cold boot to the head), and ids are journaled lowercase by
 * every publisher.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ColdBootInfo } from '../../shared/cache/CacheSubscriber';
import { batchName } from '../../shared/cache/journalNames';
import { MemorySequenceStore } from '../../shared/cache/SequenceStore';
import { interopDescribe } from '../interop/harness';
import { azurite } from '../support/storage';
import { cacheSetup, frontEnd, generic, waitFor } from '../integration/cache/cacheHarness';
import { channelSettings, DotnetFrontEnd, ensureFrontEndBuilt, type FrontEndSettings } from '../support/dotnetFrontEnd';

interopDescribe('journal rules shared by the TypeScript and .NET readers (Azurite)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rk-dotnet-journal-'));
    await ensureFrontEndBuilt();
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const settings = (setup: ReturnType<typeof cacheSetup>, instance: string, position?: number): FrontEndSettings => {
    const positionFile = path.join(dir, `${setup.config.journalContainer}-${instance}.json`);
    if (position !== undefined) writeFileSync(positionFile, JSON.stringify({ lastApplied: position, savedAt: new Date().toISOString() }));
    return {
      ...channelSettings(setup.config, { channel: 'production', instance, connectionString: azurite().connectionString, positionFile }),
      PollMax: '00:00:00.200',
      ProbeInterval: '00:00:01',
    };
  };

  /** Publishes `count` envelopes one batch each and waits until the head hint names the last. */
  async function journal(setup: ReturnType<typeof cacheSetup>, count: number): Promise<void> {
    for (let i = 1; i <= count; i++) await setup.publisher.publish(generic(i), { channel: 'production' });
    await waitFor(async () => (await setup.ctx.journal.readHint('production'))?.last === count, 5_000, 'the head hint');
  }

  /** Rewrites batch `first` with `change` applied to its JSON, keeping (or dropping) its metadata. */
  async function tamper(setup: ReturnType<typeof cacheSetup>, first: number, change: (batch: any) => unknown, keepMetadata = true): Promise<void> {
    const blob = setup.ctx.journal.container.getBlockBlobClient(batchName('production', first));
    const original = await blob.downloadToBuffer();
    const { metadata } = await blob.getProperties();
    const text = JSON.stringify(change(JSON.parse(original.toString('utf8'))));
    await blob.upload(text, Buffer.byteLength(text), keepMetadata ? { metadata } : {});
  }

  it('a batch with a batchId that is not a UUID or a journaledAt that is not an RFC 3339 date-time is skipped (void) by both readers', async () => {
    const setup = cacheSetup();
    await journal(setup, 4);
    await tamper(setup, 2, (b) => ({ ...b, batchId: 'not-a-uuid' }));
    await tamper(setup, 3, (b) => ({ ...b, journaledAt: 'May 1, 2024' }));
    const ts = frontEnd(setup.ctx, 'ts', { store: new MemorySequenceStore(1) });
    await ts.subscriber.start();
    const { fe: dotnet, subscribed } = await DotnetFrontEnd.plain('dotnet', settings(setup, 'dotnet', 1));
    try {
      expect(subscribed.position).toBe(4);
      expect(ts.subscriber.lastApplied).toBe(4);
      expect(ts.applied.map((e) => e.sequence)).toEqual([4]);
      expect(dotnet.envelopes.map((e) => e.sequence)).toEqual([4]);
      expect(ts.errors.map((e) => e.message)).toEqual([
        expect.stringMatching(/#2\.\.2 is not valid \(batchId must be a UUID\)/),
        expect.stringMatching(/#3\.\.3 is not valid \(journaledAt must be an RFC 3339 date-time\)/),
      ]);
      expect(dotnet.stderr).toMatch(/batchId must be a UUID/);
      expect(dotnet.stderr).toMatch(/journaledAt must be an RFC 3339 date-time/);
    } finally {
      await ts.subscriber.stop();
      await dotnet.stop({ unregister: true });
    }
  }, 120_000);

  it.each([
    ['no metadata', {}],
    ['a "last" below the blob\'s first', { last: '1' }],
  ])(
    'a batch blob that is not a batch with %s is journal corruption: both readers cold-boot to the head',
    async (_, metadata) => {
      const setup = cacheSetup();
      await journal(setup, 3);
      await setup.ctx.journal.container.getBlockBlobClient(batchName('production', 2)).upload('not a batch', 11, { metadata });
      const boots: ColdBootInfo[] = [];
      const ts = frontEnd(setup.ctx, 'ts', { store: new MemorySequenceStore(1), onColdBoot: (info) => void boots.push(info) });
      await ts.subscriber.start();
      const { fe: dotnet, subscribed } = await DotnetFrontEnd.plain('dotnet', settings(setup, 'dotnet', 1));
      try {
        expect(boots.map((b) => [b.reason, b.lastApplied, b.skippedTo])).toEqual([['journal-corrupt', 1, 3]]);
        expect(subscribed).toMatchObject({ position: 3, coldBoot: 'JournalCorrupt' });
        expect(dotnet.events.filter((e) => e.event === 'coldBoot')).toEqual([{ event: 'coldBoot', reason: 'JournalCorrupt', from: 1, to: 3 }]);
        expect(dotnet.stderr).toMatch(/broken at batch 2/);
        expect([...ts.applied, ...dotnet.envelopes]).toEqual([]);
      } finally {
        await ts.subscriber.stop();
        await dotnet.stop({ unregister: true });
      }
    },
    120_000,
  );

  it('every publisher journals envelope ids lowercase, and a retry in another case is the same envelope', async () => {
    const setup = cacheSetup();
    const id = '0B6C1B1E-AAAA-4BBB-8CCC-9DDDEEEEFFFF';
    const [fromDotnet] = await DotnetFrontEnd.publish(settings(setup, 'publisher'), [{ id, instructions: generic(1) }]);
    expect(fromDotnet).toEqual({ sequence: 1, id: id.toLowerCase(), duplicate: false });
    const read = await setup.ctx.journal.readBatch('production', 1);
    expect(read.kind === 'batch' && read.batch.entries.map((e) => e.envelope.id)).toEqual([id.toLowerCase()]);
    // The TypeScript publisher (another process's id window: it reads the journal) sees the same id.
    expect(await setup.publisher.publish({ id, instructions: generic(1) }, { channel: 'production' })).toEqual({ sequence: 1, id: id.toLowerCase(), duplicate: true });
    const [again] = await DotnetFrontEnd.publish(settings(setup, 'publisher'), [{ id: id.toLowerCase(), instructions: generic(1) }]);
    expect(again).toEqual({ sequence: 1, id: id.toLowerCase(), duplicate: true });
  }, 120_000);
});
