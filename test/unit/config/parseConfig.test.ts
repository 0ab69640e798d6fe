import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStorage } from '../../../shared/azure/storageConnection';
import { ConfigError } from '../../../shared/config/ConfigError';
import { parseConfig } from '../../../shared/config/parseConfig';

const ring = (extra: Record<string, unknown> = {}) => ({
  name: 'production',
  storage: { connectionString: 'UseDevelopmentStorage=true' },
  container: 'dp-production',
  protector: { type: 'rsa', keyFile: 'kek.pem' },
  ...extra,
});

describe('parseConfig', () => {
  it('accepts every documented form and fills defaults', () => {
    const config = parseConfig(
      {
        storage: { connection: 'AzureWebJobsStorage' },
        rings: [
          {
            name: 'production',
            blobUri: 'https://acct.blob.core.windows.net/dp-production/keys.xml',
            protector: { type: 'keyvault', keyId: 'https://kv.vault.azure.net/keys/dp/' },
            policy: { keyLifetimeDays: 30, renewBeforeDays: 5, retentionDays: 60 },
          },
          { name: 'staging', container: 'dp-staging', protector: { type: 'rsa', keyFile: 'keys/kek.pem', generate: true } },
          { name: 'dev', storage: { blobServiceUri: 'https://dev.blob.core.windows.net' }, container: 'dp-dev', blob: 'ring/keys.xml', protector: { type: 'none', allowUnencrypted: true } },
        ],
        cache: { channels: [{ name: 'production' }] },
      },
      'config.json',
      '/etc/ringkeeper',
    );
    expect(config.rings.map((r) => r.name)).toEqual(['production', 'staging', 'dev']);
    expect(config.rings[0]!.protector).toEqual({ type: 'keyvault', keyId: 'https://kv.vault.azure.net/keys/dp' });
    expect(config.rings[1]).toMatchObject({ storage: { connection: 'AzureWebJobsStorage' }, blob: 'keys.xml', protector: { keyFile: path.resolve('/etc/ringkeeper/keys/kek.pem'), generate: true } });
    expect(config.rings[2]).toMatchObject({ blob: 'ring/keys.xml' });
    expect(config.cache).toEqual({ channels: [{ name: 'production' }] });
  });

  it.each([
    [{ rings: 'x' }, 'c.rings', 'must be an array'],
    [{ rings: [ring({ name: 'bad name!' })] }, 'c.rings[0].name', 'not a valid ring name'],
    [{ rings: [ring(), ring({ name: 'PRODUCTION' })] }, 'c.rings[1].name', 'duplicate ring name'],
    [{ rings: [ring({ container: 'Bad_Container' })] }, 'c.rings[0].container', 'not a valid container name'],
    [{ rings: [ring({ blobUri: 'https://a.blob.core.windows.net/c/k.xml' })] }, 'c.rings[0].storage', 'either blobUri or storage'],
    [{ rings: [{ name: 'p', blobUri: 'https://a.blob.core.windows.net/c/k.xml?sv=1&sig=x', protector: { type: 'none' } }] }, 'c.rings[0].blobUri', 'SAS tokens are not accepted'],
    [{ rings: [{ name: 'p', container: 'dp-p', protector: { type: 'none' } }] }, 'c.rings[0]', 'needs blobUri, or storage'],
    [{ rings: [ring({ protector: { type: 'hsm' } })] }, 'c.rings[0].protector.type', 'unknown protector "hsm"'],
    [{ rings: [ring({ protector: { type: 'keyvault', keyId: 'https://kv.vault.azure.net/secrets/x' } })] }, 'c.rings[0].protector.keyId', 'not a Key Vault key URI'],
    [{ rings: [ring({ policy: { keyLifetimeDays: 6 } })] }, 'c.rings[0].policy.keyLifetimeDays', 'at least 7'],
    [{ rings: [ring({ policy: { renewBeforeDays: 2 } })] }, 'c.rings[0].policy.renewBeforeDays', 'at least 3'],
    [{ rings: [ring({ policy: { keyLifetimeDays: 10, renewBeforeDays: 10 } })] }, 'c.rings[0].policy.renewBeforeDays', 'shorter than keyLifetimeDays'],
    [{ rings: [ring({ colour: 'blue' })] }, 'c.rings[0].colour', 'unknown setting'],
    [{ rings: [ring({ storage: {} })] }, 'c.rings[0].storage', 'needs one of connectionString'],
  ])('refuses %j naming %s', (raw, setting, problem) => {
    let error: unknown;
    try {
      parseConfig(raw, 'c', '/');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as ConfigError).message).toContain(problem);
  });
});

describe('resolveStorage', () => {
  it('expands UseDevelopmentStorage=true to the emulator', () => {
    const s = resolveStorage({ connectionString: 'UseDevelopmentStorage=true' }, 'x');
    expect(s.isEmulator).toBe(true);
    expect(s.blobService().url).toBe('http://127.0.0.1:10000/devstoreaccount1');
  });

  it('resolves a Functions-style identity-based connection from app settings', () => {
    const s = resolveStorage({ connection: 'AzureWebJobsStorage' }, 'x', { AzureWebJobsStorage__accountName: 'acct' }, () => ({ getToken: async () => null }));
    expect(s.isEmulator).toBe(false);
    expect(s.blobService().url).toMatch(/^https:\/\/acct\.blob\.core\.windows\.net\/?$/);
    expect(s.queueService().url).toMatch(/^https:\/\/acct\.queue\.core\.windows\.net\/?$/);
  });

  it('names the missing app setting and never echoes a connection string', () => {
    expect(() => resolveStorage({ connection: 'Missing' }, 'rings[0].storage', {})).toThrow(/rings\[0\]\.storage\.connection: app setting "Missing" is not set/);
    const secret = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0';
    expect(() => resolveStorage({ connectionString: secret.replace('AccountKey=c2VjcmV0', '') }, 'x').blobService()).toThrow(/needs AccountName and AccountKey/);
    const s = resolveStorage({ connectionString: secret }, 'x');
    expect(s.description).not.toContain('c2VjcmV0');
  });
});
