import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cacheJanitor } from '../../../functions/cacheJanitor';
import { fanOutCacheInstructions } from '../../../functions/fanOutCacheInstructions';
import { recordOperatorsTelemetry } from '../../../functions/recordOperatorsTelemetry';
import { revokeKeyring } from '../../../functions/revokeKeyring';
import { rotateKeyrings } from '../../../functions/rotateKeyrings';
import { rotateRing } from '../../../shared/app/keyRingOperations';
import { openRings } from '../../../shared/app/openRings';
import { recordRingOperation } from '../../../shared/app/telemetry/recordRingOperation';
import { createRequestCounters } from '../../../shared/app/telemetry/requestCounters';
import { TELEMETRY_PREFIX } from '../../../shared/app/telemetry/TelemetryRecord';
import { parseConfig } from '../../../shared/config/parseConfig';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { decodeQueueMessage } from '../../../shared/cache/queueMessageCodec';
import { startKeyVaultDouble, type KeyVaultDouble } from '../../support/keyVaultDouble';
import { azurite, uniqueName } from '../../support/storage';
import { cacheSetup, frontEnd } from '../cache/cacheHarness';

const work = mkdtempSync(path.join(tmpdir(), 'ringkeeper-telemetry-'));
const keyFile = path.join(work, 'kek.pem');
writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));

let lines: Array<{ level: string; text: string }> = [];
const context = (functionName: string) => new InvocationContext({ functionName, logHandler: (level, ...args) => void lines.push({ level, text: args.map(String).join(' ') }) });
const records = () => lines.filter((l) => l.text.startsWith(TELEMETRY_PREFIX)).map((l) => ({ level: l.level, ...JSON.parse(l.text.slice(TELEMETRY_PREFIX.length)) }));

afterEach(() => {
  lines = [];
  delete process.env.RINGKEEPER_CONFIG_JSON;
});

/** No log line may carry what the ring blob protects: master keys, wrapped keys, IVs, or the connection string's key. */
async function expectNoSecrets(containers: string[]) {
  const service = BlobServiceClient.fromConnectionString(azurite().connectionString);
  const secrets = [azurite().connectionString.match(/AccountKey=([^;]+)/)![1]!];
  for (const c of containers) {
    const xml = (await service.getContainerClient(c).getBlockBlobClient('keys.xml').downloadToBuffer()).toString('utf8');
    secrets.push(...[...xml.matchAll(/<(key|value|iv)>([^<]+)<\/\1>/g)].map((m) => m[2]!));
  }
  expect(secrets.length).toBeGreaterThan(2);
  for (const { text } of lines) for (const s of secrets) expect(text).not.toContain(s);
}

