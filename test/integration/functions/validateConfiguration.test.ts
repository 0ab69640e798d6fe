import { afterEach, describe, expect, it } from 'vitest';
import { validateConfiguration } from '../../../functions/validateConfiguration';

const saved = process.env.RINGKEEPER_CONFIG_JSON;
afterEach(() => {
  process.env.RINGKEEPER_CONFIG_JSON = saved;
});

describe('start-up validation', () => {
  it.each([
    [undefined, /RINGKEEPER_CONFIG_JSON: not set/],
    ['{', /RINGKEEPER_CONFIG_JSON: is not valid JSON/],
    ['{"rings":[{"name":"x","protector":{"type":"rsa"}}]}', /RINGKEEPER_CONFIG_JSON\.rings\[0\]\.protector\.keyFile: must be a non-empty string/],
    ['{"rings":[{"name":"p","blobUri":"https://a.blob.core.windows.net/c/k.xml","protector":{"type":"none"}}]}', /rings\[0\]\.protector\.allowUnencrypted: the "none" protector/],
  ])('logs one line naming the setting for %j', (json, message) => {
    if (json === undefined) delete process.env.RINGKEEPER_CONFIG_JSON;
    else process.env.RINGKEEPER_CONFIG_JSON = json;
    const lines: string[] = [];
    expect(validateConfiguration((l) => lines.push(l))).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('accepts a valid configuration without touching the network', () => {
    process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({
      rings: [{ name: 'p', blobUri: 'https://a.blob.core.windows.net/c/k.xml', protector: { type: 'keyvault', keyId: 'https://v.vault.azure.net/keys/k' } }],
    });
    const lines: string[] = [];
    expect(validateConfiguration((l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([]);
  });
});
