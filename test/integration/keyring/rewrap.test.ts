import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeInRing, rotateRing } from '../../../shared/app/keyRingOperations';
import type { RingHandle } from '../../../shared/app/openRings';
import type { ProtectorConfig } from '../../../shared/config/types';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { readRingStatus } from '../../../shared/keyring/keyRingStatus';
import { readMasterKey } from '../../../shared/keyring/readMasterKey';
import { kekVersionOf } from '../../../shared/keyring/protectors/kekVersionOf';
import { RewrapError } from '../../../shared/keyring/RewrapError';
import { rewrapKeyRing } from '../../../shared/keyring/rewrapKeyRing';
import { verifyKeyRing } from '../../../shared/keyring/verifyKeyRing';
import { makeTestCertificate, type TestCertificate } from '../../support/certificates';
import { startKeyVaultDouble, type KeyVaultDouble } from '../../support/keyVaultDouble';
import { testRing } from '../../support/testRing';
import { uniqueName } from '../../support/storage';

const T0 = Date.UTC(2030, 0, 1);
const FOREIGN = '<!-- operator note --><extension xmlns="urn:example:ext" v="2"><x a="1">y &amp; z</x></extension>';
let kv: KeyVaultDouble;
let certA: TestCertificate;
let certB: TestCertificate;

beforeAll(async () => {
  kv = await startKeyVaultDouble();
  certA = makeTestCertificate('rewrap-a');
  certB = makeTestCertificate('rewrap-b');
});
afterAll(async () => {
  await kv?.close();
});

function ring(protector: ProtectorConfig, container: string): RingHandle {
  return testRing(kv, 'rw', protector, container, certA.dir);
}

/** Two keys (one revoked), a foreign element and a comment: everything rewrap must leave alone. */
async function populated(handle: RingHandle): Promise<void> {
  const boot = await rotateRing(handle, {}, { now: () => T0 });
  await rotateRing(handle, { force: true }, { now: () => T0 + DAY });
  // Revoking the default key also writes a replacement: three keys in all.
  await revokeInRing(handle, { keyId: boot.newKeyId!, reason: 'drill' }, { now: () => T0 + 2 * DAY });
  const stored = await handle.repository.read();
  const text = stored.content!.toString('utf8').replace('<repository>', `<repository>${FOREIGN}`);
  await handle.repository.write(Buffer.from(text, 'utf8'), stored.etag);
}

const text = async (h: RingHandle) => (await h.repository.read()).content!.toString('utf8');
/** The blob with every key's secret cut out: what rewrap must leave byte-identical. */
const withoutSecrets = (xml: string) => xml.replace(/<encryptedSecret[\s\S]*?<\/encryptedSecret>|<masterKey[\s\S]*?<\/masterKey>/g, '§');
const keks = async (h: RingHandle) => KeyRingDocument.parse((await h.repository.read()).content).ring.keys.map((k) => kekVersionOf(k) ?? null);

