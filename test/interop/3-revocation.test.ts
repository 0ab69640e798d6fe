import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, iso, newRing, ok, ringkeeperJson, DAY, type StepResult, SCENARIO_TIMEOUT } from './harness';

const revokedMessage = (id: string) => new RegExp(`The key \\{${id}\\} has been revoked`, 'i');

function refusedAsRevoked(r: StepResult, keyId: string) {
  expect(r.ok, `unprotect of a ${keyId} payload should fail`).toBe(false);
  const messages = [r.error?.message, r.error?.inner?.message].join(' | ');
  expect(messages).toMatch(revokedMessage(keyId));
}

interopDescribe('interop 3: revocation', () => {
  beforeAll(ensureBuilt);

  const appFor = (ring: { sasUrl: string; pemFile: string }) => (name: string, steps: any[]) => ({
    name,
    blobSasUrl: ring.sasUrl,
    autoGenerateKeys: false,
    keyEncryption: 'rsa' as const,
    rsaPemFile: ring.pemFile,
    steps,
  });

  it("after `ringkeeper revoke --key`, ASP.NET Core refuses the key's payloads and protects with the replacement", { timeout: SCENARIO_TIMEOUT }, async () => {
    const ring = await newRing('s3a', { type: 'rsa' });
    const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');
    const app = appFor(ring);
    // A key in use for a month (propagated), as in production.
    const boot = await rk('rotate', '--now', iso(Date.now() - 30 * DAY), '--allow-clock-override');
    const k1 = boot.newKeyId as string;

    const before = await aspnet([app('before', [{ op: 'protect', text: 'session cookie' }])]);
    const p1 = ok(before.apps[0].results[0]);
    expect(p1.keyId).toBe(k1);

    await rk('revoke', '--key', k1, '--reason', 'interop: suspected exposure');
    const status = await rk('status');
    expect(status.keys.find((k: any) => k.id === k1)?.revoked).toBe(true);
    const replacement = status.defaultKey as string;
    expect(replacement).toBeTruthy();
    expect(replacement).not.toBe(k1);

    const after = await aspnet([app('after', [{ op: 'unprotect', payload: p1.payload }, { op: 'status' }, { op: 'protect', text: 'new session' }, { op: 'unprotect', payloadFrom: '2' }])]);
    const [refused, aspStatus, fresh, roundTrip] = after.apps[0].results;
    refusedAsRevoked(refused, k1);
    ok(aspStatus);
    expect(aspStatus.keys!.find((k) => k.id === k1)?.revoked).toBe(true);
    expect(aspStatus.keys!.find((k) => k.id === replacement)?.revoked).toBe(false);
    expect(aspStatus.defaultKey).toBe(replacement);
    expect(ok(fresh).keyId).toBe(replacement);
    expect(ok(roundTrip).text).toBe('new session');
  });

  it('after `ringkeeper revoke --all`, every earlier key is refused and the replacement (created after the revocation date) is used', { timeout: SCENARIO_TIMEOUT }, async () => {
    const ring = await newRing('s3b', { type: 'rsa' });
    const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');
    const app = appFor(ring);
    const now = Date.now();
    const k1 = (await rk('rotate', '--now', iso(now - 100 * DAY), '--allow-clock-override')).newKeyId as string;
    const successor = await rk('rotate', '--now', iso(now - 20 * DAY), '--allow-clock-override');
    expect(successor.action).toBe('successor');
    const k2 = successor.newKeyId as string;

    const before = await aspnet([
      app('before', [
        { op: 'protect', text: 'old', at: iso(now - 50 * DAY) },
        { op: 'protect', text: 'current' },
      ]),
    ]);
    const [p1, p2] = before.apps[0].results.map(ok);
    expect([p1.keyId, p2.keyId]).toEqual([k1, k2]);

    await rk('revoke', '--all', '--reason', 'interop: mass revocation');
    const status = await rk('status');
    expect(status.revocations.length).toBeGreaterThan(0);
    const replacement = status.defaultKey as string;
    expect([k1, k2]).not.toContain(replacement);

    const after = await aspnet([
      app('after', [{ op: 'unprotect', payload: p1.payload }, { op: 'unprotect', payload: p2.payload }, { op: 'status' }, { op: 'protect', text: 'after mass revocation' }]),
    ]);
    const [r1, r2, aspStatus, fresh] = after.apps[0].results;
    refusedAsRevoked(r1, k1);
    refusedAsRevoked(r2, k2);
    ok(aspStatus);
    // "Created strictly before the revocation date": the replacement must not fall under it in .NET's reading.
    expect(aspStatus.keys!.find((k) => k.id === replacement)?.revoked).toBe(false);
    expect(aspStatus.defaultKey).toBe(replacement);
    expect(ok(fresh).keyId).toBe(replacement);
  });
});
