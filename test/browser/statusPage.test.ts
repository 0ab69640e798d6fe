import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { openRings, type RingHandle } from '../../shared/app/openRings';
import { revokeInRing, rotateRing } from '../../shared/app/keyRingOperations';
import { parseConfig } from '../../shared/config/parseConfig';
import { DAY } from '../../shared/keyring/dotnetDate';
import { readRingStatus } from '../../shared/keyring/keyRingStatus';
import { cacheSetup, frontEnd, waitFor } from '../integration/cache/cacheHarness';
import { CLI, REPO_ROOT } from '../support/cli';
import { azurite, uniqueName } from '../support/storage';

/**
 * The operators' page in a real browser: Debian's chromium (installed by .ci/run) driven by
 * playwright-core, loading GET /api/status from `ringkeeper dev` (the compiled functions). Without
 * chromium the suite is skipped with a message, except under CI=true, where it fails.
 */
const CHROMIUM = process.env.RINGKEEPER_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const isCI = /^(1|true)$/i.test(process.env.CI ?? '');
const available = existsSync(CHROMIUM);
if (!available && !isCI) console.warn(`[browser] skipping the status page test: ${CHROMIUM} not found (apt-get install -y chromium; .ci/run does). Under CI=true this is a failure.`);

const NOW = Date.now();

