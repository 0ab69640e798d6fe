import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { beforeEach, describe, expect, it } from 'vitest';
import { getKeyring } from '../../../functions/getKeyring';
import { listKeyrings } from '../../../functions/listKeyrings';
import { revokeKeyring } from '../../../functions/revokeKeyring';
import { rotateKeyring } from '../../../functions/rotateKeyring';
import { rotateKeyrings } from '../../../functions/rotateKeyrings';
import { azurite, uniqueName } from '../../support/storage';

const workDir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-functions-'));
const keyFile = path.join(workDir, 'kek.pem');
writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));

let containers: Record<string, string>;
let logs: string[];

beforeEach(() => {
  containers = { production: uniqueName('prod'), staging: uniqueName('staging') };
  process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({
    storage: { connectionString: azurite().connectionString },
    rings: Object.entries(containers).map(([name, container]) => ({ name, container, protector: { type: 'rsa', keyFile } })),
  });
  logs = [];
});

function context(functionName: string): InvocationContext {
  return new InvocationContext({ functionName, invocationId: uniqueName('inv'), logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(' ')}`) });
}

function request(method: string, url: string, params: Record<string, string> = {}, body?: string, contentType = 'application/json'): HttpRequest {
  return new HttpRequest({ method, url: `http://localhost:7071/api/${url}`, params, body: body === undefined ? undefined : { string: body }, headers: { 'content-type': contentType } });
}

function bodyOf(response: HttpResponseInit): any {
  return response.jsonBody ?? JSON.parse(String(response.body));
}

function ringBlob(ring: string) {
  return BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(containers[ring]!).getBlockBlobClient('keys.xml');
}

/** No response or log line may carry key material: master keys, wrapped keys, ciphertext. */
async function expectNoKeyMaterial(...texts: string[]) {
  const blob = (await ringBlob('production').downloadToBuffer()).toString('utf8');
  const secrets = [...blob.matchAll(/<(key|value|iv)>([^<]+)<\/\1>/g)].map((m) => m[2]!);
  expect(secrets.length).toBeGreaterThan(0);
  for (const text of [...texts, ...logs]) for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('key ring HTTP functions', () => {
  it('rotates on request, then lists and reads status without key material', async () => {
    const rotated = await rotateKeyring(request('POST', 'keyrings/production/rotate', { ring: 'production' }, ''), context('rotate-keyring'));
    expect(rotated.status).toBe(200);
    const result = bodyOf(rotated);
    expect(result).toMatchObject({ ring: 'production', action: 'bootstrap' });

    const forced = bodyOf(await rotateKeyring(request('POST', 'keyrings/production/rotate', { ring: 'production' }, '{"force":true}'), context('rotate-keyring')));
    expect(forced.action).toBe('forced');

    const list = await listKeyrings(request('GET', 'keyrings'), context('list-keyrings'));
    expect(list.status).toBe(200);
    const rings = bodyOf(list).rings;
    expect(rings.map((r: any) => [r.ring, r.keys.length])).toEqual([
      ['production', 2],
      ['staging', 0],
    ]);
    expect(rings[1].health).toBe('critical');

    const one = await getKeyring(request('GET', 'keyrings/production?at=2031-01-01T00:00:00Z', { ring: 'production' }), context('get-keyring'));
    const status = bodyOf(one);
    // Every key has expired by then. The resolver rejects the forced key (its preferred candidate) and,
    // as DefaultKeyResolver does, does not reconsider it as fallback: apps use the bootstrap key.
    expect(status).toMatchObject({ ring: 'production', now: '2031-01-01T00:00:00Z', defaultKey: result.newKeyId, resolution: 'fallback', health: 'critical' });
    await expectNoKeyMaterial(JSON.stringify(rotated), JSON.stringify(list), JSON.stringify(one));
  });

  it('revokes a key by id and all keys, writing replacements', async () => {
    const boot = bodyOf(await rotateKeyring(request('POST', 'x', { ring: 'staging' }), context('rotate-keyring')));
    const one = await revokeKeyring(request('POST', 'x', { ring: 'staging' }, JSON.stringify({ keyId: boot.newKeyId.toUpperCase(), reason: 'leaked' })), context('revoke-keyring'));
    expect(one.status).toBe(200);
    expect(bodyOf(one)).toMatchObject({ action: 'revoked', revokedKeyIds: [boot.newKeyId] });
    const all = bodyOf(await revokeKeyring(request('POST', 'x', { ring: 'staging' }, '{"all":true}'), context('revoke-keyring')));
    expect(all.revokedKeyIds).toEqual(['*']);
    expect(all.newKeys).toHaveLength(1);
    const xml = (await ringBlob('staging').downloadToBuffer()).toString('utf8');
    expect(xml).toContain('<reason>leaked</reason>');
    expect(xml).toContain('<key id="*" />');
  });

  it.each([
    ['an unknown ring', () => rotateKeyring(request('POST', 'x', { ring: 'nope' }), context('rotate-keyring')), 404, 'ring_not_found'],
    ['a malformed body', () => rotateKeyring(request('POST', 'x', { ring: 'production' }, '{force'), context('rotate-keyring')), 400, 'invalid_request'],
    ['a body that is not an object', () => rotateKeyring(request('POST', 'x', { ring: 'production' }, '[true]'), context('rotate-keyring')), 400, 'invalid_request'],
    ['an unknown property', () => rotateKeyring(request('POST', 'x', { ring: 'production' }, '{"forse":true}'), context('rotate-keyring')), 400, 'invalid_request'],
    ['immediate without force', () => rotateKeyring(request('POST', 'x', { ring: 'production' }, '{"immediate":true}'), context('rotate-keyring')), 400, 'invalid_request'],
    ['a revoke naming no key', () => revokeKeyring(request('POST', 'x', { ring: 'production' }, '{}'), context('revoke-keyring')), 400, 'invalid_request'],
    [
      'a revoke naming a key and all',
      () => revokeKeyring(request('POST', 'x', { ring: 'production' }, '{"keyId":"00000000-0000-0000-0000-000000000001","all":true}'), context('revoke-keyring')),
      400,
      'invalid_request',
    ],
    [
      'a revoke of a key not in the ring',
      () => revokeKeyring(request('POST', 'x', { ring: 'production' }, '{"keyId":"00000000-0000-0000-0000-000000000001"}'), context('revoke-keyring')),
      404,
      'key_not_found',
    ],
    ['a bad "at"', () => getKeyring(request('GET', 'x?at=soon', { ring: 'production' }), context('get-keyring')), 400, 'invalid_request'],
  ])('answers %s with problem+json', async (_label, call, status, code) => {
    const response = await call();
    expect(response.status).toBe(status);
    expect((response.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
    expect(bodyOf(response)).toMatchObject({ status, code });
  });

  it('answers a corrupt ring with 500 keyring_malformed and leaves it alone', async () => {
    const blob = ringBlob('production');
    await BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(containers.production!).createIfNotExists();
    await blob.upload('<repository><key></repository>', 30);
    const response = await rotateKeyring(request('POST', 'x', { ring: 'production' }), context('rotate-keyring'));
    expect(response.status).toBe(500);
    expect(bodyOf(response)).toMatchObject({ code: 'keyring_malformed' });
    expect((await blob.downloadToBuffer()).toString()).toBe('<repository><key></repository>');
  });

  it('answers a missing configuration with 500 config_invalid naming the setting', async () => {
    delete process.env.RINGKEEPER_CONFIG_JSON;
    const response = await listKeyrings(request('GET', 'keyrings'), context('list-keyrings'));
    expect(response.status).toBe(500);
    expect(bodyOf(response)).toMatchObject({ code: 'config_invalid' });
    expect(bodyOf(response).detail).toMatch(/RINGKEEPER_CONFIG_JSON/);
  });
});

describe('#11: bounded inputs and log lines that cannot be forged', () => {
  async function bootstrapped(): Promise<string> {
    const response = await rotateKeyring(request('POST', 'x', { ring: 'production' }), context('rotate-keyring'));
    return bodyOf(response).newKeyId;
  }

  it.each([
    ['a 1 MiB reason', () => JSON.stringify({ all: true, reason: 'x'.repeat(1 << 20) }), 'application/json', 413, 'payload_too_large'],
    ['a 501-character reason', () => JSON.stringify({ all: true, reason: 'x'.repeat(501) }), 'application/json', 400, 'invalid_request'],
    ['a reason with a newline', () => JSON.stringify({ all: true, reason: 'a\nb' }), 'application/json', 400, 'invalid_request'],
    ['a text/plain body', () => '{"all":true}', 'text/plain', 415, 'unsupported_media_type'],
  ])('refuses %s and leaves the ring unchanged', async (_label, body, type, status, code) => {
    await bootstrapped();
    const before = (await ringBlob('production').getProperties()).etag;
    const response = await revokeKeyring(request('POST', 'x', { ring: 'production' }, body(), type), context('revoke-keyring'));
    expect(response.status).toBe(status);
    expect(bodyOf(response)).toMatchObject({ status, code });
    expect((await ringBlob('production').getProperties()).etag).toBe(before);
  });

  it('accepts a 500-character reason', async () => {
    const key = await bootstrapped();
    const response = await revokeKeyring(request('POST', 'x', { ring: 'production' }, JSON.stringify({ keyId: key, reason: 'é'.repeat(500) })), context('revoke-keyring'));
    expect(response.status).toBe(200);
  });

  it('matches ring names exactly (case-sensitive)', async () => {
    const response = await getKeyring(request('GET', 'keyrings/PRODUCTION', { ring: 'PRODUCTION' }), context('get-keyring'));
    expect(response.status).toBe(404);
    expect(bodyOf(response).code).toBe('ring_not_found');
  });

  it.each(['2027-02-30T00:00:00Z', '2027-13-01T00:00:00Z', '2027-01-01T24:00:00Z'])('refuses ?at=%s, a date that does not exist', async (at) => {
    const response = await getKeyring(request('GET', `x?at=${at}`, { ring: 'production' }), context('get-keyring'));
    expect(response.status).toBe(400);
  });

  it('logs a forged ring name quoted on one line, NUL escaped, 10,000 characters truncated', async () => {
    const forged = "x\n[2026-11-25T00:00:00.000Z] Executed 'Functions.rotate-keyring' (Succeeded) FORGED\u0000";
    await getKeyring(request('GET', 'x', { ring: forged }), context('get-keyring'));
    await getKeyring(request('GET', 'x', { ring: 'y'.repeat(10_000) }), context('get-keyring'));
    const joined = logs.join('\n');
    expect(logs.length).toBe(2);
    for (const line of logs) expect(line).not.toMatch(/[\n\r\u0000]/);
    expect(joined).toContain('unknown ring "x\\n[2026-11-25T00:00:00.000Z] Executed \'Functions.rotate-keyring\' (Succeeded) FORGED\\u0000"');
    expect(logs[1]!.length).toBeLessThan(400);
    expect(logs[1]).toContain('… (9900 more characters)');
  });

  it('logs a corrupt ring as an error (not a warning)', async () => {
    await BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(containers.production!).createIfNotExists();
    await ringBlob('production').upload('garbage', 7);
    const response = await getKeyring(request('GET', 'x', { ring: 'production' }), context('get-keyring'));
    expect(response.status).toBe(500);
    expect(logs.filter((l) => l.startsWith('error ') && /keyring_malformed/.test(l))).toHaveLength(1);
    expect(logs.some((l) => l.startsWith('warning '))).toBe(false);
  });

  it('refuses a new key under another KEK unless "allowNewKek": true', async () => {
    await bootstrapped();
    const otherKey = path.join(workDir, `other-${uniqueName('k')}.pem`);
    writeFileSync(otherKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = JSON.parse(process.env.RINGKEEPER_CONFIG_JSON!);
    config.rings[0].protector.keyFile = otherKey;
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify(config);
    const refused = await rotateKeyring(request('POST', 'x', { ring: 'production' }, '{"force":true}'), context('rotate-keyring'));
    expect(refused.status).toBe(409);
    expect(bodyOf(refused)).toMatchObject({ code: 'kek_mismatch' });
    const allowed = await rotateKeyring(request('POST', 'x', { ring: 'production' }, '{"force":true,"allowNewKek":true}'), context('rotate-keyring'));
    expect(allowed.status).toBe(200);
  });
});

describe('rotate-keyrings timer', () => {
  const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

  it('rotates every ring and logs what it did', async () => {
    await rotateKeyrings(timer, context('rotate-keyrings'));
    expect(logs.filter((l) => /ring (production|staging): bootstrap \(new key [0-9a-f-]{36}\)/.test(l))).toHaveLength(2);
    await expectNoKeyMaterial();
  });

  it('keeps going when one ring fails, then fails the run', async () => {
    await BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(containers.production!).createIfNotExists();
    await ringBlob('production').upload('garbage', 7);
    await expect(rotateKeyrings(timer, context('rotate-keyrings'))).rejects.toThrow(/rotation failed for 1 of 2 rings: production/);
    expect(logs.some((l) => /ring staging: bootstrap/.test(l))).toBe(true);
    expect(logs.some((l) => /ring production: keyring_malformed/.test(l))).toBe(true);
  });

  it('races an HTTP rotation on one ring and the ring ends with exactly one new key', async () => {
    await Promise.all([
      rotateKeyrings(timer, context('rotate-keyrings')),
      rotateKeyring(request('POST', 'x', { ring: 'production' }), context('rotate-keyring')),
      rotateKeyring(request('POST', 'x', { ring: 'production' }), context('rotate-keyring')),
    ]);
    const xml = (await ringBlob('production').downloadToBuffer()).toString('utf8');
    expect(xml.match(/<key id="[0-9a-f-]{36}"/g)).toHaveLength(1);
  });
});
