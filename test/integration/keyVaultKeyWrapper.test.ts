import { constants, privateDecrypt, publicEncrypt, randomBytes, createPublicKey } from 'node:crypto';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { CryptographyClientOptions } from '@azure/keyvault-keys';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeyVaultError } from '../../shared/keyring/protectors/keyVaultErrors';
import { createKeyVaultKeyWrapper, isVersionedKeyId, type KeyVaultKeyWrapper } from '../../shared/keyring/protectors/KeyVaultKeyWrapper';
import { startKeyVaultDouble, type KeyVaultDouble } from '../support/keyVaultDouble';

/** A real TokenCredential that hands out a fixed token and records what it was asked for. */
class StaticTokenCredential implements TokenCredential {
  readonly calls: Array<{ scopes: string[]; tenantId?: string }> = [];
  constructor(private readonly token: string) {}
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    this.calls.push({ scopes: ([] as string[]).concat(scopes), tenantId: options?.tenantId });
    return { token: this.token, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

let kv: KeyVaultDouble;
let credential: StaticTokenCredential;
let token: string;

function clientOptions(): CryptographyClientOptions {
  return {
    // Trust only the double's self-signed certificate, for these clients only.
    tlsOptions: { ca: kv.caPem },
    // The challenge names vault.azure.net; the double is 127.0.0.1.
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
  };
}

function wrapperFor(keyId: string): KeyVaultKeyWrapper {
  return createKeyVaultKeyWrapper({ keyId, credential, clientOptions: clientOptions() });
}

const ops = () => kv.requests.map((r) => `${r.method} ${r.operation} ${r.status}`);

/** Asserts the error text carries none of the secrets involved. */
function expectNoSecrets(err: KeyVaultError, ...secrets: Buffer[]) {
  const text = `${err.message} ${JSON.stringify(err)}`;
  expect(text).not.toContain(token);
  for (const s of secrets) {
    for (const enc of ['hex', 'base64', 'base64url'] as const) expect(text).not.toContain(s.toString(enc));
  }
}

beforeAll(async () => {
  kv = await startKeyVaultDouble();
  token = kv.acceptedTokens[0]!;
});

afterAll(async () => {
  await kv?.close();
});

beforeEach(() => {
  kv.clearFaults();
  kv.resetRequests();
  credential = new StaticTokenCredential(token);
});

describe('KeyVaultKeyWrapper against the Key Vault double', () => {
  it('makes no request when constructed', async () => {
    kv.createKey('idle');
    wrapperFor(kv.keyId('idle'));
    await new Promise((r) => setTimeout(r, 50));
    expect(kv.requests).toEqual([]);
    expect(credential.calls).toEqual([]);
  });

  it('round-trips a 16-byte key, records a versioned kid and goes through the 401 challenge', async () => {
    const v1 = kv.createKey('roundtrip');
    const wrapper = wrapperFor(kv.keyId('roundtrip'));
    const contentKey = randomBytes(16);

    const { kid, wrapped } = await wrapper.wrap(contentKey);
    expect(kid).toBe(v1);
    expect(isVersionedKeyId(kid)).toBe(true);
    expect(wrapped.length).toBe(256); // RSA-2048
    // Probe without a token, challenge, then the GET with the bearer token; the wrap itself is local.
    expect(ops()).toEqual(['GET get 401', 'GET get 200']);
    expect(kv.requests.map((r) => r.authorized)).toEqual([false, true]);
    expect(kv.requests.every((r) => r.apiVersion)).toBe(true);
    expect(credential.calls[0]).toEqual({ scopes: ['https://vault.azure.net/.default'], tenantId: kv.tenantId });

    kv.resetRequests();
    expect(await wrapper.unwrap(kid, wrapped)).toEqual(contentKey);
    // A new client for the kid: challenge, GET of that version, then the unwrapkey POST.
    expect(ops()).toEqual(['GET get 401', 'GET get 200', 'POST unwrapkey 200']);
    expect(kv.requests[2]!.path).toBe(new URL(kid).pathname + '/unwrapkey');

    kv.resetRequests();
    expect(await wrapper.unwrap(kid, wrapped)).toEqual(contentKey);
    expect(ops()).toEqual(['POST unwrapkey 200']); // cached client per kid
  });

  it('wraps with JWA RSA-OAEP (OAEP, SHA-1): the double private key decrypts it locally', async () => {
    kv.createKey('jwa');
    const wrapper = wrapperFor(kv.keyId('jwa'));
    const contentKey = randomBytes(16);
    const { kid, wrapped } = await wrapper.wrap(contentKey);
    const local = privateDecrypt({ key: kv.privateKey(kid), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped);
    expect(local).toEqual(contentKey);

    // And the other way: a key wrapped locally the way AzureKeyVaultXmlEncryptor's output is read.
    const other = randomBytes(16);
    const localWrapped = publicEncrypt({ key: createPublicKey(kv.privateKey(kid)), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, other);
    expect(await wrapper.unwrap(kid, localWrapped)).toEqual(other);
  });

  it('unwraps with the old kid after the Key Vault key was rotated, and wraps with the new version', async () => {
    const v1 = kv.createKey('rotating');
    const wrapper = wrapperFor(kv.keyId('rotating'));
    const k1 = randomBytes(16);
    const first = await wrapper.wrap(k1);
    expect(first.kid).toBe(v1);

    const v2 = kv.rotateKey('rotating');
    expect(v2).not.toBe(v1);
    const k2 = randomBytes(16);
    const second = await wrapper.wrap(k2); // same wrapper instance: must not keep using v1
    expect(second.kid).toBe(v2);

    // A fresh wrapper (another process) unwraps both.
    const reader = wrapperFor(kv.keyId('rotating'));
    expect(await reader.unwrap(first.kid, first.wrapped)).toEqual(k1);
    expect(await reader.unwrap(second.kid, second.wrapped)).toEqual(k2);
  });

  it('accepts a versioned configured key id', async () => {
    const v1 = kv.createKey('pinned');
    kv.rotateKey('pinned');
    const { kid } = await wrapperFor(v1).wrap(randomBytes(16));
    expect(kid).toBe(v1);
  });

  it('retries a 429 with Retry-After and succeeds', async () => {
    const v1 = kv.createKey('throttled');
    const wrapper = wrapperFor(kv.keyId('throttled'));
    const contentKey = randomBytes(16);
    const { wrapped } = await wrapper.wrap(contentKey);
    kv.resetRequests();

    kv.injectFault({ status: 429, count: 1, retryAfterSeconds: 0, operation: 'unwrapkey' });
    expect(await wrapper.unwrap(v1, wrapped)).toEqual(contentKey);
    expect(ops()).toEqual(['GET get 401', 'GET get 200', 'POST unwrapkey 429', 'POST unwrapkey 200']);
  });

  it('turns persistent 5xx into keyvault_unavailable without leaking key material', async () => {
    const v1 = kv.createKey('broken');
    const wrapper = wrapperFor(kv.keyId('broken'));
    const contentKey = randomBytes(16);
    const { wrapped } = await wrapper.wrap(contentKey);
    kv.resetRequests();

    kv.injectFault({ status: 500, count: 100 });
    const err = await wrapper.unwrap(v1, wrapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyVaultError);
    const kvErr = err as KeyVaultError;
    expect(kvErr.code).toBe('keyvault_unavailable');
    expect(kvErr.retryable).toBe(true);
    expect(kvErr.status).toBe(500);
    expect(kvErr.operation).toBe('unwrap');
    expect(kvErr.message).toContain(v1);
    expectNoSecrets(kvErr, contentKey, wrapped);
    // The probe, then the GET tried 1 + maxRetries times.
    expect(ops()).toEqual(['GET get 401', 'GET get 500', 'GET get 500', 'GET get 500']);

    // Wrap fails the same way and names the configured id.
    const wrapErr = (await wrapper.wrap(contentKey).catch((e: unknown) => e)) as KeyVaultError;
    expect(wrapErr.code).toBe('keyvault_unavailable');
    expect(wrapErr.message).toContain(kv.keyId('broken'));
    expectNoSecrets(wrapErr, contentKey);

    // Once Key Vault recovers, the same wrapper works again.
    kv.clearFaults();
    expect(await wrapper.unwrap(v1, wrapped)).toEqual(contentKey);
  });

  it('maps 403 to keyvault_forbidden', async () => {
    const v1 = kv.createKey('forbidden');
    const wrapper = wrapperFor(kv.keyId('forbidden'));
    const contentKey = randomBytes(16);
    const { wrapped } = await wrapper.wrap(contentKey);
    kv.resetRequests();

    kv.injectFault({ status: 403, count: 100 });
    const err = (await wrapper.unwrap(v1, wrapped).catch((e: unknown) => e)) as KeyVaultError;
    expect(err).toBeInstanceOf(KeyVaultError);
    expect(err.code).toBe('keyvault_forbidden');
    expect(err.status).toBe(403);
    expect(err.serviceCode).toBe('Forbidden');
    expect(err.retryable).toBe(false);
    expectNoSecrets(err, contentKey, wrapped);
    // The SDK falls back to the remote operation when GET is forbidden; that is refused too.
    expect(ops()).toEqual(['GET get 401', 'GET get 403', 'POST unwrapkey 403']);
  });

  it('unwraps remotely when only GET is forbidden', async () => {
    const v1 = kv.createKey('noget');
    const contentKey = randomBytes(16);
    const { wrapped } = await wrapperFor(v1).wrap(contentKey);
    kv.resetRequests();

    kv.injectFault({ status: 403, count: 1, operation: 'get' });
    expect(await wrapperFor(v1).unwrap(v1, wrapped)).toEqual(contentKey);
    expect(ops()).toEqual(['GET get 401', 'GET get 403', 'POST unwrapkey 200']);
  });

  it('wraps remotely with a versioned key id when GET is forbidden, and the double wraps with JWA RSA-OAEP', async () => {
    const v1 = kv.createKey('remotewrap');
    kv.injectFault({ status: 403, count: 1, operation: 'get' });
    const contentKey = randomBytes(16);
    const { kid, wrapped } = await wrapperFor(v1).wrap(contentKey);
    expect(kid).toBe(v1);
    expect(ops()).toEqual(['GET get 401', 'GET get 403', 'POST wrapkey 200']);
    const local = privateDecrypt({ key: kv.privateKey(kid), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped);
    expect(local).toEqual(contentKey);
  });

  it('refuses to record a versionless kid when GET is forbidden and the configured id is versionless', async () => {
    kv.createKey('versionless');
    kv.injectFault({ status: 403, count: 1, operation: 'get' });
    const err = (await wrapperFor(kv.keyId('versionless'))
      .wrap(randomBytes(16))
      .catch((e: unknown) => e)) as KeyVaultError;
    expect(err).toBeInstanceOf(KeyVaultError);
    expect(err.code).toBe('keyvault_forbidden');
    expect(err.message).toContain(kv.keyId('versionless'));
  });

  it('maps a missing key version to keyvault_not_found and bad ciphertext to keyvault_rejected', async () => {
    kv.createKey('present');
    const wrapper = wrapperFor(kv.keyId('present'));
    const missing = kv.keyId('absent', '00112233445566778899aabbccddeeff');
    const notFound = (await wrapper.unwrap(missing, randomBytes(256)).catch((e: unknown) => e)) as KeyVaultError;
    expect(notFound.code).toBe('keyvault_not_found');
    expect(notFound.status).toBe(404);
    expect(notFound.message).toContain(missing);

    const { kid } = await wrapper.wrap(randomBytes(16));
    const garbage = randomBytes(256);
    const rejected = (await wrapper.unwrap(kid, garbage).catch((e: unknown) => e)) as KeyVaultError;
    expect(rejected.code).toBe('keyvault_rejected');
    expect(rejected.status).toBe(400);
    expectNoSecrets(rejected, garbage);
  });

  it('rejects a kid that is not a Key Vault key URI without calling anything', async () => {
    const wrapper = wrapperFor(kv.keyId('whatever'));
    const err = (await wrapper.unwrap('https://example.com/secrets/x/1', randomBytes(8)).catch((e: unknown) => e)) as KeyVaultError;
    expect(err.code).toBe('keyvault_invalid_key_id');
    for (const bad of ['not a uri', 'http://v.vault.azure.net/keys/k', 'https://v.vault.azure.net/keys/k/1?x=1', 'https://v.vault.azure.net/keys/k/1/2']) {
      expect(() => wrapperFor(bad)).toThrow(KeyVaultError);
    }
    expect(kv.requests).toEqual([]);
  });

  it('fails with keyvault_unavailable when the TLS certificate is not trusted', async () => {
    kv.createKey('untrusted');
    const wrapper = createKeyVaultKeyWrapper({
      keyId: kv.keyId('untrusted'),
      credential,
      clientOptions: { disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
    });
    const err = (await wrapper.wrap(randomBytes(16)).catch((e: unknown) => e)) as KeyVaultError;
    expect(err).toBeInstanceOf(KeyVaultError);
    expect(err.code).toBe('keyvault_unavailable');
    expect(err.status).toBeUndefined();
    expect(kv.requests).toEqual([]); // the handshake failed; nothing reached the handler
  });
});
