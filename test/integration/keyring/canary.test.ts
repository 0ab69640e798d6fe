import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateRing, rotateRings } from '../../../shared/app/keyRingOperations';
import type { RingHandle } from '../../../shared/app/openRings';
import type { ProtectorConfig } from '../../../shared/config/types';
import { CanaryFailedError } from '../../../shared/keyring/CanaryFailedError';
import { DAY } from '../../../shared/keyring/dotnetDate';
import { KeyRingDocument } from '../../../shared/keyring/KeyRingDocument';
import { verifyKeyRing } from '../../../shared/keyring/verifyKeyRing';
import { makeTestCertificate } from '../../support/certificates';
import { startKeyVaultDouble, type KeyVaultDouble } from '../../support/keyVaultDouble';
import { testRing } from '../../support/testRing';
import { uniqueName } from '../../support/storage';

const workDir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-canary-'));
const T0 = Date.UTC(2030, 0, 1);
let kv: KeyVaultDouble;

beforeAll(async () => {
  kv = await startKeyVaultDouble();
});
afterAll(async () => {
  await kv?.close();
});

function ring(protector: ProtectorConfig): RingHandle {
  return testRing(kv, 'canary', protector, uniqueName('canary'), workDir);
}

describe('canary before every write', () => {
  it('a Key Vault that unwraps to the wrong key fails the run with canary_failed and writes nothing', async () => {
    kv.createKey('liar');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('liar') });
    kv.resetRequests();
    kv.corruptUnwrap(1);
    const failure = await rotateRing(handle, {}, { now: () => T0 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CanaryFailedError);
    expect(failure).toMatchObject({ code: 'canary_failed', health: 'critical', ring: 'canary' });
    expect((failure as Error).message).toMatch(
      /^ring canary is critical \(canary_failed\): new key \{[0-9a-f-]{36}\} was not written: the keyvault protector could not unwrap what it wrapped|did not give back/,
    );
    // The wrong answer really came from the vault's unwrap, after a real wrap.
    expect(kv.requests.filter((r) => r.operation === 'unwrapkey').map((r) => r.status)).toEqual([200]);
    expect((await handle.repository.read()).etag).toBeUndefined();

    // The timer's path: the ring's outcome carries the code; a later honest run writes the key.
    kv.corruptUnwrap(1);
    const [outcome] = await rotateRings([handle], {}, { now: () => T0 });
    expect(outcome).toMatchObject({ ok: false, ring: 'canary', error: { code: 'canary_failed', status: 500, expected: true } });
    expect((await handle.repository.read()).etag).toBeUndefined();

    const healthy = await rotateRing(handle, {}, { now: () => T0 });
    expect(healthy.action).toBe('bootstrap');
    expect((await verifyKeyRing(handle)).ok).toBe(true);
  });

  it('a failing canary on a ring with keys leaves the blob byte-identical', async () => {
    kv.createKey('liar2');
    const handle = ring({ type: 'keyvault', keyId: kv.keyId('liar2') });
    await rotateRing(handle, {}, { now: () => T0 });
    const before = await handle.repository.read();
    kv.corruptUnwrap(1);
    await expect(rotateRing(handle, { force: true }, { now: () => T0 + DAY })).rejects.toMatchObject({ code: 'canary_failed' });
    const after = await handle.repository.read();
    expect(after.etag).toBe(before.etag);
    expect(after.content!.equals(before.content!)).toBe(true);
    expect(KeyRingDocument.parse(after.content).ring.keys).toHaveLength(1);
  });

  it('every protector passes its own canary (rsa, certificate, none on Azurite)', async () => {
    const keyFile = path.join(workDir, 'kek.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cert = makeTestCertificate('canary');
    for (const protector of [{ type: 'rsa', keyFile }, { type: 'certificate', pemFile: cert.pemFile }, { type: 'none' }] as ProtectorConfig[]) {
      const handle = ring(protector);
      const result = await rotateRing(handle, {}, { now: () => T0 });
      expect(result.action, protector.type).toBe('bootstrap');
      const [key] = KeyRingDocument.parse((await handle.repository.read()).content).ring.keys;
      expect(key!.protection).toBe(protector.type);
      expect((await verifyKeyRing(handle)).ok).toBe(true);
    }
  });
});
