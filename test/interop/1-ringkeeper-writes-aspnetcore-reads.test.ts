import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, ms, newRing, ok, ringkeeperJson, DAY, iso, SCENARIO_TIMEOUT } from './harness';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DECRYPTOR = 'decryptorType="Azure.Extensions.AspNetCore.DataProtection.Keys.AzureKeyVaultXmlDecryptor, Azure.Extensions.AspNetCore.DataProtection.Keys';

interopDescribe('interop 1: ringkeeper writes, ASP.NET Core reads', () => {
  beforeAll(ensureBuilt);

  it("an ASP.NET Core farm configured like production protects and unprotects with ringkeeper's default key", { timeout: SCENARIO_TIMEOUT }, async () => {
    const ring = await newRing('s1', { type: 'rsa' });
    const rotated = await ringkeeperJson(ring.configFile, 'rotate', '--ring', ring.name, '--json');
    expect(rotated.action).toBe('bootstrap');
    expect(rotated.newKeyId).toMatch(GUID);
    const status = await ringkeeperJson(ring.configFile, 'status', '--ring', ring.name, '--json');
    expect(status.defaultKey).toBe(rotated.newKeyId);

    // The blob carries the Key Vault format, so ASP.NET Core can only read it through that decryptor.
    const xml = (await ring.download()).toString('utf8');
    expect(xml).toContain(DECRYPTOR);
    expect(xml).toMatch(/<kid>urn:ringkeeper:rsa:sha256:[A-Za-z0-9_-]{43}<\/kid>/);

    // Two instances of the app (a farm): one protects, the other unprotects; generation disabled on both.
    const app = (name: string, steps: any[]) => ({
      name,
      blobSasUrl: ring.sasUrl,
      autoGenerateKeys: false,
      keyEncryption: 'rsa' as const,
      rsaPemFile: ring.pemFile,
      steps,
    });
    const afterPropagation = iso(Date.parse(status.now) + 2 * DAY + 60_000);
    const {
      env,
      apps: [a, b],
    } = await aspnet([
      app('web-a', [{ op: 'status' }, { op: 'protect', text: 'hello from web-a', purposes: ['Cookies', 'v1'] }]),
      app('web-b', [
        { op: 'unprotect', payloadFrom: 'web-a:1', purposes: ['Cookies', 'v1'] },
        { op: 'unprotect', payloadFrom: 'web-a:1', purposes: ['Cookies', 'v2'] },
        { op: 'status', at: afterPropagation },
        { op: 'status', at: iso(Date.now()) }, // the clocked path used by scenario 2, at the real now
      ]),
    ]);
    expect(a.error).toBeUndefined();
    expect(env.dataProtection).toMatch(/^\d+\./);

    const aspStatus = ok(a.results[0]);
    // Every key ringkeeper wrote is readable and decryptable by ASP.NET Core, with the same dates.
    expect(aspStatus.keys!.map((k) => k.id).sort()).toEqual(status.keys.map((k: any) => k.id).sort());
    for (const k of status.keys) {
      const asp = aspStatus.keys!.find((x) => x.id === k.id)!;
      expect(asp.usable, `key ${k.id}: ${asp.error?.message}`).toBe(true);
      expect(ms(asp.creationDate)).toBe(ms(k.creationDate));
      expect(ms(asp.activationDate)).toBe(ms(k.activationDate));
      expect(ms(asp.expirationDate)).toBe(ms(k.expirationDate));
      expect(asp.revoked).toBe(k.revoked);
    }
    expect(aspStatus.kekUnwraps).toBeGreaterThan(0); // master keys really went through RSA-OAEP unwrap

    // The default key ASP.NET Core reports and protects with is ringkeeper's defaultKey.
    expect(aspStatus.defaultKey).toBe(status.defaultKey);
    const protectedByA = ok(a.results[1]);
    expect(protectedByA.keyId).toBe(status.defaultKey);

    // The other instance unprotects it; a different purpose chain is refused (the check is real).
    expect(ok(b.results[0]).text).toBe('hello from web-a');
    expect(b.results[1].ok).toBe(false);
    expect(b.results[1].error?.type).toMatch(/CryptographicException/);

    // ringkeeper's "after propagation" answer matches ASP.NET Core two days on.
    expect(ok(b.results[2]).defaultKey).toBe(status.defaultKeyAfterPropagation);
    expect(ok(b.results[3]).defaultKey).toBe(aspStatus.defaultKey);
  });
});