describe('telemetry records through the Functions log', () => {
  it('the rotation timer writes one record per ring: action, new key id, duration, storage requests; a failed ring is an error record', async () => {
    const good = uniqueName('tel-good');
    const broken = uniqueName('tel-broken');
    await BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(broken).createIfNotExists();
    await BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(broken).getBlockBlobClient('keys.xml').upload('<repository><key', 16);
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({
      storage: { connectionString: azurite().connectionString },
      rings: [
        { name: 'good', container: good, protector: { type: 'rsa', keyFile } },
        { name: 'broken', container: broken, protector: { type: 'rsa', keyFile } },
      ],
    });
    await expect(rotateKeyrings({ isPastDue: false, schedule: { adjustForDST: true } } as never, context('rotate-keyrings'))).rejects.toThrow(/rotation failed for 1 of 2 rings: broken/);
    const [ok, failed] = records();
    expect(ok).toMatchObject({ level: 'information', event: 'rotation', ring: 'good', trigger: 'timer', outcome: 'succeeded', action: 'bootstrap', attempts: 1, warnings: 1, keyVaultRequests: 0 });
    expect(ok.keyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.keyIds).toEqual([ok.keyId]);
    // Read (404), create the container, write: at least three requests; the RSA protector needs no Key Vault.
    expect(ok.storageRequests).toBeGreaterThanOrEqual(3);
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
    expect(failed).toMatchObject({ level: 'error', event: 'rotation', ring: 'broken', outcome: 'failed', action: 'keyring_malformed', keyId: null, storageRequests: 1, keyVaultRequests: 0 });
    expect(records()).toHaveLength(2);

    // A revocation by HTTP: the revoked key's id, and the replacement written with it.
    const response = await revokeKeyring(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/keyrings/good/revoke',
        params: { ring: 'good' },
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify({ keyId: ok.keyId }) },
      }),
      context('revoke-keyring'),
    );
    expect(response.status).toBe(200);
    const revocation = records().find((r) => r.event === 'revocation');
    expect(revocation).toMatchObject({ event: 'revocation', ring: 'good', trigger: 'http', outcome: 'succeeded', action: 'revoked', keyId: ok.keyId, keyIds: [ok.keyId], attempts: 1 });
    expect(revocation.storageRequests).toBe(2); // read, write
    await expectNoSecrets([good]);
  });

  describe('Key Vault requests', () => {
    let kv: KeyVaultDouble;
    beforeAll(async () => {
      kv = await startKeyVaultDouble();
    });
    afterAll(async () => {
      await kv?.close();
    });

    it('are counted per operation as the vault saw them', async () => {
      kv.createKey('telemetry');
      const config = parseConfig(
        { storage: { connectionString: azurite().connectionString }, rings: [{ name: 'kv', container: uniqueName('tel-kv'), protector: { type: 'keyvault', keyId: kv.keyId('telemetry') } }] },
        'test',
        work,
      );
      const counters = createRequestCounters();
      const credential: TokenCredential = { getToken: async (): Promise<AccessToken> => ({ token: kv.acceptedTokens[0]!, expiresOnTimestamp: Date.now() + 3_600_000 }) };
      const [handle] = openRings(config, {
        ...counters.openRingsOptions,
        credential,
        keyVaultClientOptions: { ...counters.openRingsOptions.keyVaultClientOptions, tlsOptions: { ca: kv.caPem }, disableChallengeResourceVerification: true },
      });
      kv.resetRequests();
      await recordRingOperation('rotation', 'http', 'kv', counters, context('rotate-keyring'), () => rotateRing(handle!));
      const [record] = records();
      expect(kv.requests.length).toBeGreaterThan(0);
      expect(record.keyVaultRequests).toBe(kv.requests.length);

      kv.resetRequests();
      await recordRingOperation('rotation', 'http', 'kv', counters, context('rotate-keyring'), () => rotateRing(handle!));
      expect(records()[1]).toMatchObject({ action: 'none', storageRequests: 1, keyVaultRequests: 0 });
    });
  });

  it('fan-out batches, janitor runs and the operators timer write records and the lag and key gauges', async () => {
    const cache = cacheSetup();
    const container = uniqueName('tel-metrics');
    const config = {
      storage: { connectionString: azurite().connectionString },
      rings: [{ name: 'metrics', container, protector: { type: 'rsa', keyFile } }],
      cache: { ...cache.raw, storage: undefined },
    };
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify(config);
    const [handle] = openRings(parseConfig(config, 'test', work));
    const created = Date.now() - 10 * DAY;
    const first = await rotateRing(handle!, {}, { now: () => created });
    const fe = frontEnd(cache.ctx, 'web-1');
    await fe.subscriber.start();
    await fe.subscriber.stop(); // registered, not consuming: its lag shows

    await cache.publisher.publish([{ refresher: 'content', type: 'RefreshByIds', ids: [1] }], { channel: 'production' });
    const instructions = cache.ctx.queueService.getQueueClient(cache.config.instructionsQueue);
    const [message] = (await instructions.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    await fanOutCacheInstructions(JSON.parse(decodeQueueMessage(message!.messageText)), context('fan-out-cache-instructions'));
    await instructions.deleteMessage(message!.messageId, message!.popReceipt);
    await cacheJanitor(undefined, context('cache-janitor'));
    await new Promise((r) => setTimeout(r, 1100)); // the waiting message ages
    await recordOperatorsTelemetry(undefined, context('operators-telemetry'));

    const all = records();
    expect(all.find((r) => r.event === 'fanout')).toMatchObject({ channel: 'production', outcome: 'delivered', first: 1, last: 1, frontEnds: 1, failedFrontEnds: 0 });
    expect(all.filter((r) => r.event === 'janitor').map((r) => [r.channel, r.outcome, r.head, r.liveFrontEnds])).toEqual([
      ['production', 'succeeded', 1, 1],
      ['staging', 'succeeded', 0, 0],
    ]);
    expect(all.filter((r) => r.event === 'health').map((r) => [r.component, r.name, r.health])).toEqual([
      ['ring', 'metrics', 'ok'],
      ['channel', 'production', 'ok'],
      ['channel', 'staging', 'ok'],
    ]);
    const metric = (name: string) => all.filter((r) => r.event === 'metric' && r.name === name);
    const [age] = metric('default_key_age');
    expect(age).toMatchObject({ ring: 'metrics', unit: 'seconds' });
    expect(Math.abs(age.value - 10 * 86_400)).toBeLessThan(60);
    const expires = Date.parse(first.newKeys[0]!.expirationDate);
    expect(Math.abs(metric('time_until_default_key_expires')[0].value - (expires - Date.now()) / 1000)).toBeLessThan(60);
    expect(metric('time_to_next_activation')).toEqual([]); // no successor yet: 80 days left, renewal at 14
    expect(metric('fan_out_lag')[0].value).toBe(0);
    const [lag] = metric('front_end_lag');
    expect(lag).toMatchObject({ channel: 'production', frontEnd: 'web-1', unit: 'seconds' });
    expect(lag.value).toBeGreaterThanOrEqual(1);
    expect(metric('front_end_behind')[0]).toMatchObject({ frontEnd: 'web-1', value: 1 });
    await cache.ctx.queueService.getQueueClient(fe.subscriber.queueName).deleteIfExists();
    await expectNoSecrets([container]);
  });
});
