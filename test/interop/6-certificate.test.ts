import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, iso, makeCertificate, newRing, ok, ringkeeper, ringkeeperJson, DAY, SCENARIO_TIMEOUT, type AppSpec } from './harness';
import { configureProtector, keyTransports } from './certificateRing';

const CERT_DECRYPTOR = 'decryptorType="Microsoft.AspNetCore.DataProtection.XmlEncryption.EncryptedXmlDecryptor, Microsoft.AspNetCore.DataProtection';
const PURPOSES = ['Cookies', 'v1'];

interopDescribe('interop 6: the certificate protector against ProtectKeysWithCertificate / UnprotectKeysWithAnyCertificate', () => {
  beforeAll(ensureBuilt);

  it(
    "ASP.NET Core reads ringkeeper's certificate-protected keys, ringkeeper reads ASP.NET Core's, and a ring mixing them with Key Vault-format keys works for both",
    { timeout: SCENARIO_TIMEOUT },
    async () => {
      const ring = await newRing('s6', { type: 'rsa' });
      const pfx = await makeCertificate(ring.dir); // made by .NET: X509Certificate2.Export(Pkcs12)
      configureProtector(ring, { type: 'certificate', pfxFile: pfx });
      const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');

      // ringkeeper writes two certificate-protected keys.
      const boot = await rk('rotate');
      expect(boot.action).toBe('bootstrap');
      const forced = await rk('rotate', '--force');
      let xml = (await ring.download()).toString('utf8');
      expect(xml.split(CERT_DECRYPTOR).length - 1).toBe(2);
      expect(keyTransports(xml)).toEqual(['rsa-oaep-mgf1p', 'rsa-oaep-mgf1p']);

      // ASP.NET Core with only the certificate (UnprotectKeysWithAnyCertificate) decrypts both and protects with the default key;
      // another instance that writes with ProtectKeysWithCertificate adds a key of its own.
      const reader = (name: string, steps: AppSpec['steps'], extra: Partial<AppSpec> = {}): AppSpec => ({
        name,
        blobSasUrl: ring.sasUrl,
        autoGenerateKeys: false,
        keyEncryption: 'none',
        certificatePfxFile: pfx,
        steps,
        ...extra,
      });
      const now = Date.now();
      const first = await aspnet([
        reader('reader', [{ op: 'status' }, { op: 'protect', text: 'certificate ring', purposes: PURPOSES }]),
        {
          name: 'writer',
          blobSasUrl: ring.sasUrl,
          autoGenerateKeys: true,
          keyEncryption: 'certificate',
          certificatePfxFile: pfx,
          steps: [{ op: 'createKey', activationDate: iso(now + 30 * DAY), expirationDate: iso(now + 120 * DAY) }],
        },
      ]);
      const [status, protectedPayload] = first.apps[0].results.map(ok);
      for (const key of status.keys!) expect(key.usable, `${key.id}: ${key.error?.message}`).toBe(true);
      expect(status.keys!.map((k) => k.id).sort()).toEqual([boot.newKeyId, forced.newKeyId].sort());
      expect(status.defaultKey).toBe(boot.newKeyId);
      expect(protectedPayload.keyId).toBe(boot.newKeyId);
      const aspKey = ok(first.apps[1].results[0]).keyId!;

      // What ASP.NET Core's EncryptedXml.Encrypt wrote: RSA PKCS#1 v1.5. ringkeeper decrypts it (verify unwraps every key).
      xml = (await ring.download()).toString('utf8');
      expect(keyTransports(xml)).toEqual(['rsa-oaep-mgf1p', 'rsa-oaep-mgf1p', 'rsa-1_5']);
      const verified = await rk('verify');
      expect(verified.keys.map((k: any) => [k.protection, k.status])).toEqual([
        ['certificate', 'ok'],
        ['certificate', 'ok'],
        ['certificate', 'ok'],
      ]);
      expect(verified.keys.map((k: any) => k.id)).toContain(aspKey);

      // Mixed ring: the protector becomes Key Vault format (the ring's RSA key) with the certificate kept for decryption.
      // A deliberate change of key-encryption key: the KEK guard wants it said (rewrap is the other way, see interop 7).
      configureProtector(ring, { type: 'rsa', keyFile: ring.pemFile, decryptionCertificates: [{ pfxFile: pfx }] });
      const kvKey = (await rk('rotate', '--force', '--allow-new-kek')).newKeyId;
      const mixed = await rk('verify');
      expect(mixed.keys.map((k: any) => [k.protection, k.status])).toEqual([
        ['certificate', 'ok'],
        ['certificate', 'ok'],
        ['certificate', 'ok'],
        ['rsa', 'ok'],
      ]);

      // ASP.NET Core configured with both (ProtectKeysWithAzureKeyVault + UnprotectKeysWithAnyCertificate) reads every key.
      const later = iso(Date.parse((await rk('status')).now) + 2 * DAY + 3600_000);
      const both = (
        await aspnet([
          reader(
            'mixed',
            [
              { op: 'status' },
              { op: 'unprotect', payload: protectedPayload.payload, purposes: PURPOSES },
              { op: 'protect', text: 'after the switch', purposes: PURPOSES, at: later },
              { op: 'unprotect', payloadFrom: '2', purposes: PURPOSES, at: later },
            ],
            { keyEncryption: 'rsa', rsaPemFile: ring.pemFile },
          ),
        ])
      ).apps[0];
      expect(both.error).toBeUndefined();
      const mixedStatus = ok(both.results[0]);
      expect(mixedStatus.keys!.map((k) => k.id).sort()).toEqual([boot.newKeyId, forced.newKeyId, aspKey, kvKey].sort());
      for (const key of mixedStatus.keys!) expect(key.usable, `${key.id}: ${key.error?.message}`).toBe(true);
      expect(ok(both.results[1]).text).toBe('certificate ring');
      expect(ok(both.results[3]).text).toBe('after the switch');

      // Without the certificate, the Key Vault-format key alone is usable: the check above was real.
      const rsaOnly = ok(
        (await aspnet([{ name: 'rsa-only', blobSasUrl: ring.sasUrl, autoGenerateKeys: false, keyEncryption: 'rsa', rsaPemFile: ring.pemFile, steps: [{ op: 'status' }] }])).apps[0].results[0],
      );
      expect(rsaOnly.keys!.filter((k) => k.usable).map((k) => k.id)).toEqual([kvKey]);

      // ringkeeper without the certificate cannot read the certificate keys either, and says which certificate it needs.
      configureProtector(ring, { type: 'rsa', keyFile: ring.pemFile });
      const blind = await ringkeeper(ring.configFile, 'verify', '--ring', ring.name, '--json');
      expect(blind.code).toBe(1);
      expect(blind.json[0].keys.filter((k: any) => k.status === 'failed').map((k: any) => k.detail)[0]).toMatch(/whose private key is not configured/);
    },
  );
});
