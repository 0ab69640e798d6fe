import { revocationTest, type KeyEntry, type KeyRing } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { PayloadError } from './payload/PayloadError';
import { protectPayload } from './payload/protectPayload';
import { readPayloadHeader } from './payload/payloadHeader';
import { unprotectPayload } from './payload/unprotectPayload';
import { resolveDefaultKey } from './policy/DefaultKeyResolver';
import { resolvableKeys } from './policy/RotationPolicy';
import { readMasterKey, type Unwrap } from './readMasterKey';
import type { StoredKeyRing } from './repository/BlobKeyRingRepository';

/** What a RingDataProtector needs of a configured ring (a RingHandle is one). */
export interface PayloadRingSource {
  readonly name: string;
  readonly repository: { read(): Promise<StoredKeyRing> };
  protector(): { unwrap: Unwrap };
}

/** The ring has no key an app with key generation disabled could protect with. */
export class NoProtectionKeyError extends Error {
  readonly code = 'no_default_key';
  constructor(ring: string) {
    super(`ring ${ring} has no key to protect with: no default key and no fallback key ("The key ring does not contain a valid default protection key")`);
    this.name = 'NoProtectionKeyError';
  }
}

/**
 * IDataProtector over one stored ring, as an app with DisableAutomaticKeyGeneration() sees it:
 * protects with the resolver's default key (else its fallback), unprotects with any key the ring
 * holds, refusing revoked ones. The ring is read once, when opened; master keys are unwrapped
 * through the ring's protector on first use and kept for this object's lifetime only.
 */
export class RingDataProtector {
  private readonly masterKeys = new Map<string, Promise<Buffer>>();
  private readonly keys: ReadonlyMap<string, KeyEntry>;
  private readonly isRevoked: (key: KeyEntry) => boolean;
  /** The key Protect uses: the resolver's default key at the instant the ring was opened, else its fallback. */
  readonly protectionKeyId: string | undefined;

  private constructor(
    private readonly source: PayloadRingSource,
    ring: KeyRing,
    now: number,
  ) {
    this.keys = new Map(ring.keys.map((k) => [k.id, k]));
    this.isRevoked = revocationTest(ring);
    const { defaultKey, fallbackKey } = resolveDefaultKey(resolvableKeys(ring), now);
    this.protectionKeyId = (defaultKey ?? fallbackKey)?.id;
  }

  static async open(source: PayloadRingSource, options: { now?: number } = {}): Promise<RingDataProtector> {
    const stored = await source.repository.read();
    return new RingDataProtector(source, KeyRingDocument.parse(stored.content).ring, options.now ?? Date.now());
  }

  /** `purposes` is the whole chain: use purposeChain(applicationName, purposes) for an app's protector. */
  async protect(purposes: readonly string[], plaintext: Uint8Array): Promise<Buffer> {
    const id = this.protectionKeyId;
    if (!id) throw new NoProtectionKeyError(this.source.name);
    return protectPayload({ id, masterKey: await this.masterKey(this.keys.get(id)!) }, purposes, plaintext);
  }

  /** Throws PayloadError (key_not_found, key_revoked, payload_invalid) as ASP.NET Core would refuse the payload. */
  async unprotect(payload: Uint8Array, purposes: readonly string[]): Promise<Buffer> {
    const { keyId } = readPayloadHeader(payload);
    const key = this.keys.get(keyId);
    // Not found or revoked: decided before any key material is touched.
    if (!key) throw PayloadError.keyNotFound(keyId);
    if (this.isRevoked(key)) throw PayloadError.keyRevoked(keyId);
    const masterKey = await this.masterKey(key);
    return unprotectPayload(payload, purposes, () => ({ id: key.id, masterKey, revoked: false }));
  }

  private masterKey(key: KeyEntry): Promise<Buffer> {
    let pending = this.masterKeys.get(key.id);
    if (!pending) {
      pending = readMasterKey(key, (kid, wrapped) => this.source.protector().unwrap(kid, wrapped)).catch((err: unknown) => {
        this.masterKeys.delete(key.id);
        // Typed failures (Key Vault, format) keep their type and code; plain ones get the key's name.
        if (err instanceof Error && err.constructor === Error) throw new Error(`the master key of {${key.id}} cannot be read: ${err.message}`, { cause: err });
        throw err;
      });
      this.masterKeys.set(key.id, pending);
    }
    return pending;
  }
}
