import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateRing } from '../../../shared/app/keyRingOperations';
import type { RingHandle } from '../../../shared/app/openRings';
import type { ProtectorConfig } from '../../../shared/config/types';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { readRingStatus } from '../../../shared/keyring/keyRingStatus';
import { rewrapKeyRing } from '../../../shared/keyring/rewrapKeyRing';
import { verifyKeyRing } from '../../../shared/keyring/verifyKeyRing';
import { startKeyVaultDouble, type KeyVaultDouble } from '../../support/keyVaultDouble';
import { testRing } from '../../support/testRing';
import { uniqueName } from '../../support/storage';

const T0 = Date.UTC(2030, 0, 1);
let kv: KeyVaultDouble;

beforeAll(async () => {
  kv = await startKeyVaultDouble();
});
afterAll(async () => {
  await kv?.close();
});

function ring(protector: ProtectorConfig, container = uniqueName('kvcert')): RingHandle {
  return testRing(kv, 'kvc', protector, container);
}

const thumbprints = async (h: RingHandle) => KeyRingDocument.parse((await h.repository.read()).content).ring.keys.map((k) => k.certificateThumbprint);
const ops = () => kv.requests.filter((r) => r.authorized).map((r) => `${r.operation} ${r.status}`);

describe('certificate protector with a Key Vault certificate (CertificateClient + SecretClient against the double)', () => {
  it("wraps to the current version, unwraps through the certificate's secret, follows a renewal, and rewrap finds the old version by thumbprint", async () => {
    const v1 = kv.createCertificate('dp');
    const container = uniqueName('kvcert');
    const handle = ring({ type: 'certificate', keyVaultCertificateId: kv.certificateId('dp') }, container);
    kv.resetRequests();
    expect((await rotateRing(handle, {}, { now: () => T0 })).action).toBe('bootstrap');
    // The public certificate to wrap; the canary reads the private key from the secret of the version with that thumbprint.
    expect(ops()).toEqual(['getcertificate 200', 'listcertificateversions 200', 'getsecret 200']);
    expect(await thumbprints(handle)).toEqual([v1.thumbprint]);
    expect((await verifyKeyRing(ring({ type: 'certificate', keyVaultCertificateId: kv.certificateId('dp') }, container))).ok).toBe(true);

    // Renewal: new keys go to v2; the v1 key is stale until rewrap, which still reads v1's secret.
    const v2 = kv.createCertificate('dp');
    const renewed = ring({ type: 'certificate', keyVaultCertificateId: kv.certificateId('dp') }, container);
    expect((await rotateRing(renewed, { force: true }, { now: () => T0 + DAY })).action).toBe('forced');
    expect(await thumbprints(handle)).toEqual([v1.thumbprint, v2.thumbprint]);
    const stale = (await readRingStatus(renewed, T0 + DAY)).problems.find((p) => p.code === 'stale_kek');
    expect(stale?.message).toContain(`1 key is wrapped by certificate:${v1.thumbprint}, not by the protector's current certificate:${v2.thumbprint}`);
    const result = await rewrapKeyRing(renewed);
    expect(result.rewrapped.map((k) => k.from)).toEqual([`certificate:${v1.thumbprint}`]);
    expect(await thumbprints(handle)).toEqual([v2.thumbprint, v2.thumbprint]);
    expect((await verifyKeyRing(renewed)).keys.map((k) => k.status)).toEqual(['ok', 'ok']);
  });

  it('reads a PEM secret (application/x-pem-file) and a pinned version', async () => {
    const v = kv.createCertificate('dp-pem', 'application/x-pem-file');
    kv.createCertificate('dp-pem'); // a newer version that the pinned id must not use
    const handle = ring({ type: 'certificate', keyVaultCertificateId: v.id });
    await rotateRing(handle, {}, { now: () => T0 });
    expect(await thumbprints(handle)).toEqual([v.thumbprint]);
    expect((await verifyKeyRing(handle)).ok).toBe(true);
  });

  it('a vault that lets the certificate be read but not its secret fails the canary and writes nothing', async () => {
    kv.createCertificate('dp-nosecret');
    const handle = ring({ type: 'certificate', keyVaultCertificateId: kv.certificateId('dp-nosecret') });
    kv.injectFault({ status: 403, operation: 'getsecret' });
    await expect(rotateRing(handle, {}, { now: () => T0 })).rejects.toMatchObject({ code: 'canary_failed', message: expect.stringMatching(/could not unwrap what it wrapped: .*HTTP 403/) });
    expect((await handle.repository.read()).etag).toBeUndefined();
  });
});
