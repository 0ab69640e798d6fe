import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCacheCommand } from '../../../shared/cli/cacheCommand';
import type { CliIo } from '../../../shared/cli/CliIo';
import { azurite } from '../../support/storage';
import { cacheSetup, fanOutPump, waitFor } from './cacheHarness';

function io(cwd: string, stdin = '', signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const value: CliIo = { stdout, stderr, stdin: Readable.from([stdin]), env: {}, cwd, signal };
  return { io: value, out: () => out.join(''), err: () => err.join('') };
}

describe('ringkeeper cache publish|tail (Azurite)', () => {
  const setup = cacheSetup();
  let dir: string;
  let configFile: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rk-cache-cli-'));
    configFile = path.join(dir, 'ringkeeper.json');
    writeFileSync(configFile, JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { ...setup.raw, storage: undefined } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('three tails each print every published envelope once, in publish order', async () => {
    const pump = fanOutPump(setup.ctx);
    pump.start();
    const controller = new AbortController();
    const tails = [0, 1, 2].map(() => io(dir, '', controller.signal));
    const running = tails.map((t) => runCacheCommand(['tail', '--channel', 'production', '--json', '--config', configFile], t.io));
    try {
      await waitFor(() => tails.every((t) => t.err().includes('tailing production')), 20_000, 'tails ready');
      const N = 30;
      const ndjson = Array.from({ length: N }, (_, i) => JSON.stringify([{ refresher: 'content', type: 'RefreshByIds', ids: [i + 1] }])).join('\n');
      const pub = io(dir, ndjson);
      expect(await runCacheCommand(['publish', '--channel', 'production', '--config', configFile], pub.io)).toBe(0);
      const printed = pub
        .out()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { sequence: number; id: string });
      expect(printed).toHaveLength(N);
      const one = io(dir);
      expect(await runCacheCommand(['publish', '--channel', 'production', '--config', configFile, '--json', '{"refresher":"media","type":"RefreshAll"}'], one.io)).toBe(0);
      printed.push(JSON.parse(one.out()) as { sequence: number; id: string });
      expect(printed.map((p) => p.sequence)).toEqual(Array.from({ length: N + 1 }, (_, i) => printed[0]!.sequence + i));

      await waitFor(() => tails.every((t) => t.out().trim().split('\n').filter(Boolean).length >= N + 1), 30_000, 'tails to print everything');
      await new Promise((r) => setTimeout(r, 300));
      for (const t of tails) {
        const lines = t
          .out()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { sequence: number; id: string; channel: string; instructions: unknown[] });
        expect(lines.map((l) => [l.sequence, l.id])).toEqual(printed.map((p) => [p.sequence, p.id]));
        expect(lines.every((l) => l.channel === 'production')).toBe(true);
        expect(lines[4]!.instructions).toEqual([{ refresher: 'content', type: 'RefreshByIds', ids: [5] }]);
      }
    } finally {
      controller.abort();
      expect(await Promise.all(running)).toEqual([0, 0, 0]);
      await pump.stop();
    }
    // Throwaway tails remove their queues on exit.
    const { listFrontEnds } = await import('../../../shared/cache/listFrontEnds');
    expect(await listFrontEnds(setup.ctx, 'production')).toEqual([]);
  });

  it('usage and refusals: exit 2 for usage/config errors, 1 for refused publishes', async () => {
    const noChannel = io(dir, '[]');
    expect(await runCacheCommand(['publish', '--config', configFile], noChannel.io)).toBe(2);
    expect(noChannel.err()).toMatch(/--channel is required/);
    const badJson = io(dir);
    expect(await runCacheCommand(['publish', '--channel', 'production', '--config', configFile, '--json', '{oops'], badJson.io)).toBe(2);
    const unknown = io(dir);
    // An unknown channel is a configuration error (exit 2), as for `cache tail` and an unknown --ring (#11 item 6).
    expect(await runCacheCommand(['publish', '--channel', 'nowhere', '--config', configFile, '--json', '[{"refresher":"a","type":0}]'], unknown.io)).toBe(2);
    expect(unknown.err()).toMatch(/unknown_channel/);
    const invalid = io(dir);
    expect(await runCacheCommand(['publish', '--channel', 'production', '--config', configFile, '--json', '{"version":9,"instructions":[]}'], invalid.io)).toBe(1);
    expect(invalid.err()).toMatch(/unsupported_version/);
    const tailUnknown = io(dir, '', AbortSignal.abort());
    expect(await runCacheCommand(['tail', '--channel', 'nowhere', '--config', configFile], tailUnknown.io)).toBe(2);
    const missingConfig = io(dir);
    writeFileSync(path.join(dir, 'nocache.json'), JSON.stringify({ rings: [] }));
    expect(await runCacheCommand(['publish', '--channel', 'production', '--config', path.join(dir, 'nocache.json'), '--json', '[]'], missingConfig.io)).toBe(2);
    expect(missingConfig.err()).toMatch(/cache: the cache channel is not configured/);
  });
});
