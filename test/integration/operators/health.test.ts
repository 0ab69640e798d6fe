import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterEach, describe, expect, it } from 'vitest';
import { getHealth } from '../../../functions/getHealth';
import { rotateRing } from '../../../shared/app/keyRingOperations';
import { openRings } from '../../../shared/app/openRings';
import { parseConfig } from '../../../shared/config/parseConfig';
import { DAY, HOUR } from '../../../shared/keyring/dotnetDate';
import { recordRejection } from '../../../shared/cache/recordRejection';
import { cacheSetup, frontEnd } from '../cache/cacheHarness';
import { azurite, uniqueName } from '../../support/storage';

const work = mkdtempSync(path.join(tmpdir(), 'ringkeeper-health-'));
const pem = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
const kek = path.join(work, 'kek.pem');
const otherKek = path.join(work, 'other.pem');
writeFileSync(kek, pem());
writeFileSync(otherKek, pem());

function configWith(rings: Array<{ name: string; keyFile?: string; container?: string }>) {
  return {
    storage: { connectionString: azurite().connectionString },
    rings: rings.map((r) => ({ name: r.name, container: r.container ?? uniqueName(`health-${r.name}`), protector: { type: 'rsa', keyFile: r.keyFile ?? kek } })),
  };
}

async function health(config: unknown) {
  process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify(config);
  const response = await getHealth(new HttpRequest({ method: 'GET', url: 'http://localhost/api/health' }), new InvocationContext({ functionName: 'get-health', logHandler: () => {} }));
  return { status: response.status, body: response.jsonBody };
}

afterEach(() => {
  delete process.env.RINGKEEPER_CONFIG_JSON;
});

describe('GET /api/health', () => {
  it('answers 503 for a ring whose only key expires within a day, naming the ring and why', async () => {
    const config = configWith([{ name: 'healthy' }, { name: 'expiring' }]);
    const [healthy, expiring] = openRings(parseConfig(config, 'test', work));
    await rotateRing(healthy!);
    // Written 89.5 days ago with the default 90-day lifetime: it expires in 12 hours, and nothing follows it.
    await rotateRing(expiring!, {}, { now: () => Date.now() - 90 * DAY + 12 * HOUR });
    const { status, body } = await health(config);
    expect(status).toBe(503);
    expect(body.health).toBe('critical');
    expect(body.rings.map((r: any) => [r.name, r.health])).toEqual([
      ['healthy', 'warning'], // its key was created just now: still propagating
      ['expiring', 'critical'],
    ]);
    expect(body.rings[1].reasons.map((r: any) => r.code)).toContain('no_default_key_after_propagation');
    expect(body.channels).toEqual([]);
  });

  it('answers 200 when nothing is critical', async () => {
    const config = configWith([{ name: 'settled' }]);
    const [ring] = openRings(parseConfig(config, 'test', work));
    await rotateRing(ring!, {}, { now: () => Date.now() - 10 * DAY });
    const { status, body } = await health(config);
    expect(status).toBe(200);
    expect(body).toMatchObject({ health: 'ok', rings: [{ name: 'settled', health: 'ok', reasons: [] }] });
    // Probes within HEALTH_REUSE_MS share the answer: no storage read per anonymous request.
    await rotateRing(ring!, { force: true, immediate: true });
    expect((await health(config)).body).toEqual(body);
  });

  it('is critical when the configured protector cannot unwrap the key apps use', async () => {
    const container = uniqueName('health-kek');
    const written = configWith([{ name: 'rewrapped', container, keyFile: otherKek }]);
    const [ring] = openRings(parseConfig(written, 'test', work));
    await rotateRing(ring!, {}, { now: () => Date.now() - 10 * DAY });
    // Same blob, but the app is configured with another KEK.
    const { status, body } = await health(configWith([{ name: 'rewrapped', container }]));
    expect(status).toBe(503);
    const reasons = body.rings[0].reasons;
    // stale_kek (#9): the key is wrapped by another KEK than the configured one, which status names too.
    expect(reasons.map((r: any) => [r.code, r.severity])).toEqual([
      ['stale_kek', 'warning'],
      ['protector_cannot_unwrap', 'critical'],
    ]);
    expect(JSON.stringify(body)).not.toMatch(/BEGIN|PRIVATE/);
  });

  it("reports each channel: a stale front-end and a rejection in the last hour are warnings (200), with the ring's health", async () => {
    const cache = cacheSetup({ staleTimeoutMinutes: 1, heartbeatSeconds: 30 });
    const config = { ...configWith([{ name: 'settled' }]), cache: { ...cache.raw, storage: undefined } };
    const [ring] = openRings(parseConfig(config, 'test', work));
    await rotateRing(ring!, {}, { now: () => Date.now() - 10 * DAY });
    const gone = frontEnd(cache.ctx, 'gone');
    await gone.subscriber.start();
    await gone.subscriber.stop();
    // Its heartbeat ages past the stale timeout (1 min) without waiting: rewrite it an hour back.
    await cache.ctx.queueService.getQueueClient(gone.subscriber.queueName).setMetadata({ channel: 'production', instance: 'gone', heartbeat: new Date(Date.now() - HOUR).toISOString() });
    await recordRejection(cache.ctx, { code: 'invalid_envelope', reason: 'test', source: 'publish', original: '{}' });
    try {
      const { status, body } = await health(config);
      expect(status).toBe(200);
      expect(body.health).toBe('warning');
      expect(body.channels.map((c: any) => [c.name, c.health, c.reasons.map((r: any) => r.code)])).toEqual([
        ['production', 'warning', ['stale_front_ends', 'rejected_messages']],
        ['staging', 'warning', ['rejected_messages']],
      ]);
      expect(body.channels[0].reasons[1].message).toBe(`1 message(s) rejected in the last hour (${cache.config.rejectedQueue} holds 1)`);
    } finally {
      await cache.ctx.queueService.getQueueClient(gone.subscriber.queueName).deleteIfExists();
    }
  });
});
