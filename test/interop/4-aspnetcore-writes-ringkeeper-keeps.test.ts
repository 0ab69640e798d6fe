import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, iso, makeCertificate, newRing, ok, ringkeeper, ringkeeperJson, topLevelElements, DAY, SCENARIO_TIMEOUT, type AppSpec, type AspKey } from './harness';

// Elements ringkeeper has no reason to understand: they must come back byte for byte, in order.
const UNKNOWN_TOP_1 = '<extension xmlns="urn:example:ext" version="2"><setting name="a">x &amp; y</setting><!-- kept --><empty /></extension>';
const UNKNOWN_TOP_2 = '<note>written by another tool</note>';
const UNKNOWN_IN_KEY = '<audit xmlns="urn:example:audit" by="ops">reviewed</audit>';

const byId = (keys: AspKey[]) => Object.fromEntries(keys.map((k) => [k.id, k]));

interface Variant {
  name: string;
  title: string;
  /** How ASP.NET Core protects the keys it writes. */
  aspnet: 'none' | 'certificate' | 'rsa';
  /** ringkeeper's protector for the keys it adds. */
  ringkeeper: 'none' | 'rsa';
}
const VARIANTS: Variant[] = [
  { name: 'unencrypted', title: 'unencrypted', aspnet: 'none', ringkeeper: 'none' },
  { name: 'certificate', title: 'with ProtectKeysWithCertificate', aspnet: 'certificate', ringkeeper: 'rsa' },
  { name: 'key vault format', title: "with ProtectKeysWithAzureKeyVault (the ring's RSA key)", aspnet: 'rsa', ringkeeper: 'rsa' },
];

