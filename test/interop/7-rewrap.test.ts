import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, iso, makeCertificate, newRing, ok, ringkeeperJson, tempDir, DAY, SCENARIO_TIMEOUT, type AppSpec } from './harness';
import { configureProtector, keyTransports, withoutSecrets } from './certificateRing';

const PURPOSES = ['Antiforgery', 'v1'];
const FOREIGN = '<!-- kept by rewrap --><extension xmlns="urn:example:ext"><setting name="a">x</setting></extension>';

interopDescribe('interop 7: rewrap (renewed certificate, then certificate → Key Vault format)', () => {
  beforeAll(ensureBuilt);

  it('ASP.NET Core reads the re-wrapped ring with only the new key-encryption key and still unprotects old payloads', { timeout: SCENARIO_TIMEOUT }, async () => {
    const ring = await newRing('s7', { type: 'rsa' });
    const certA = await makeCertificate(ring.dir);
    const certB = await makeCertificate(tempDir('s7b'));
    configureProtector(ring, { type: 'certificate', pfxFile: certA });
    const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');
    const app = (name: string, steps: AppSpec['steps'], extra: Partial<AppSpec>): AppSpec => ({ name, blobSasUrl: ring.sasUrl, autoGenerateKeys: false, steps, ...extra });

    // A ring under certificate A: ringkeeper's keys, a key ASP.NET Core wrote itself (rsa-1_5), a revocation, a foreign element.
    const boot = await rk('rotate');
    const forced = await rk('rotate', '--force');
    const now = Date.now();
    const before = await aspnet([
      app('writer', [{ op: 'createKey', activationDate: iso(now + 30 * DAY), expirationDate: iso(now + 120 * DAY) }], {
        autoGenerateKeys: true,
        keyEncryption: 'certificate',
        certificatePfxFile: certA,
      }),
      app('web', [{ op: 'protect', text: 'protected before the re-wrap', purposes: PURPOSES }], { keyEncryption: 'none', certificatePfxFile: certA }),
    ]);
    const aspKey = ok(before.apps[0].results[0]).keyId!;
    const payload = ok(before.apps[1].results[0]);
    expect(payload.keyId).toBe(boot.newKeyId);
    expect((await rk('revoke', '--key', forced.newKeyId, '--reason', 'drill')).revokedKeyIds).toEqual([forced.newKeyId]);
    const stored = (await ring.download()).toString('utf8').replace('<repository>', `<repository>${FOREIGN}`);
    await ring.upload(stored);
    const ids: string[] = (await rk('status')).keys.map((k: any) => k.id);
    expect(ids).toEqual(expect.arrayContaining([boot.newKeyId, forced.newKeyId, aspKey]));
    expect(keyTransports(stored).sort()).toEqual([...ids.map(() => 'rsa-oaep-mgf1p').slice(1), 'rsa-1_5'].sort());

    // Renewal: certificate B protects, A may still decrypt. status names the stale keys; rewrap moves them.
    configureProtector(ring, { type: 'certificate', pfxFile: certB, decryptionCertificates: [{ pfxFile: certA }] });
    const stale = await rk('status');
    expect(stale.problems.map((p: any) => p.code)).toContain('stale_kek');
    const renewed = await rk('rewrap');
    expect(renewed.rewrapped.map((k: any) => k.id).sort()).toEqual([...ids].sort());
    const afterRenewal = (await ring.download()).toString('utf8');
    expect(withoutSecrets(afterRenewal)).toBe(withoutSecrets(stored)); // ids, dates, revocation, foreign element: byte-identical
    expect(keyTransports(afterRenewal)).toEqual(ids.map(() => 'rsa-oaep-mgf1p'));
    expect((await rk('status')).problems.map((p: any) => p.code)).not.toContain('stale_kek');

    // ASP.NET Core with certificate B only: every key decrypts, the old payload unprotects, the revocation holds.
    const withB = (await aspnet([app('web-b', [{ op: 'status' }, { op: 'unprotect', payload: payload.payload, purposes: PURPOSES }], { keyEncryption: 'none', certificatePfxFile: certB })])).apps[0];
    const statusB = ok(withB.results[0]);
    for (const key of statusB.keys!) expect(key.usable, `${key.id}: ${key.error?.message}`).toBe(true);
    expect(statusB.keys!.find((k) => k.id === forced.newKeyId)!.revoked).toBe(true);
    expect(ok(withB.results[1]).text).toBe('protected before the re-wrap');
    // Certificate A alone no longer opens anything: the re-wrap really changed the KEK.
    const withA = ok((await aspnet([app('web-a', [{ op: 'status' }], { keyEncryption: 'none', certificatePfxFile: certA })])).apps[0].results[0]);
    expect(withA.keys!.filter((k) => k.usable)).toEqual([]);

    // certificate → Key Vault format (the ring's RSA key), certificate B kept only for decryption.
    configureProtector(ring, { type: 'rsa', keyFile: ring.pemFile, decryptionCertificates: [{ pfxFile: certB }] });
    const moved = await rk('rewrap');
    expect(moved.rewrapped).toHaveLength(ids.length);
    expect(moved.kek).toMatch(/^urn:ringkeeper:rsa:sha256:/);
    const afterMove = (await ring.download()).toString('utf8');
    expect(withoutSecrets(afterMove)).toBe(withoutSecrets(stored));
    expect(afterMove).not.toContain('EncryptedXmlDecryptor');

    const later = iso(now + 2 * DAY + 3600_000);
    const withRsa = (
      await aspnet([
        app(
          'web-rsa',
          [
            { op: 'status' },
            { op: 'unprotect', payload: payload.payload, purposes: PURPOSES },
            { op: 'protect', text: 'after the move', purposes: PURPOSES, at: later },
            { op: 'unprotect', payloadFrom: '2', purposes: PURPOSES, at: later },
          ],
          { keyEncryption: 'rsa', rsaPemFile: ring.pemFile },
        ),
      ])
    ).apps[0];
    expect(withRsa.error).toBeUndefined();
    for (const key of ok(withRsa.results[0]).keys!) expect(key.usable, `${key.id}: ${key.error?.message}`).toBe(true);
    expect(ok(withRsa.results[1]).text).toBe('protected before the re-wrap');
    expect(ok(withRsa.results[3]).text).toBe('after the move');
  });
});
