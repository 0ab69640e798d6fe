import { beforeAll, expect, it } from 'vitest';
import { aspnet, ensureBuilt, interopDescribe, iso, newRing, ok, ringkeeperJson, DAY, SCENARIO_TIMEOUT } from './harness';

/*
 * ASP.NET Core 10 Data Protection reads DateTimeOffset.UtcNow directly (it does not honour
 * TimeProvider). The .NET driver therefore asks the real KeyRingProvider for the ring at a chosen
 * instant (public ICacheableKeyRingProvider.GetCacheableKeyRing(now)) and protects/unprotects with
 * that ring through the real KeyRingBasedDataProtector; ringkeeper gets the same instant via --now/--at.
 */
interopDescribe('interop 2: across time', () => {
  beforeAll(ensureBuilt);

  it("at every instant of a rotation ASP.NET Core's default key is ringkeeper's answer, and old payloads still unprotect", { timeout: SCENARIO_TIMEOUT }, async () => {
    const ring = await newRing('s2', { type: 'rsa' });
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 120 * DAY; // whole past timeline; keys are written at simulated times
    const rk = (...args: string[]) => ringkeeperJson(ring.configFile, ...args, '--ring', ring.name, '--json');
    const app = (name: string, steps: any[]) => ({
      name,
      blobSasUrl: ring.sasUrl,
      autoGenerateKeys: false,
      keyEncryption: 'rsa' as const,
      rsaPemFile: ring.pemFile,
      steps,
    });

    const boot = await rk('rotate', '--now', iso(t0), '--allow-clock-override');
    expect(boot.action).toBe('bootstrap');
    const k1 = boot.newKeyId as string;
    const s0 = await rk('status', '--at', iso(t0 + 3600_000));
    const k1Info = s0.keys.find((k: any) => k.id === k1);
    const k1Expires = Date.parse(k1Info.expirationDate);
    expect(k1Expires).toBeGreaterThan(t0 + 7 * DAY);

    // Before any successor: a payload protected under K1, and the default at a mid-life instant.
    const beforeAt = t0 + Math.floor((k1Expires - t0) / 2);
    const noChange = await rk('rotate', '--now', iso(beforeAt), '--allow-clock-override');
    expect(noChange.action).toBe('none');
    const before = await aspnet([
      app('before', [
        { op: 'protect', text: 'issued before the rotation', at: iso(t0 + 3600_000) },
        { op: 'status', at: iso(beforeAt) },
      ]),
    ]);
    const early = ok(before.apps[0].results[0]);
    expect(early.keyId).toBe(k1);
    expect(ok(before.apps[0].results[1]).defaultKey).toBe(k1);
    expect((await rk('status', '--at', iso(beforeAt))).defaultKey).toBe(k1);

    // The policy writes the successor once the default key has less than 14 days (renewBefore) to live.
    const tooEarly = await rk('rotate', '--now', iso(k1Expires - 15 * DAY), '--allow-clock-override');
    expect(tooEarly.action).toBe('none');
    const writtenAt = k1Expires - 13 * DAY;
    const successor = await rk('rotate', '--now', iso(writtenAt), '--allow-clock-override');
    expect(successor.action).toBe('successor');
    const k2 = successor.newKeyId as string;
    const sAfter = await rk('status', '--at', iso(writtenAt));
    const k2Info = sAfter.keys.find((k: any) => k.id === k2);
    expect(Date.parse(k2Info.activationDate)).toBe(k1Expires);
    const k2Expires = Date.parse(k2Info.expirationDate);

    const instants: Array<[string, number, string]> = [
      ['successor written, not yet propagated', writtenAt + 3600_000, k1],
      ['successor propagated, not yet active', writtenAt + 2 * DAY + 3600_000, k1],
      ['4 minutes before K1 expires (within the 5-minute clock skew)', k1Expires - 4 * 60_000, k2],
      ['after K1 expired', k1Expires + 3600_000, k2],
      ["late in K2's life", k2Expires - DAY, k2],
    ];
    const steps: any[] = [];
    for (const [, at] of instants) {
      steps.push({ op: 'status', at: iso(at) }, { op: 'protect', text: `at ${iso(at)}`, at: iso(at) }, { op: 'unprotect', payload: early.payload, at: iso(at) });
    }
    // A payload protected just before the switch unprotects after it.
    steps.push({ op: 'unprotect', payloadFrom: String(1 * 3 + 1), at: iso(k1Expires + 3600_000) });
    const after = await aspnet([app('after', steps)]);
    const results = after.apps[0].results;

    const ringkeeperAnswers = await Promise.all(instants.map(async ([, at]) => (await rk('status', '--at', iso(at))).defaultKey));
    for (const [i, [label, , expected]] of instants.entries()) {
      const aspStatus = ok(results[i * 3]);
      expect({ label, ringkeeper: ringkeeperAnswers[i] }).toEqual({ label, ringkeeper: expected });
      expect({ label, aspnetcore: aspStatus.defaultKey }).toEqual({ label, aspnetcore: expected });
      expect({ label, protectedWith: ok(results[i * 3 + 1]).keyId }).toEqual({ label, protectedWith: expected });
      expect({ label, oldPayload: ok(results[i * 3 + 2]).text }).toEqual({ label, oldPayload: 'issued before the rotation' });
    }
    expect(ok(results[instants.length * 3]).text).toBe(`at ${iso(instants[1][1])}`);
  });
});
