import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/ConfigError';
import { masterKeyXml } from '../../../shared/keyring/KeyXmlWriter';
import { createKeyProtector } from '../../../shared/app/createKeyProtector';
import { parseXml } from '../../../shared/keyring/xml/parseXml';
import { makeTestCertificate, type TestCertificate } from '../../support/certificates';

let current: TestCertificate;
let previous: TestCertificate;
beforeAll(() => {
  current = makeTestCertificate('current', 's3cret');
  previous = makeTestCertificate('previous');
});

const secretElement = (xml: string) => parseXml(xml).root;

describe('certificate protector (createKeyProtector)', () => {
  it("reads the PFX password from the named setting, round-trips, and decrypts an old certificate's secret through decryptionCertificates", async () => {
    const env = { DP_CERT_PASSWORD: 's3cret' };
    const old = createKeyProtector({ type: 'certificate', pemFile: previous.pemFile }, { storageIsEmulator: false, env });
    const oldSecret = await old.protect(masterKeyXml(Buffer.alloc(64, 1)));
    expect(oldSecret).toMatch(/^<encryptedSecret decryptorType="Microsoft\.AspNetCore\.DataProtection\.XmlEncryption\.EncryptedXmlDecryptor, /);

    const renewed = createKeyProtector(
      { type: 'certificate', pfxFile: current.pfxFile, passwordSetting: 'DP_CERT_PASSWORD', decryptionCertificates: [{ pemFile: previous.pemFile }] },
      { storageIsEmulator: false, env },
    );
    const plaintext = masterKeyXml(Buffer.alloc(64, 2));
    expect(await renewed.unprotect(secretElement(await renewed.protect(plaintext)))).toBe(plaintext);
    expect(await renewed.unprotect(secretElement(oldSecret))).toBe(masterKeyXml(Buffer.alloc(64, 1)));
    expect(await renewed.currentKekVersion()).toMatch(/^certificate:[0-9A-F]{40}$/);
    expect(await renewed.currentKekVersion()).not.toBe(await old.currentKekVersion());

    const withoutOld = createKeyProtector({ type: 'certificate', pfxFile: current.pfxFile, passwordSetting: 'DP_CERT_PASSWORD' }, { storageIsEmulator: false, env });
    await expect(withoutOld.unprotect(secretElement(oldSecret))).rejects.toThrow(/whose private key is not configured/);
  });

  it('names the setting when the password is missing or wrong, as a configuration error', async () => {
    const config = { type: 'certificate' as const, pfxFile: current.pfxFile, passwordSetting: 'DP_CERT_PASSWORD' };
    const missing = createKeyProtector(config, { storageIsEmulator: false, env: {}, where: 'rings[0].protector' });
    await expect(missing.protect(masterKeyXml())).rejects.toThrow(new ConfigError('rings[0].protector.passwordSetting', 'the setting DP_CERT_PASSWORD is not set'));
    const wrong = createKeyProtector(config, { storageIsEmulator: false, env: { DP_CERT_PASSWORD: 'nope' }, where: 'rings[0].protector' });
    const error = await wrong.protect(masterKeyXml()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^rings\[0\]\.protector: .*cert\.pfx: not a readable PKCS#12 file or wrong password/);
    expect((error as Error).message).not.toContain('nope');
  });
});
