import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProtectorConfig } from '../../../shared/config/types';
import { makeTestCertificate } from '../../support/certificates';
import { jsonLines, runCli } from '../../support/cli';
import { azurite, uniqueName } from '../../support/storage';

describe('ringkeeper rewrap (CLI)', () => {
  it('dry-run, rewrap, idempotent rerun; status reports stale_kek until then; refusals exit 1 with a code', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-rewrap-cli-'));
    writeFileSync(path.join(cwd, 'kek.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const cert = makeTestCertificate('cli');
    const container = uniqueName('rwcli');
    const configure = (protector: ProtectorConfig) =>
      writeFileSync(path.join(cwd, 'ringkeeper.json'), JSON.stringify({ rings: [{ name: 'prod', storage: { connectionString: azurite().connectionString }, container, protector }] }));
    const cli = (...args: string[]) => runCli([...args, '--config', 'ringkeeper.json'], { cwd });

    configure({ type: 'certificate', pemFile: cert.pemFile });
    expect((await cli('rotate', '--json')).code).toBe(0);
    configure({ type: 'rsa', keyFile: 'kek.pem' });

    // Without the certificate, the certificate key cannot be decrypted: refused, exit 1, stable code.
    const refused = await cli('rewrap', '--json');
    expect(refused.code).toBe(1);
    expect(jsonLines(refused.stdout)[0]).toMatchObject({ ring: 'prod', error: { code: 'rewrap_refused' } });
    expect(refused.stderr).toMatch(/ring prod: .*whose private key is not configured/);

    configure({ type: 'rsa', keyFile: 'kek.pem', decryptionCertificates: [{ pemFile: cert.pemFile }] });
    const [status] = jsonLines((await cli('status', '--json')).stdout);
    expect(status.problems.map((p: any) => p.code)).toContain('stale_kek');

    const dry = await cli('rewrap', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^ring prod: would re-wrap 1 key\(s\) under urn:ringkeeper:rsa:sha256:/);
    expect(dry.stdout).toMatch(/from certificate:[0-9A-F]{40}/);

    const [done] = jsonLines((await cli('rewrap', '--json')).stdout);
    expect(done).toMatchObject({ ring: 'prod', dryRun: false, unchanged: 0 });
    expect(done.rewrapped).toHaveLength(1);
    const [again] = jsonLines((await cli('rewrap', '--json')).stdout);
    expect(again).toMatchObject({ rewrapped: [], unchanged: 1, etag: done.etag });

    const [clean] = jsonLines((await cli('status', '--json')).stdout);
    expect(clean.problems.map((p: any) => p.code)).not.toContain('stale_kek');
    expect(clean.keys[0].protection).toBe('rsa');

    const usage = await cli('rewrap', '--bogus');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/rewrap: unknown option --bogus/);
  });
});
