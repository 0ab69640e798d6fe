import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, newRing, ok, ringkeeper, ringkeeperHasCommand, ringkeeperJson, ringkeeperPipe, tempDir, type AppSpec, type Ring, type Step } from './harness';

/*
 * Payloads between real ASP.NET Core (KeyRingBasedDataProtector over the ring's blob) and
 * `ringkeeper protect/unprotect/inspect`. stdin/stdout carry raw payload bytes (the byte[] overloads);
 * `--text` is the string overloads' base64url. ASP.NET Core prepends its application name
 * (SetApplicationName) as the first purpose; ringkeeper is given it as `--app`.
 */
const TIMEOUT = 300_000;
const APPS = ['ringkeeper-interop', 'Contoso.Web/ünïcødé ✓'];
/** Purpose chains of 0–3 purposes after the application name; [] is the provider itself used as a protector. */
const CHAINS: string[][] = [[], ['Cookies'], ['Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware', 'Cookies'], ['a', '', 'ß∂ƒ 𝄞'.repeat(20)]];
const args = (app: string, purposes: string[]) => ['--app', app, ...purposes.flatMap((p) => ['--purpose', p])];

function appOn(ring: Ring, applicationName: string, steps: Step[]): AppSpec {
  return { name: applicationName, blobSasUrl: ring.sasUrl, applicationName, autoGenerateKeys: false, keyEncryption: 'rsa', rsaPemFile: ring.pemFile, steps };
}

/** One config naming several interop rings (each made by newRing with its own config). */
function configWith(rings: Record<string, Ring>): string {
  const entries = Object.entries(rings).map(([name, ring]) => ({ ...JSON.parse(readFileSync(ring.configFile, 'utf8')).rings[0], name }));
  const file = path.join(tempDir('rings'), 'ringkeeper.json');
  writeFileSync(file, JSON.stringify({ rings: entries }, null, 2));
  return file;
}