for (const variant of VARIANTS) {
  interopDescribe(`interop 4: ASP.NET Core writes (${variant.name}), ringkeeper keeps`, () => {
    beforeAll(ensureBuilt);

    it(`ringkeeper parses, rotates and revokes a ring ASP.NET Core wrote ${variant.title}; ASP.NET Core keeps working`, { timeout: SCENARIO_TIMEOUT }, async () => {
      const ring = await newRing(`s4${variant.aspnet}`, { type: variant.ringkeeper });
      const cert = variant.aspnet === 'certificate' ? await makeCertificate(ring.dir) : undefined;
      const rsaPemFile = variant.ringkeeper === 'rsa' ? ring.pemFile : undefined;
      const now = Date.now();
      const writer = (steps: AppSpec['steps']): AppSpec => ({
        name: 'writer',
        blobSasUrl: ring.sasUrl,
        autoGenerateKeys: true,
        keyEncryption: variant.aspnet,
        certificatePfxFile: cert,
        rsaPemFile,
        steps,
      });
      const part1 = await aspnet([
        writer([
          { op: 'storeElement', xml: UNKNOWN_TOP_1 },
          { op: 'protect', text: 'written by ASP.NET Core' }, // first use: XmlKeyManager creates the key
          { op: 'createKey', activationDate: iso(now + 10 * DAY), expirationDate: iso(now + 100 * DAY) },
          { op: 'createKey', activationDate: iso(now + 20 * DAY), expirationDate: iso(now + 100 * DAY) },
        ]),
      ]);
      const [, pa, kb, kx] = part1.apps[0].results.map(ok);
      const ka = pa.keyId!;
      const part2 = await aspnet([writer([{ op: 'revokeKey', keyId: kx.keyId!, reason: 'revoked by ASP.NET Core' }, { op: 'storeElement', xml: UNKNOWN_TOP_2 }, { op: 'status' }])]);
      const written = ok(part2.apps[0].results[2]);
      expect(written.defaultKey).toBe(ka);
      expect(byId(written.keys!)[kx.keyId!].revoked).toBe(true);

      // Another tool's child element inside ASP.NET Core's key (ASP.NET Core ignores unknown children).
      const original = (await ring.download()).toString('utf8');
      const keyStart = original.indexOf(`<key id="${ka}"`);
      expect(keyStart).toBeGreaterThan(0);
      const descriptorAt = original.indexOf('<descriptor', keyStart);
      const withAudit = original.slice(0, descriptorAt) + UNKNOWN_IN_KEY + original.slice(descriptorAt);
      await ring.upload(withAudit);
      const originalTop = topLevelElements(withAudit);
      expect(originalTop).toContain(UNKNOWN_TOP_1);
      expect(originalTop).toContain(UNKNOWN_TOP_2);
      const encryptedSecrets = [...withAudit.matchAll(/<encryptedSecret[\s\S]*?<\/encryptedSecret>/g)].map((m) => m[0]);
      expect(encryptedSecrets.length).toBe(variant.aspnet === 'none' ? 0 : 3);
      if (variant.aspnet === 'rsa') {
        // Written by the Key Vault encryptor with the package's real assembly identity.
        expect(withAudit).toContain(
          'decryptorType="Azure.Extensions.AspNetCore.DataProtection.Keys.AzureKeyVaultXmlDecryptor, Azure.Extensions.AspNetCore.DataProtection.Keys, Version=1.6.4.0, Culture=neutral, PublicKeyToken=92742159e12e44c8"',
        );
      }

      // ringkeeper parses it: same keys, same revocation, same default as ASP.NET Core.
      const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');
      const parsed = await rk('status');
      expect(parsed.keys.map((k: any) => k.id).sort()).toEqual([ka, kb.keyId, kx.keyId].sort());
      expect(parsed.keys.find((k: any) => k.id === kx.keyId).revoked).toBe(true);
      expect(parsed.defaultKey).toBe(ka);
      if (variant.aspnet === 'rsa') {
        // ringkeeper unwraps the master keys .NET's Key Vault encryptor wrote (BOM + declaration inside, AES-128-CBC).
        const verify = await ringkeeper(ring.configFile, 'verify', '--ring', ring.name, '--json');
        expect(verify.code, `ringkeeper verify: ${verify.stdout}${verify.stderr}`).toBe(0);
      }

      // ringkeeper rotates (manual rotation: activates after the propagation window) and revokes one of ASP.NET Core's keys.
      // Certificate -> ringkeeper's RSA key is a change of key encryption key: the guard wants it said.
      const forced = await rk('rotate', '--force', ...(variant.aspnet === 'certificate' ? ['--allow-new-kek'] : []));
      expect(forced.action).toBe('forced');
      const kc = forced.newKeyId as string;
      const revoke = await ringkeeper(ring.configFile, 'revoke', '--ring', ring.name, '--key', kb.keyId!, '--reason', 'revoked by ringkeeper', '--json');
      expect(revoke.code, revoke.stderr).toBe(0);

      // Nothing ringkeeper does not understand changed, and it stayed in order.
      const rewritten = (await ring.download()).toString('utf8');
      const newTop = topLevelElements(rewritten);
      const u1 = newTop.indexOf(UNKNOWN_TOP_1);
      const u2 = newTop.indexOf(UNKNOWN_TOP_2);
      expect(u1, 'top-level <extension> kept byte-identical').toBeGreaterThanOrEqual(0);
      expect(u2, 'top-level <note> kept byte-identical').toBeGreaterThan(u1);
      expect(rewritten, 'unknown child of an ASP.NET Core key kept byte-identical').toContain(UNKNOWN_IN_KEY);
      if (variant.aspnet === 'certificate') {
        for (const secret of encryptedSecrets) expect(rewritten, 'certificate-encrypted secret kept byte-identical').toContain(secret);
      }

      // ASP.NET Core reads the result: its keys with their exact (100 ns) dates, its old payload, and the new key once propagated.
      const later = iso(Date.parse(parsed.now) + 2 * DAY + 3600_000);
      const reader: AppSpec = {
        name: 'reader',
        blobSasUrl: ring.sasUrl,
        autoGenerateKeys: false,
        keyEncryption: variant.aspnet,
        certificatePfxFile: cert,
        rsaPemFile,
        steps: [
          { op: 'status' },
          { op: 'unprotect', payload: pa.payload },
          { op: 'status', at: later },
          { op: 'protect', text: 'after ringkeeper', at: later },
          { op: 'unprotect', payload: pa.payload, at: later },
        ],
      };
      const read = (await aspnet([reader])).apps[0];
      expect(read.error).toBeUndefined();
      const [nowStatus, oldPayload, laterStatus, laterProtect, laterOld] = read.results;
      const before = byId(written.keys!);
      const after = byId(ok(nowStatus).keys!);
      for (const id of [ka, kb.keyId!, kx.keyId!]) {
        const { revoked: _r1, ...b } = before[id];
        const { revoked: _r2, ...a } = after[id];
        expect(a, `ASP.NET Core key ${id} unchanged`).toEqual(b);
      }
      expect(after[kb.keyId!].revoked).toBe(true);
      expect(after[kx.keyId!].revoked).toBe(true);
      expect(after[ka].revoked).toBe(false);
      expect(after[kc]?.usable, `ringkeeper's key ${kc}: ${after[kc]?.error?.message}`).toBe(true);
      expect(nowStatus.defaultKey).toBe(ka);
      expect(ok(oldPayload).text).toBe('written by ASP.NET Core');

      expect(ok(laterStatus).defaultKey).toBe(kc);
      expect((await rk('status', '--at', later)).defaultKey).toBe(kc);
      expect(ok(laterProtect).keyId).toBe(kc);
      expect(ok(laterOld).text).toBe('written by ASP.NET Core');
    });
  });
}
