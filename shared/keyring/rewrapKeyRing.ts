import { AbortError } from '../async/AbortError';
import type { RingHandle } from './RingHandle';
import type { KeyEntry } from './KeyRing';
import { KeyRingDocument } from './KeyRingDocument';
import { masterKeyXml } from './KeyXmlWriter';
import { kekVersionOf } from './protectors/kekVersionOf';
import type { KeyProtector } from './protectors/KeyProtector';
import { canReadMasterKey, findEncryptedSecret, findMasterKey, readMasterKey } from './readMasterKey';
import type { XmlElement } from './xml/XmlNode';
import { ConcurrencyConflict } from './repository/BlobKeyRingRepository';
import { RewrapError } from './RewrapError';
import { jitteredDelay, RingConflictError, type UpdateOptions } from './updateKeyRing';

export interface RewrapResult {
  ring: string;
  /** The key-encryption key every key is protected with afterwards (versioned kid or certificate:thumbprint). */
  kek: string;
  /** Keys whose secret was (or, with dryRun, would be) re-encrypted, and what protected it before (null: unencrypted). */
  rewrapped: { id: string; from: string | null }[];
  /** Keys already under `kek`: left byte-identical. */
  unchanged: number;
  dryRun: boolean;
  /** The blob's ETag after the write (or as read, when nothing was written). */
  etag: string | null;
  attempts: number;
  warnings: string[];
}

export interface RewrapOptions extends Pick<UpdateOptions, 'maxAttempts' | 'delay' | 'abortSignal'> {
  /** Decrypt and re-encrypt in memory, verify, report; write nothing. */
  dryRun?: boolean;
}

const DEFAULT_ATTEMPTS = 5;

/**
 * Re-encrypts every key's master key under the protector's current key-encryption key (a new Key
 * Vault key version, a renewed certificate, another protector type), changing nothing else: only
 * each re-wrapped key's secret element is replaced, every other byte of the blob stays as it was.
 * Before the one conditional write, the new content is re-parsed and every key unwrapped again and
 * compared with the master key it held before. A secret that cannot be decrypted stops it all.
 */