interopDescribe('interop payloads: ringkeeper protect/unprotect/inspect against ASP.NET Core', () => {
  let ready = false;
  beforeAll(async () => {
    await ensureBuilt();
    ready = (await ringkeeperHasCommand('protect')) && (await ringkeeperHasCommand('unprotect')) && (await ringkeeperHasCommand('inspect'));
    if (!ready) throw new Error('the ringkeeper CLI does not list protect, unprotect and inspect');
  });

  it('both directions, for purpose chains of 0–3 under two application names, 0 bytes, 1 MiB and the string form', { timeout: TIMEOUT }, async () => {
    const ring = await newRing('pay', { type: 'rsa' });
    await ringkeeperJson(ring.configFile, 'rotate', '--ring', ring.name, '--json');
    const big = randomBytes(1 << 20);

    // ASP.NET Core -> ringkeeper
    const aspSteps: Step[] = [
      ...CHAINS.map((purposes, i): Step => ({ op: 'protect', text: `from ASP.NET Core, chain ${i}`, purposes })),
      { op: 'protect', dataBase64: '', purposes: CHAINS[1] },
      { op: 'protect', dataBase64: big.toString('base64'), purposes: CHAINS[2] },
      { op: 'protect', text: 'string form ✓', stringForm: true, purposes: CHAINS[1] },
    ];
    const fromAsp = (await aspnet(APPS.map((app) => appOn(ring, app, aspSteps)))).apps;
    for (const [a, app] of APPS.entries()) {
      const results = fromAsp[a]!.results.map(ok);
      for (const [i, purposes] of CHAINS.entries()) {
        const un = await ringkeeperPipe(ring.configFile, Buffer.from(results[i]!.payload!, 'base64'), 'unprotect', '--ring', ring.name, ...args(app, purposes));
        expect(un.code, un.stderr).toBe(0);
        expect(un.stdout.toString('utf8')).toBe(`from ASP.NET Core, chain ${i}`);
      }
      const empty = await ringkeeperPipe(ring.configFile, Buffer.from(results[4]!.payload!, 'base64'), 'unprotect', '--ring', ring.name, ...args(app, CHAINS[1]!));
      expect(empty.code, empty.stderr).toBe(0);
      expect(empty.stdout.length).toBe(0);
      const large = await ringkeeperPipe(ring.configFile, Buffer.from(results[5]!.payload!, 'base64'), 'unprotect', '--ring', ring.name, ...args(app, CHAINS[2]!));
      expect(large.code, large.stderr).toBe(0);
      expect(large.stdout.equals(big)).toBe(true);
      const text = await ringkeeperPipe(ring.configFile, Buffer.from(`${results[6]!.payloadText!}\n`), 'unprotect', '--ring', ring.name, '--text', ...args(app, CHAINS[1]!));
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout.toString('utf8')).toBe('string form ✓');
    }

    // A purpose chain or application name that differs by one element fails like tampering (exit 1).
    const payload0 = Buffer.from(fromAsp[0]!.results[1]!.payload!, 'base64');
    for (const wrong of [args(APPS[1]!, CHAINS[1]!), args(APPS[0]!, ['cookies']), args(APPS[0]!, [...CHAINS[1]!, 'v1']), CHAINS[1]!.flatMap((p) => ['--purpose', p])]) {
      const r = await ringkeeperPipe(ring.configFile, payload0, 'unprotect', '--ring', ring.name, ...wrong);
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toMatch(/payload_invalid: .*\(wrong_purpose\).*ASP\.NET Core cannot tell these apart/);
    }

    // ringkeeper -> ASP.NET Core
    for (const app of APPS) {
      const steps: Step[] = [];
      for (const [i, purposes] of CHAINS.entries()) {
        const pr = await ringkeeperPipe(ring.configFile, Buffer.from(`from ringkeeper, chain ${i}`), 'protect', '--ring', ring.name, ...args(app, purposes));
        expect(pr.code, pr.stderr).toBe(0);
        steps.push({ op: 'unprotect', payload: pr.stdout.toString('base64'), purposes });
      }
      for (const [data, purposes] of [
        [Buffer.alloc(0), CHAINS[3]!],
        [big, CHAINS[0]!],
      ] as const) {
        const pr = await ringkeeperPipe(ring.configFile, data, 'protect', '--ring', ring.name, ...args(app, purposes));
        expect(pr.code, pr.stderr).toBe(0);
        steps.push({ op: 'unprotect', payload: pr.stdout.toString('base64'), purposes });
      }
      const textForm = await ringkeeperPipe(ring.configFile, Buffer.from('string form ✓'), 'protect', '--ring', ring.name, '--text', ...args(app, CHAINS[2]!));
      expect(textForm.code, textForm.stderr).toBe(0);
      expect(textForm.stdout.toString('utf8')).toMatch(/^CfDJ8[A-Za-z0-9_-]+\n$/);
      steps.push({ op: 'unprotect', payloadText: textForm.stdout.toString('utf8').trim(), purposes: CHAINS[2] });

      const back = (await aspnet([appOn(ring, app, steps)])).apps[0]!.results.map(ok);
      CHAINS.forEach((_, i) => expect(back[i]!.text).toBe(`from ringkeeper, chain ${i}`));
      expect(back[4]!.dataBase64).toBe('');
      expect(Buffer.from(back[5]!.dataBase64!, 'base64').equals(big)).toBe(true);
      expect(back[6]!.text).toBe('string form ✓');
    }
  });

  it('revoked and foreign keys: key_revoked and key_not_found, as ASP.NET Core refuses them', { timeout: TIMEOUT }, async () => {
    const ring = await newRing('payrev', { type: 'rsa' });
    const other = await newRing('payother', { type: 'rsa' });
    const first = await ringkeeperJson(ring.configFile, 'rotate', '--ring', ring.name, '--json');
    await ringkeeperJson(other.configFile, 'rotate', '--ring', other.name, '--json');
    const app = APPS[0]!;
    const fromAsp = ok((await aspnet([appOn(ring, app, [{ op: 'protect', text: 'before revocation', purposes: ['p'] }])])).apps[0]!.results[0]!);
    expect(fromAsp.keyId).toBe(first.newKeyId);
    const fromRk = await ringkeeperPipe(ring.configFile, Buffer.from('before revocation'), 'protect', '--ring', ring.name, ...args(app, ['p']));
    expect(fromRk.code, fromRk.stderr).toBe(0);

    // Another ring's payload: its key is not in this ring.
    const foreign = await ringkeeperPipe(other.configFile, Buffer.from('x'), 'protect', '--ring', other.name, ...args(app, ['p']));
    const notFound = await ringkeeperPipe(ring.configFile, foreign.stdout, 'unprotect', '--ring', ring.name, ...args(app, ['p']));
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toMatch(/key_not_found: the key \{[0-9a-f-]{36}\} was not found in the key ring/);

    const revoke = await ringkeeper(ring.configFile, 'revoke', '--ring', ring.name, '--key', first.newKeyId, '--reason', 'interop');
    expect(revoke.code, revoke.stderr).toBe(0);
    const refused = await ringkeeperPipe(ring.configFile, Buffer.from(fromAsp.payload!, 'base64'), 'unprotect', '--ring', ring.name, ...args(app, ['p']));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`key_revoked: the key {${first.newKeyId}} has been revoked`);

    // The replacement key protects; ASP.NET Core refuses the revoked key's payload and reads the new one.
    const after = await ringkeeperPipe(ring.configFile, Buffer.from('after revocation'), 'protect', '--ring', ring.name, ...args(app, ['p']));
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.subarray(4, 20).equals(fromRk.stdout.subarray(4, 20))).toBe(false);
    const asp = (
      await aspnet([
        appOn(ring, app, [
          { op: 'unprotect', payload: fromRk.stdout.toString('base64'), purposes: ['p'] },
          { op: 'unprotect', payload: after.stdout.toString('base64'), purposes: ['p'] },
          { op: 'unprotect', payload: foreign.stdout.toString('base64'), purposes: ['p'] },
        ]),
      ])
    ).apps[0]!.results;
    expect(asp[0]!.ok).toBe(false);
    expect(asp[0]!.error?.message).toContain('has been revoked');
    expect(ok(asp[1]!).text).toBe('after revocation');
    expect(asp[2]!.error?.message).toContain('was not found in the key ring');
  });

  it('inspect names the ring that holds the key of a real ASP.NET Core payload, also from a chunked cookie', { timeout: TIMEOUT }, async () => {
    const production = await newRing('prod', { type: 'rsa' });
    const staging = await newRing('stag', { type: 'rsa' });
    const loner = await newRing('loner', { type: 'none' });
    await ringkeeperJson(production.configFile, 'rotate', '--ring', production.name, '--json');
    const stagingKey = (await ringkeeperJson(staging.configFile, 'rotate', '--ring', staging.name, '--json')).newKeyId;
    const config = configWith({ production, staging });

    const { apps } = await aspnet([
      {
        ...appOn(staging, 'web', [
          { op: 'protect', text: 'staging session', purposes: ['Cookies'] },
          { op: 'chunkCookie', name: '.AspNetCore.Cookies', payloadFrom: '0', chunkSize: 120 },
        ]),
      },
      // An instance with its own repository and key generation on: a key no configured ring has.
      { name: 'own', blobSasUrl: loner.sasUrl, applicationName: 'web', autoGenerateKeys: true, keyEncryption: 'none', steps: [{ op: 'protect', text: 'own key', purposes: ['Cookies'] }] },
    ]);
    const [protectedOnStaging, cookie] = apps[0]!.results.map(ok);
    expect(protectedOnStaging!.keyId).toBe(stagingKey);
    expect(cookie!.cookies).toBeGreaterThan(2);

    const text = await ringkeeper(config, 'inspect', Buffer.from(protectedOnStaging!.payload!, 'base64').toString('base64url'));
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`key {${stagingKey}}`);
    expect(text.stdout).toContain('not in ring production, present in ring staging: this payload was issued by the staging slot');

    const chunked = await ringkeeper(config, 'inspect', `Cookie: ${cookie!.cookieHeader}`, '--json');
    expect(chunked.code, chunked.stderr).toBe(0);
    expect(chunked.json).toHaveLength(1);
    expect(chunked.json[0]).toMatchObject({
      source: { format: 'cookie', cookie: { name: '.AspNetCore.Cookies', chunks: cookie!.cookies! - 1 } },
      keyId: stagingKey,
      unprotectsIn: ['staging'],
      rings: [
        { ring: 'production', state: 'absent' },
        { ring: 'staging', state: 'present', revoked: false, isDefault: true },
      ],
    });

    const own = ok(apps[1]!.results[0]!);
    const nowhere = await ringkeeper(config, 'inspect', own.payload!, '--json');
    expect(nowhere.code, nowhere.stderr).toBe(0);
    expect(nowhere.json[0]).toMatchObject({ keyId: own.keyId, unprotectsIn: [] });
    expect(nowhere.json[0].findings[0]).toMatch(/^in no ring \(not in rings production, staging\): issued by an instance that generated its own key/);
  });
});
