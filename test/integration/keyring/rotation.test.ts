import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError } from '../../../shared/async/AbortError';
import { delay } from '../../../shared/async/delay';
import { revokeInRing, rotateRing, rotateRings } from '../../../shared/app/keyRingOperations';
import { openRings, type OpenRingsOptions, type RingHandle } from '../../../shared/app/openRings';
import { ConfigError } from '../../../shared/config/ConfigError';
import { parseConfig } from '../../../shared/config/parseConfig';
import type { ProtectorConfig } from '../../../shared/config/types';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { KeyRingFormatError } from '../../../shared/keyring/KeyRingFormatError';
import { readRingStatus } from '../../../shared/keyring/keyRingStatus';
import { verifyKeyRing } from '../../../shared/keyring/verifyKeyRing';
import { startKeyVaultDouble, type KeyVaultDouble } from '../../support/keyVaultDouble';
import { requestCounter } from '../../support/requestCounter';
import { azurite, uniqueName } from '../../support/storage';

const workDir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-rotation-'));
const keyFile = path.join(workDir, 'kek.pem');
writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
const T0 = Date.UTC(2030, 0, 1);

let kv: KeyVaultDouble;
const staticToken = (token: string): TokenCredential => ({ getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) });

beforeAll(async () => {
  kv = await startKeyVaultDouble();
});
afterAll(async () => {
  await kv?.close();
});

function ring(protector: ProtectorConfig = { type: 'rsa', keyFile }, options: OpenRingsOptions = {}, container = uniqueName('ring')): RingHandle {
  const config = parseConfig({ rings: [{ name: 'r', storage: { connectionString: azurite().connectionString }, container, blob: 'keys.xml', protector }] }, 'test', workDir);
  return openRings(config, {
    credential: staticToken(kv.acceptedTokens[0]!),
    keyVaultClientOptions: { tlsOptions: { ca: kv.caPem }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 1, retryDelayInMs: 5 } },
    ...options,
  })[0]!;
}

async function blobBytes(handle: RingHandle): Promise<{ content?: Buffer; etag?: string }> {
  return handle.repository.read();
}