(available || isCI ? describe : describe.skip)('status page in Chromium (dev host, real storage)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'ringkeeper-status-page-'));
  const cache = cacheSetup();
  let handles: RingHandle[];
  let dev: { child: ChildProcess; out: string; exit: Promise<number | null> };
  let url: string;
  let browser: BrowserContext;
  const running = frontEnd(cache.ctx, 'web-running');
  const stopped = frontEnd(cache.ctx, 'web-stopped');

  beforeAll(async () => {
    if (!available) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (CI=true: not skipped); .ci/run installs it with apt-get`);
    const keyFile = path.join(work, 'kek.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = {
      storage: { connectionString: azurite().connectionString },
      rings: [
        { name: 'acceptance', container: uniqueName('page-acc'), protector: { type: 'rsa', keyFile } },
        { name: 'fresh', container: uniqueName('page-fresh'), protector: { type: 'rsa', keyFile } },
      ],
      cache: { ...cache.raw, storage: undefined },
    };
    writeFileSync(path.join(work, 'ringkeeper.json'), JSON.stringify(config));
    handles = openRings(parseConfig(config, 'ringkeeper.json', work));
    const [acceptance, fresh] = handles as [RingHandle, RingHandle];
    // Expired, revoked, active and future keys, written by the rotation code at earlier instants.
    const at = (t: number) => ({ now: () => t });
    await rotateRing(acceptance, {}, at(NOW - 100 * DAY)); // bootstrap: expires NOW - 10 d
    const successor = await rotateRing(acceptance, {}, at(NOW - 20 * DAY)); // activates NOW - 10 d
    await rotateRing(acceptance, { force: true }, at(NOW - 5 * DAY)); // activates NOW - 3 d: the default
    await rotateRing(acceptance, { force: true }, at(NOW - DAY)); // activates NOW + 1 d
    await revokeInRing(acceptance, { keyId: successor.newKeyId!, reason: 'browser test' }, at(NOW)); // not the default: no replacement
    await rotateRing(fresh);

    dev = startDev(['dev', '--port', '0', '--config', path.join(work, 'ringkeeper.json')]);
    await waitFor(() => /ready on (http:\/\/127\.0\.0\.1:\d+)/.test(dev.out), 60_000, 'dev host ready');
    url = /ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(dev.out)![1]!;

    // Two front-ends register; one stops (its queue stays, heartbeat still fresh), then instructions arrive.
    await running.subscriber.start();
    await stopped.subscriber.start();
    await stopped.subscriber.stop();
    for (let i = 1; i <= 3; i++) await cache.publisher.publish([{ refresher: 'content', type: 'RefreshByIds', ids: [i] }], { channel: 'production' });
    await waitFor(() => running.applied.length === 3, 30_000, 'the running front-end to apply 3 instructions (fan-out by the dev host)');

    browser = await chromium.launchPersistentContext(path.join(work, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1200, height: 900 } });
  }, 180_000);

  let failed = false;
  beforeEach(() => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await running.subscriber.stop({ unregister: true });
    await cache.ctx.queueService.getQueueClient(stopped.subscriber.queueName).deleteIfExists();
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGINT');
      await dev.exit;
    }
    // Screenshots of a failed run stay for a look.
    if (failed) console.warn(`[browser] screenshots kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  });

  async function load(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const response = await page.goto(`${url}/api/status`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    return { page, errors };
  }

  it('shows each ring as bars that match the ring (count, order, revoked ones struck), without console errors', async () => {
    const { page, errors } = await load();
    const shot = path.join(work, 'status.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    for (const handle of handles) {
      const status = await readRingStatus(handle, Date.now());
      const expected = [...status.keys]
        .sort((a, b) => a.activationDate.localeCompare(b.activationDate) || a.creationDate.localeCompare(b.creationDate) || a.id.localeCompare(b.id))
        .map((k) => ({ id: k.id, revoked: k.revoked }));
      const bars = await page.locator(`section.ring[data-ring="${handle.name}"] svg g.key`).evaluateAll((nodes) =>
        nodes.map((g) => {
          const bar = g.querySelector('rect.bar')!.getBoundingClientRect();
          const strike = g.querySelector('line.strike')?.getBoundingClientRect();
          const label = g.querySelector('text.label')!;
          return {
            id: g.getAttribute('data-key-id'),
            top: bar.top,
            barWidth: bar.width,
            strikeWidth: strike?.width ?? 0,
            labelStruck: getComputedStyle(label).textDecorationLine === 'line-through',
            label: label.textContent,
          };
        }),
      );
      expect(bars.map((b) => b.id)).toEqual(expected.map((k) => k.id));
      const section = page.locator(`section.ring[data-ring="${handle.name}"] svg`);
      expect(await section.locator('g.key:has(circle.mark-default-now)').getAttribute('data-key-id')).toBe(status.defaultKey);
      expect(await section.locator('g.key:has(path.mark-default-later)').getAttribute('data-key-id')).toBe(status.defaultKeyAfterPropagation);
      expect(bars.map((b) => b.label)).toEqual(expected.map((k) => k.id.slice(0, 8)));
      // Drawn top to bottom in that order, each bar visible.
      for (let i = 1; i < bars.length; i++) expect(bars[i]!.top).toBeGreaterThan(bars[i - 1]!.top);
      for (const [i, k] of expected.entries()) {
        expect(bars[i]!.barWidth).toBeGreaterThan(0);
        expect(bars[i]!.labelStruck, k.id).toBe(k.revoked);
        if (k.revoked) expect(bars[i]!.strikeWidth).toBeCloseTo(bars[i]!.barWidth, 0);
        else expect(bars[i]!.strikeWidth).toBe(0);
      }
    }
    // The acceptance ring holds one key in each state.
    const states = await page.locator('section.ring[data-ring="acceptance"] svg g.key').evaluateAll((nodes) => nodes.map((g) => g.getAttribute('data-state')));
    expect(states).toEqual(['expired', 'revoked', 'active', 'future']);
    expect(await page.locator('section.ring[data-ring="acceptance"] table.keys tbody tr').count()).toBe(4);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("shows the channel's head and front-ends, and the stopped front-end's lag grows", async () => {
    const first = await load();
    const channel = first.page.locator('section.channel[data-channel="production"]');
    expect(await channel.getAttribute('data-head')).toBe('3');
    const row = (page: Page, instance: string) => page.locator(`section.channel[data-channel="production"] tr.front-end[data-instance="${instance}"]`);
    expect(await row(first.page, 'web-running').getAttribute('data-position')).toBe('3');
    expect(await row(first.page, 'web-stopped').getAttribute('data-position')).toBe('0');
    const lag1 = Number(await row(first.page, 'web-stopped').getAttribute('data-lag-seconds'));
    expect(await first.page.locator('.rejected-count').getAttribute('data-count')).toBe('0');
    await first.page.screenshot({ path: path.join(work, 'status-1.png'), fullPage: true });
    await first.page.close();

    await new Promise((r) => setTimeout(r, 2_500));
    const second = await load();
    const lag2 = Number(await row(second.page, 'web-stopped').getAttribute('data-lag-seconds'));
    expect(lag2).toBeGreaterThanOrEqual(lag1 + 2);
    expect(await row(second.page, 'web-stopped').locator('td.lag').textContent()).toBe(`${lag2} s`);
    expect(Number(await row(second.page, 'web-running').getAttribute('data-lag-seconds'))).toBe(0);
    await second.page.screenshot({ path: path.join(work, 'status-2.png'), fullPage: true });
    expect([...first.errors, ...second.errors]).toEqual([]);
    await second.page.close();
  });
});

function startDev(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, AzureWebJobsStorage: azurite().connectionString, RINGKEEPER_CONFIG: '', RINGKEEPER_CONFIG_JSON: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = { child, out: '', exit: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout.on('data', (c: Buffer) => (p.out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (p.out += c.toString()));
  return p;
}
