import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/config/ConfigError';
import { parseConfig } from '../../../shared/config/parseConfig';

const withProtector = (protector: unknown) => ({ rings: [{ name: 'p', storage: { connectionString: 'UseDevelopmentStorage=true' }, container: 'dp-p', protector }] });
const parse = (protector: unknown) => parseConfig(withProtector(protector), 'c', '/etc/rk').rings[0]!.protector;

describe('certificate protector configuration', () => {
  it('accepts a PFX (with a password setting), a PEM file and a Key Vault certificate, and decryptionCertificates on every protector', () => {
    expect(parse({ type: 'certificate', pfxFile: 'dp.pfx', passwordSetting: 'DP_CERT_PASSWORD' })).toEqual({
      type: 'certificate',
      pfxFile: path.resolve('/etc/rk/dp.pfx'),
      passwordSetting: 'DP_CERT_PASSWORD',
    });
    expect(parse({ type: 'certificate', pemFile: 'dp.pem' })).toEqual({ type: 'certificate', pemFile: path.resolve('/etc/rk/dp.pem') });
    expect(parse({ type: 'certificate', keyVaultCertificateId: 'https://kv.vault.azure.net/certificates/dp/' })).toEqual({
      type: 'certificate',
      keyVaultCertificateId: 'https://kv.vault.azure.net/certificates/dp',
    });
    expect(
      parse({
        type: 'keyvault',
        keyId: 'https://kv.vault.azure.net/keys/dp',
        decryptionCertificates: [{ pfxFile: 'old.pfx' }, { keyVaultCertificateId: 'https://kv.vault.azure.net/certificates/old/0123456789abcdef0123456789abcdef' }],
      }),
    ).toEqual({
      type: 'keyvault',
      keyId: 'https://kv.vault.azure.net/keys/dp',
      decryptionCertificates: [{ pfxFile: path.resolve('/etc/rk/old.pfx') }, { keyVaultCertificateId: 'https://kv.vault.azure.net/certificates/old/0123456789abcdef0123456789abcdef' }],
    });
  });

  it.each([
    [{ type: 'certificate' }, 'c.rings[0].protector', 'needs exactly one of pfxFile, pemFile or keyVaultCertificateId'],
    [{ type: 'certificate', pfxFile: 'a.pfx', pemFile: 'a.pem' }, 'c.rings[0].protector', '(found pfxFile, pemFile)'],
    [{ type: 'certificate', pfxFile: 'a.pfx', password: 'hunter2' }, 'c.rings[0].protector.password', 'unknown setting'],
    [{ type: 'certificate', pfxFile: 'a.pfx', passwordSetting: 'hunter2 is my password' }, 'c.rings[0].protector.passwordSetting', 'never the password itself'],
    [{ type: 'certificate', pemFile: 'a.pem', passwordSetting: 'X' }, 'c.rings[0].protector.passwordSetting', 'unknown setting'],
    [{ type: 'certificate', keyVaultCertificateId: 'https://kv.vault.azure.net/keys/dp' }, 'c.rings[0].protector.keyVaultCertificateId', 'not a Key Vault certificate URI'],
    [{ type: 'rsa', keyFile: 'k.pem', decryptionCertificates: {} }, 'c.rings[0].protector.decryptionCertificates', 'must be an array'],
    [{ type: 'rsa', keyFile: 'k.pem', decryptionCertificates: [{ certFile: 'x' }] }, 'c.rings[0].protector.decryptionCertificates[0]', 'needs exactly one of'],
  ])('refuses %j at %s', (protector, setting, message) => {
    let error: unknown;
    try {
      parse(protector);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as Error).message).toContain(message);
  });
});