describe('rotation against Azurite', () => {
  it('bootstraps an empty ring, then a run with nothing to do costs exactly one storage request and no Key Vault call', async () => {
    kv.createKey('noop');
    const counter = requestCounter();
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('noop') }, { storagePolicies: [counter.policy] });
    const first = await rotateRing(handle, {}, { now: () => T0 });
    expect(first.action).toBe('bootstrap');
    expect(first.newKeyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(kv.requests.length).toBeGreaterThan(0);

    counter.reset();
    kv.resetRequests();
    const second = await rotateRing(handle, {}, { now: () => T0 + DAY });
    expect(second).toMatchObject({ action: 'none', newKeyId: null, etag: first.etag, attempts: 1 });
    expect(counter.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200']);
    expect(kv.requests).toEqual([]);
  });

  it('records the versioned Key Vault kid and verify unwraps every key through Key Vault', async () => {
    const version = kv.createKey('verify');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('verify') });
    await rotateRing(handle, {}, { now: () => T0 });
    await rotateRing(handle, { force: true }, { now: () => T0 + DAY });
    const doc = KeyRingDocument.parse((await blobBytes(handle)).content);
    expect(doc.ring.keys.map((k) => [k.protection, k.kid])).toEqual([
      ['keyvault', version],
      ['keyvault', version],
    ]);
    expect(doc.serialize().toString('utf8')).not.toMatch(/<masterKey/);
    kv.resetRequests();
    const verification = await verifyKeyRing(handle);
    expect(verification.keys.map((k) => k.status)).toEqual(['ok', 'ok']);
    expect(kv.requests.some((r) => r.operation === 'unwrapkey' && r.status === 200)).toBe(true);
  });

  it('writes a successor ahead of expiry that activates when the current key expires', async () => {
    const handle = ring();
    const boot = await rotateRing(handle, {}, { now: () => T0 });
    const expiry = T0 + 90 * DAY;
    expect((await rotateRing(handle, {}, { now: () => expiry - 15 * DAY })).action).toBe('none');
    const renewal = await rotateRing(handle, {}, { now: () => expiry - 14 * DAY });
    expect(renewal.action).toBe('successor');
    expect(renewal.newKeys[0]!.activationDate).toBe(new Date(expiry).toISOString().replace('.000Z', 'Z'));
    const status = await readRingStatus(handle, expiry + 1);
    expect(status.defaultKey).toBe(renewal.newKeyId);
    // Within the 5-minute clock skew of its activation the successor already wins, as in DefaultKeyResolver.
    expect((await readRingStatus(handle, expiry - 6 * 60_000)).defaultKey).toBe(boot.newKeyId);
    expect((await readRingStatus(handle, expiry - 4 * 60_000)).defaultKey).toBe(renewal.newKeyId);
  });

  it('keeps an element it does not understand byte for byte, in place, across rotations', async () => {
    const handle = ring();
    const foreign = '<custom:audit xmlns:custom="urn:example:audit" note="kept &amp; untouched"><!-- c --><x/></custom:audit>';
    const original = `<?xml version="1.0" encoding="utf-8"?><repository>${foreign}</repository>`;
    await handle.repository.write(Buffer.from(original), undefined);
    for (const [i, force] of [false, true, false, true].entries()) await rotateRing(handle, { force }, { now: () => T0 + i * DAY });
    const text = (await blobBytes(handle)).content!.toString('utf8');
    expect(text.startsWith(`<?xml version="1.0" encoding="utf-8"?><repository>${foreign}<key `)).toBe(true);
    expect(KeyRingDocument.parse(Buffer.from(text)).ring.keys).toHaveLength(3);
  });

  it('refuses a corrupt ring, names the problem and leaves the blob untouched', async () => {
    const handle = ring();
    const corrupt = Buffer.from('<?xml version="1.0" encoding="utf-8"?><repository><key id="not-a-guid" version="1"></repository>');
    await handle.repository.write(corrupt, undefined);
    const before = await blobBytes(handle);
    await expect(rotateRing(handle)).rejects.toThrow(KeyRingFormatError);
    await expect(rotateRing(handle)).rejects.toThrow(/not well-formed XML: the end tag <\/repository> does not match the start tag <key>/);
    const after = await blobBytes(handle);
    expect(after.etag).toBe(before.etag);
    expect(after.content!.equals(corrupt)).toBe(true);
  });

  it('re-reads and re-plans when another writer wins the race, keeping what the other wrote', async () => {
    const container = uniqueName('race');
    const intruder = ring(undefined, {}, container);
    let interfered = false;
    const handle = ring(
      undefined,
      {
        storagePolicies: [
          {
            create: (next) => ({
              async sendRequest(request) {
                // Just before our first write lands, another writer appends an element.
                if (request.method === 'PUT' && !interfered) {
                  interfered = true;
                  const stored = await intruder.repository.read();
                  const doc = KeyRingDocument.parse(stored.content);
                  doc.append('<intruder/>');
                  await intruder.repository.write(doc.serialize(), stored.etag);
                }
                return next.sendRequest(request);
              },
            }),
          },
        ],
      },
      container,
    );
    const result = await rotateRing(handle, {}, { now: () => T0, delay: async () => {} });
    expect(result.attempts).toBe(2);
    const text = (await blobBytes(handle)).content!.toString('utf8');
    expect(text).toContain('<intruder/>');
    expect(KeyRingDocument.parse(Buffer.from(text)).ring.keys.map((k) => k.id)).toEqual([result.newKeyId]);
  });

  it('stops at an abort: in the back-off after a lost race, and before writing what it planned', async () => {
    const container = uniqueName('abort');
    const intruder = ring(undefined, {}, container);
    const racing = new AbortController();
    let reads = 0;
    const handle = ring(
      undefined,
      {
        storagePolicies: [
          {
            create: (next) => ({
              async sendRequest(request) {
                if (request.method === 'GET') reads++;
                // Another writer wins the race; the host shuts down while this one backs off.
                if (request.method === 'PUT' && !racing.signal.aborted) {
                  const stored = await intruder.repository.read();
                  const doc = KeyRingDocument.parse(stored.content);
                  doc.append('<intruder/>');
                  await intruder.repository.write(doc.serialize(), stored.etag);
                  setTimeout(() => racing.abort(), 50);
                }
                return next.sendRequest(request);
              },
            }),
          },
        ],
      },
      container,
    );
    const started = Date.now();
    const backingOff = rotateRing(handle, {}, { now: () => T0, abortSignal: racing.signal, delay: (_attempt, options) => delay(60_000, options) });
    await expect(backingOff).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(reads).toBe(1);
    expect((await blobBytes(intruder)).content?.toString('utf8')).toContain('<intruder/>');
    expect((await blobBytes(intruder)).content?.toString('utf8')).not.toContain('<key ');

    // Aborted while reading: the plan is made (and the key wrapped) but nothing is written.
    const shutdown = new AbortController();
    const reader = ring(
      undefined,
      {
        storagePolicies: [
          {
            create: (next) => ({
              sendRequest(request) {
                if (request.method === 'GET') shutdown.abort();
                return next.sendRequest(request);
              },
            }),
          },
        ],
      },
      uniqueName('abort'),
    );
    await expect(rotateRing(reader, {}, { now: () => T0, abortSignal: shutdown.signal })).rejects.toBeInstanceOf(AbortError);
    expect((await blobBytes(reader)).etag).toBeUndefined();
    await expect(rotateRing(reader, {}, { now: () => T0, abortSignal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });

  it('lets concurrent runs on one ring create exactly one key', async () => {
    const container = uniqueName('concurrent');
    const results = await Promise.all(Array.from({ length: 6 }, () => rotateRing(ring(undefined, {}, container), {}, { now: () => T0, maxAttempts: 8 })));
    expect(results.filter((r) => r.action === 'bootstrap')).toHaveLength(1);
    const doc = KeyRingDocument.parse((await blobBytes(ring(undefined, {}, container))).content);
    expect(doc.ring.keys).toHaveLength(1);
  });

  it('revokes a key and writes a replacement the apps use, in one update', async () => {
    const handle = ring();
    const boot = await rotateRing(handle, {}, { now: () => T0 });
    const revoked = await revokeInRing(handle, { keyId: boot.newKeyId!, reason: 'test' }, { now: () => T0 + 3 * DAY });
    expect(revoked.revokedKeyIds).toEqual([boot.newKeyId]);
    expect(revoked.newKeys.map((k) => k.reason)).toEqual(['replacement']);
    const status = await readRingStatus(handle, T0 + 3 * DAY);
    expect(status.keys.find((k) => k.id === boot.newKeyId)!.revoked).toBe(true);
    expect(status.defaultKey).toBe(revoked.newKeyId);
    // Revoking the same key again changes nothing.
    expect((await revokeInRing(handle, { keyId: boot.newKeyId! }, { now: () => T0 + 3 * DAY })).action).toBe('none');
  });

  it('rotates every ring even when one fails, reporting each', async () => {
    const good = ring();
    const bad = ring();
    await bad.repository.write(Buffer.from('not xml'), undefined);
    const outcomes = await rotateRings([bad, good], {}, { now: () => T0 });
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'keyring_malformed' } });
  });

  it('refuses the none protector on a real storage account unless allowed in writing', () => {
    const config = (allowUnencrypted?: boolean) =>
      parseConfig({ rings: [{ name: 'r', blobUri: 'https://acct.blob.core.windows.net/dp/keys.xml', protector: { type: 'none', allowUnencrypted } }] }, 'test', workDir);
    expect(() => openRings(config(), { credential: staticToken('x') })).toThrow(ConfigError);
    expect(() => openRings(config(), { credential: staticToken('x') })).toThrow(/rings\[0\]\.protector\.allowUnencrypted/);
    expect(() => openRings(config(true), { credential: staticToken('x') })).not.toThrow();
  });

  it('stores the ring as AzureBlobXmlRepository does: one blob, XML content type, conditional create', async () => {
    const container = uniqueName('shape');
    const handle = ring(undefined, {}, container);
    await rotateRing(handle, {}, { now: () => T0 });
    const blob = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(container).getBlobClient('keys.xml');
    const props = await blob.getProperties();
    expect(props.contentType).toBe('application/xml; charset=utf-8');
    const text = (await blob.downloadToBuffer()).toString('utf8');
    expect(text).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?><repository><key id="[0-9a-f-]{36}" version="1"><creationDate>/);
    expect(text).not.toContain('\n');
  });
});
