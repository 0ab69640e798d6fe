import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, jsonLines, runCli } from '../../support/cli';
import { azurite, uniqueName } from '../../support/storage';

describe('ringkeeper CLI on the embedded local default, in an empty folder', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-cli-'));
    // The default's Azurite, started on demand by each command, on ports no other test uses.
    env = { RINGKEEPER_LOCAL_BLOB_PORT: String(await freePort()), RINGKEEPER_LOCAL_QUEUE_PORT: String(await freePort()), RINGKEEPER_CONFIG: '' };
  });

  it('runs the acceptance sequence: rotate, rotate again, status, revoke, status, export, verify', async () => {
    const first = await runCli(['rotate', '--json'], { cwd, env });
    expect(first.code, first.stderr).toBe(0);
    const [created] = jsonLines(first.stdout);
    expect(created).toMatchObject({ ring: 'local', action: 'bootstrap' });
    expect(created.newKeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.etag).toBeTruthy();
    expect(existsSync(path.join(cwd, '.ringkeeper', 'kek.pem'))).toBe(true);
    expect(existsSync(path.join(cwd, '.ringkeeper', 'azurite'))).toBe(true);

    const [again] = jsonLines((await runCli(['rotate', '--json'], { cwd, env })).stdout);
    expect(again).toMatchObject({ ring: 'local', action: 'none', newKeyId: null, etag: created.etag });

    const [status] = jsonLines((await runCli(['status', '--json'], { cwd, env })).stdout);
    expect(status).toMatchObject({ ring: 'local', etag: created.etag, defaultKey: created.newKeyId, defaultKeyAfterPropagation: created.newKeyId });
    expect(status.keys).toHaveLength(1);
    expect(status.keys[0]).toMatchObject({ id: created.newKeyId, revoked: false, protection: 'rsa' });

    const revoke = await runCli(['revoke', '--ring', 'local', '--key', created.newKeyId, '--reason', 'test'], { cwd, env });
    expect(revoke.code, revoke.stderr).toBe(0);
    const [after] = jsonLines((await runCli(['status', '--json'], { cwd, env })).stdout);
    expect(after.keys.find((k: any) => k.id === created.newKeyId).revoked).toBe(true);
    expect(after.defaultKey).toBeTruthy();
    expect(after.defaultKey).not.toBe(created.newKeyId);
    expect(after.revocations).toEqual([expect.objectContaining({ keyId: created.newKeyId, reason: 'test' })]);

    const exported = await runCli(['export', '--ring', 'local'], { cwd, env });
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?><repository><key id=/);
    expect(exported.stdout).toContain('<reason>test</reason>');
    await runCli(['export', '--ring', 'local', '--out', 'ring.xml'], { cwd, env });
    expect(readFileSync(path.join(cwd, 'ring.xml'), 'utf8')).toBe(exported.stdout);

    const verify = await runCli(['verify'], { cwd, env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/all keys verified \(2 keys\)/);
  }, 180_000);

  it.each([
    [['revoke', '--ring', 'local'], /give exactly one of --key ID or --all/],
    [['rotate', '--immediate'], /--immediate goes with --force/],
    [['status', '--at', 'tomorrow'], /not an ISO 8601 time/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['status', '--bogus'], /unknown option --bogus/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await runCli(args, { cwd, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('ringkeeper CLI with a configuration file', () => {
  it('exits 1 on a corrupt ring, names the problem and leaves the blob unchanged', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-cli-'));
    const container = uniqueName('corrupt');
    writeFileSync(path.join(cwd, 'kek.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(
      path.join(cwd, 'ringkeeper.json'),
      JSON.stringify({ rings: [{ name: 'prod', storage: { connectionString: azurite().connectionString }, container, protector: { type: 'rsa', keyFile: 'kek.pem' } }] }),
    );
    const blob = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(container);
    await blob.createIfNotExists();
    const corrupt = '<?xml version="1.0" encoding="utf-8"?><repository><revocation version="1"><revocationDate>2020-01-01T00:00:00Z</revocationDate><key id="{invalid}" /></revocation></repository>';
    const uploaded = await blob.getBlockBlobClient('keys.xml').upload(corrupt, corrupt.length);

    const result = await runCli(['rotate', '--config', 'ringkeeper.json'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ring prod: the key ring is malformed: <revocation> at line 1: <key id="\{invalid\}"> is neither a GUID nor "\*"/);
    const props = await blob.getBlockBlobClient('keys.xml').getProperties();
    expect(props.etag).toBe(uploaded.etag);
    expect((await blob.getBlockBlobClient('keys.xml').downloadToBuffer()).toString()).toBe(corrupt);

    const invalid = await runCli(['status', '--config', 'missing.json'], { cwd });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/configuration error: missing\.json: cannot read the configuration file/);
  });
});
