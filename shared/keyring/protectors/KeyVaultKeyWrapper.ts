import { CryptographyClient, type CryptographyClientOptions } from '@azure/keyvault-keys';
import type { TokenCredential } from '@azure/identity';
import { KeyVaultError, redactDetail, toKeyVaultError } from './keyVaultErrors';
import type { KeyWrapper } from './KeyWrapper';

/** The JWA name AzureKeyVaultXmlEncryptor uses (RSA-OAEP with SHA-1 and MGF1-SHA1). */
export const KEY_WRAP_ALGORITHM = 'RSA-OAEP';

export interface KeyVaultKeyWrapperOptions {
  /** Key Vault key URI used for wrapping; may be versionless (`https://v.vault.azure.net/keys/name`). */
  keyId: string;
  /** Who asks Key Vault (shared/app passes the configured one, else the process-wide DefaultAzureCredential). */
  credential: TokenCredential;
  /** Passed to every CryptographyClient: retry options, `tlsOptions`, `disableChallengeResourceVerification`, … */
  clientOptions?: CryptographyClientOptions;
}

/**
 * Parses `https://{vault}/keys/{name}[/{version}]`. Stricter than the SDK's parser, which accepts
 * any collection (`/secrets/…`), plain http and query strings; a kid comes from blob content.
 */
function parseKeyId(keyId: string): { name: string; version: string } | undefined {
  let url: URL;
  try {
    url = new URL(keyId);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username || url.password) return undefined;
  const seg = url.pathname.split('/');
  if ((seg.length !== 3 && seg.length !== 4) || seg[1] !== 'keys') return undefined;
  const name = seg[2] ?? '';
  const version = seg[3] ?? '';
  if (!/^[0-9A-Za-z-]{1,127}$/.test(name) || !/^[0-9A-Za-z]*$/.test(version)) return undefined;
  return { name, version };
}

/** True when the URI names a specific key version (`/keys/{name}/{version}`). */
export function isVersionedKeyId(keyId: string): boolean {
  return !!parseKeyId(keyId)?.version;
}

function assertKeyId(keyId: string, operation?: 'wrap' | 'unwrap'): void {
  if (!parseKeyId(keyId)) {
    throw new KeyVaultError('keyvault_invalid_key_id', `'${redactDetail(keyId)}' is not a Key Vault key URI (https://<vault>/keys/<name>[/<version>])`, keyId, operation);
  }
}

/**
 * KeyWrapper over an Azure Key Vault key through `@azure/keyvault-keys`.
 *
 * Network behaviour (what the SDK does, observed against the test double):
 * - wrap: a fresh CryptographyClient GETs the key (after the 401 challenge round trip) and wraps
 *   locally with the public key; the JWK's versioned `kid` becomes `<kid>`. A fresh client per wrap
 *   is deliberate: wraps are rare (one per new key) and a long-lived worker must pick up a Key Vault
 *   key rotation instead of wrapping with a cached old version forever.
 * - unwrap: one cached client per kid; the first unwrap GETs that key version and POSTs `unwrapkey`,
 *   later unwraps with the same kid only POST.
 * Nothing touches the network until wrap/unwrap is called.
 */
export class KeyVaultKeyWrapper implements KeyWrapper {
  readonly keyId: string;
  private readonly credential: TokenCredential;
  private readonly clientOptions: CryptographyClientOptions;
  private readonly unwrapClients = new Map<string, CryptographyClient>();

  constructor(options: KeyVaultKeyWrapperOptions) {
    assertKeyId(options.keyId);
    this.keyId = options.keyId;
    this.credential = options.credential;
    this.clientOptions = options.clientOptions ?? {};
  }

  async wrap(contentKey: Buffer): Promise<{ kid: string; wrapped: Buffer }> {
    if (contentKey.length === 0) throw new RangeError('contentKey must not be empty');
    let result;
    try {
      result = await this.newClient(this.keyId).wrapKey(KEY_WRAP_ALGORITHM, contentKey);
    } catch (err) {
      throw toKeyVaultError(err, 'wrap', this.keyId);
    }
    const kid = result.keyID ?? '';
    // When `get` is forbidden the SDK wraps remotely and reports the id it was given, not the
    // version Key Vault used; a versionless <kid> would break once the key is rotated.
    if (!isVersionedKeyId(kid)) {
      throw new KeyVaultError(
        'keyvault_forbidden',
        `Key Vault wrap with key ${this.keyId} did not yield a versioned key id; grant the identity ` +
          `permission to get the key (e.g. role "Key Vault Crypto Service Encryption User") or configure a versioned key id`,
        this.keyId,
        'wrap',
      );
    }
    return { kid, wrapped: Buffer.from(result.result) };
  }

  async unwrap(kid: string, wrapped: Buffer): Promise<Buffer> {
    assertKeyId(kid, 'unwrap');
    let client = this.unwrapClients.get(kid);
    if (!client) {
      client = this.newClient(kid);
      this.unwrapClients.set(kid, client);
    }
    try {
      const result = await client.unwrapKey(KEY_WRAP_ALGORITHM, wrapped);
      return Buffer.from(result.result);
    } catch (err) {
      // Start clean next time rather than reuse a client whose challenge/key state is unknown.
      this.unwrapClients.delete(kid);
      throw toKeyVaultError(err, 'unwrap', kid);
    }
  }

  private newClient(keyId: string): CryptographyClient {
    // Shallow copy: the SDK rewrites `userAgentOptions` on the options object it is given,
    // which would grow the User-Agent with every client built from a shared object.
    return new CryptographyClient(keyId, this.credential, { ...this.clientOptions });
  }
}

/** Builds a KeyVaultKeyWrapper; no network call happens until wrap/unwrap. */
export function createKeyVaultKeyWrapper(options: KeyVaultKeyWrapperOptions): KeyVaultKeyWrapper {
  return new KeyVaultKeyWrapper(options);
}