export async function rewrapKeyRing(handle: RingHandle, options: RewrapOptions = {}): Promise<RewrapResult> {
  const protector = handle.protector();
  if (protector.type === 'none') {
    throw new RewrapError('rewrap_refused', `ring ${handle.name}: the protector is "none"; re-wrapping would store every master key unencrypted (configure a protector first)`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (attempt > 1) await (options.delay ?? jitteredDelay)(attempt, { abortSignal: options.abortSignal });
    AbortError.throwIfAborted(options.abortSignal);
    const stored = await handle.repository.read();
    const document = KeyRingDocument.parse(stored.content);
    const kek = await protector.currentKekVersion();
    if (!kek) throw new RewrapError('rewrap_refused', `ring ${handle.name}: the ${protector.type} protector names no key-encryption key`);
    const keys = document.ring.keys;
    const refused = keys.filter((k) => !canReadMasterKey(k));
    if (refused.length > 0) {
      throw new RewrapError('rewrap_refused', `ring ${handle.name}: ringkeeper cannot decrypt ${refused.map((k) => `{${k.id}} (${k.protection})`).join(', ')}; nothing was re-wrapped`);
    }
    const warnings = document.unreadableKeys.map((k) => `a key ASP.NET Core skips is kept as it is, not re-wrapped: ${k.problem}`);
    const targets = keys.filter((k) => kekVersionOf(k) !== kek);
    const base = { ring: handle.name, kek, unchanged: keys.length - targets.length, dryRun: options.dryRun ?? false, warnings };
    if (targets.length === 0) return { ...base, rewrapped: [], etag: stored.etag ?? null, attempts: attempt };

    const before = new Map<string, Buffer>();
    for (const key of keys) before.set(key.id, await masterKey(handle.name, key, protector));
    for (const key of targets) {
      const secretElement = key.protection === 'none' ? findMasterKey(key.element)! : findEncryptedSecret(key.element);
      // The decrypted element is re-encrypted as it was; an unencrypted one in XmlKeyManager's form.
      const plaintext = key.protection === 'none' ? masterKeyXml(before.get(key.id)) : await protector.unprotect(secretElement);
      document.replace(secretElement, await protector.protect(plaintext));
    }
    const content = document.serialize();
    await verifyRewrap(handle.name, document, content, before, new Set(targets.map((k) => k.id)), kek, protector);
    const rewrapped = targets.map((k) => ({ id: k.id, from: kekVersionOf(k) ?? null }));
    for (const secret of before.values()) secret.fill(0);
    if (options.dryRun) return { ...base, rewrapped, etag: stored.etag ?? null, attempts: attempt };
    AbortError.throwIfAborted(options.abortSignal);
    try {
      const etag = await handle.repository.write(content, stored.etag);
      return { ...base, rewrapped, etag, attempts: attempt };
    } catch (err) {
      if (!(err instanceof ConcurrencyConflict)) throw err;
    }
  }
  throw new RingConflictError(handle.name, maxAttempts);
}

async function masterKey(ring: string, key: KeyEntry, protector: KeyProtector): Promise<Buffer> {
  try {
    return await readMasterKey(key, (secret) => protector.unprotect(secret));
  } catch (err) {
    throw new RewrapError('rewrap_refused', `ring ${ring}: cannot decrypt the master key of {${key.id}}: ${(err as Error).message}; nothing was re-wrapped`);
  }
}

/**
 * The new content holds the same elements in the same order, keys not re-wrapped and every other
 * element byte-identical, every re-wrapped key under `kek`, and every key's master key unwraps to
 * exactly what it was.
 */
async function verifyRewrap(ring: string, original: KeyRingDocument, content: Buffer, before: Map<string, Buffer>, targets: Set<string>, kek: string, protector: KeyProtector): Promise<void> {
  const fail = (problem: string): never => {
    throw new RewrapError('rewrap_verification_failed', `ring ${ring}: refusing to write the re-wrapped ring: ${problem}`);
  };
  const after = KeyRingDocument.parse(content);
  if (after.elementCount !== original.elementCount) fail(`expected ${original.elementCount} elements, the new content holds ${after.elementCount}`);
  const same = (a: readonly { element: XmlElement }[], b: readonly { element: XmlElement }[], what: string) => {
    if (a.length !== b.length) fail(`${what}: ${a.length} before, ${b.length} after`);
    a.forEach((x, i) => {
      if (original.sourceOf(x.element) !== after.sourceOf(b[i]!.element)) fail(`${what} #${i + 1} changed`);
    });
  };
  same(original.ring.revocations, after.ring.revocations, 'revocation');
  same(
    original.unknownElements.map((element) => ({ element })),
    after.unknownElements.map((element) => ({ element })),
    'unknown element',
  );
  same(original.unreadableKeys, after.unreadableKeys, 'unreadable key');
  if (after.ring.keys.map((k) => k.id).join() !== original.ring.keys.map((k) => k.id).join()) fail('the keys or their order changed');
  for (const [i, key] of after.ring.keys.entries()) {
    const old = original.ring.keys[i]!;
    if (targets.has(key.id)) {
      if (kekVersionOf(key) !== kek) fail(`key {${key.id}} is not protected by ${kek}`);
      if (key.creationDate !== old.creationDate || key.activationDate !== old.activationDate || key.expirationDate !== old.expirationDate) fail(`key {${key.id}} changed its dates`);
    } else if (original.sourceOf(old.element) !== after.sourceOf(key.element)) {
      fail(`key {${key.id}} changed although it was not re-wrapped`);
    }
    let unwrapped: Buffer;
    try {
      unwrapped = await readMasterKey(key, (secret) => protector.unprotect(secret));
    } catch (err) {
      return fail(`key {${key.id}} does not unwrap again: ${(err as Error).message}`);
    }
    const equal = unwrapped.equals(before.get(key.id)!);
    unwrapped.fill(0);
    if (!equal) fail(`key {${key.id}} unwraps to a different master key`);
  }
}