describe('rewrap', () => {
  it('after a Key Vault key rotation: status reports stale_kek, rewrap moves every key to the new version and changes nothing else', async () => {
    const v1 = kv.createKey('rw-kv');
    const container = uniqueName('rwkv');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('rw-kv') }, container);
    await populated(handle);
    const before = await text(handle);
    expect(await keks(handle)).toEqual([v1, v1, v1]);
    expect((await readRingStatus(handle, T0 + 3 * DAY)).problems.map((p) => p.code)).not.toContain('stale_kek');

    const v2 = kv.rotateKey('rw-kv');
    const stale = await readRingStatus(handle, T0 + 3 * DAY);
    expect(stale.problems.find((p) => p.code === 'stale_kek')).toMatchObject({ severity: 'warning' });
    expect(stale.problems.find((p) => p.code === 'stale_kek')!.message).toContain(`3 keys are wrapped by ${v1}, not by the protector's current ${v2}`);

    const dry = await rewrapKeyRing(handle, { dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, kek: v2, unchanged: 0 });
    expect(dry.rewrapped.map((k) => k.from)).toEqual([v1, v1, v1]);
    expect(await text(handle)).toBe(before);

    const result = await rewrapKeyRing(handle);
    expect(result).toMatchObject({ dryRun: false, kek: v2, unchanged: 0, attempts: 1 });
    const after = await text(handle);
    expect(await keks(handle)).toEqual([v2, v2, v2]);
    expect(withoutSecrets(after)).toBe(withoutSecrets(before));
    expect(after).toContain(FOREIGN);
    expect((await verifyKeyRing(handle)).keys.map((k) => k.status)).toEqual(['ok', 'ok', 'ok']);
    expect((await readRingStatus(handle, T0 + 3 * DAY)).problems.map((p) => p.code)).not.toContain('stale_kek');

    // Idempotent: nothing left to re-wrap, nothing written.
    const again = await rewrapKeyRing(handle);
    expect(again).toMatchObject({ rewrapped: [], unchanged: 3, etag: result.etag });
  });

  it('none → keyvault: the unencrypted master keys end up wrapped, the same master keys', async () => {
    kv.createKey('rw-none');
    const container = uniqueName('rwnone');
    const plain = ring({ type: 'none' }, container);
    await populated(plain);
    const before = await text(plain);
    expect(before).toContain('<masterKey');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('rw-none') }, container);
    expect((await readRingStatus(handle, T0 + 3 * DAY)).problems.map((p) => p.code)).toContain('unencrypted_keys');
    const result = await rewrapKeyRing(handle);
    expect(result.rewrapped.map((k) => k.from)).toEqual([null, null, null]);
    const after = await text(handle);
    expect(after).not.toContain('<masterKey');
    expect(withoutSecrets(after)).toBe(withoutSecrets(before));
    expect((await verifyKeyRing(handle)).ok).toBe(true);
    const plainValues = [...before.matchAll(/<value>([^<]+)<\/value>/g)].map((m) => m[1]);
    const unwrapped = [];
    for (const key of KeyRingDocument.parse(Buffer.from(after)).ring.keys) {
      unwrapped.push((await readMasterKey(key, (secret) => handle.protector().unprotect(secret))).toString('base64'));
    }
    expect(unwrapped).toEqual(plainValues);
    expect((await readRingStatus(handle, T0 + 3 * DAY)).problems.map((p) => p.code)).not.toContain('unencrypted_keys');
  });

  it('renewed certificate, then certificate → keyvault; a missing old certificate refuses and writes nothing', async () => {
    const container = uniqueName('rwcert');
    const a = ring({ type: 'certificate', pemFile: certA.pemFile }, container);
    await populated(a);
    const before = await text(a);
    const thumbA = (await keks(a))[0]!;
    expect(thumbA).toMatch(/^certificate:[0-9A-F]{40}$/);

    // Renewal without the old certificate configured: nothing can be decrypted, nothing is written.
    const bOnly = ring({ type: 'certificate', pfxFile: certB.pfxFile }, container);
    const refused = await rewrapKeyRing(bOnly).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RewrapError);
    expect(refused).toMatchObject({ code: 'rewrap_refused' });
    expect((refused as Error).message).toMatch(/whose private key is not configured \(add it to decryptionCertificates\); nothing was re-wrapped/);
    expect(await text(a)).toBe(before);
    expect((await verifyKeyRing(bOnly)).ok).toBe(false);

    const renewed = ring({ type: 'certificate', pfxFile: certB.pfxFile, decryptionCertificates: [{ pemFile: certA.pemFile }] }, container);
    expect((await readRingStatus(renewed, T0 + 3 * DAY)).problems.map((p) => p.code)).toContain('stale_kek');
    const r1 = await rewrapKeyRing(renewed);
    expect(r1.rewrapped.map((k) => k.from)).toEqual([thumbA, thumbA, thumbA]);
    expect(withoutSecrets(await text(a))).toBe(withoutSecrets(before));
    expect((await verifyKeyRing(bOnly)).ok).toBe(true); // the old certificate is no longer needed

    kv.createKey('rw-cert');
    const toKv = ring({ type: 'keyvault', keyId: kv.keyId('rw-cert'), decryptionCertificates: [{ pfxFile: certB.pfxFile }] }, container);
    const r2 = await rewrapKeyRing(toKv);
    expect(r2.rewrapped).toHaveLength(3);
    const kvOnly = ring({ type: 'keyvault', keyId: kv.keyId('rw-cert') }, container);
    expect((await verifyKeyRing(kvOnly)).keys.map((k) => [k.protection, k.status])).toEqual([
      ['keyvault', 'ok'],
      ['keyvault', 'ok'],
      ['keyvault', 'ok'],
    ]);
    expect(withoutSecrets(await text(a))).toBe(withoutSecrets(before));
  });

  it("loses a race to another writer, re-reads and re-wraps again: the other writer's change survives", async () => {
    const v1 = kv.createKey('rw-race');
    const container = uniqueName('rwrace');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('rw-race') }, container);
    const boot = await rotateRing(handle, {}, { now: () => T0 });
    const v2 = kv.rotateKey('rw-race');
    // Between rewrap's read and its conditional write, another writer (a second instance) revokes the key.
    const other = ring({ type: 'keyvault', keyId: kv.keyId('rw-race') }, container);
    const write = handle.repository.write.bind(handle.repository);
    let raced = false;
    handle.repository.write = async (content, etag) => {
      if (!raced) {
        raced = true;
        await revokeInRing(other, { keyId: boot.newKeyId!, reason: 'concurrent' }, { now: () => T0 + DAY });
      }
      return write(content, etag);
    };
    const result = await rewrapKeyRing(handle, { delay: async () => {} });
    expect(result.attempts).toBe(2);
    const doc = KeyRingDocument.parse((await handle.repository.read()).content);
    expect(doc.ring.revocations.map((r) => r.reason)).toEqual(['concurrent']);
    // The replacement the revocation wrote was already under v2; the original key was re-wrapped from v1.
    expect(doc.ring.keys.map((k) => kekVersionOf(k))).toEqual(doc.ring.keys.map(() => v2));
    expect(result.rewrapped).toEqual([{ id: boot.newKeyId, from: v1 }]);
  });

  it('status says kek_unavailable (not an error) when Key Vault cannot name the current key version', async () => {
    kv.createKey('rw-status');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('rw-status') }, uniqueName('rwstatus'));
    await rotateRing(handle, {}, { now: () => T0 });
    kv.injectFault({ status: 403, operation: 'get' });
    const status = await readRingStatus(handle, T0 + DAY);
    expect(status.problems.find((p) => p.code === 'kek_unavailable')).toMatchObject({ severity: 'warning', message: expect.stringMatching(/HTTP 403/) });
    expect(status.problems.map((p) => p.code)).not.toContain('stale_kek');
  });

  it('refuses to re-wrap into the none protector', async () => {
    await expect(rewrapKeyRing(ring({ type: 'none' }, uniqueName('rwrefuse')))).rejects.toMatchObject({ code: 'rewrap_refused' });
  });
});
