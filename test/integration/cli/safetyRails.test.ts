import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteProcess } from '../../../shared/azure/azurite';
import { COMMANDS } from '../../../shared/cli/main';
import { freePort, jsonLines, runCli } from '../../support/cli';
import { azurite, uniqueName } from '../../support/storage';

const DRILL_REVOCATION =
  '<revocation version="1"><revocationDate>2030-01-01T00:00:00Z</revocationDate><!-- All keys created before the revocation date are revoked. --><key id="*" /><reason>drill</reason></revocation>';

function pem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** A folder with a config naming one ring in the shared test Azurite, protected by ./kek.pem. */
function configuredFolder(options: { generate?: boolean; writeKey?: boolean } = {}) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-rails-'));
  const container = uniqueName('rails');
  if (options.writeKey !== false) writeFileSync(path.join(cwd, 'kek.pem'), pem());
  writeFileSync(
    path.join(cwd, 'cfg.json'),
    JSON.stringify({
      rings: [
        { name: 'prod', storage: { connectionString: azurite().connectionString }, container, protector: { type: 'rsa', keyFile: './kek.pem', ...(options.generate ? { generate: true } : {}) } },
      ],
    }),
  );
  const containerClient = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(container);
  const blob = containerClient.getBlockBlobClient('keys.xml');
  return { cwd, blob, createContainer: () => containerClient.createIfNotExists(), cli: (...args: string[]) => runCli([...args, '--config', 'cfg.json'], { cwd }) };
}

describe('#11 item 1: drills never damage a ring', () => {
  it('revoke --all --now 2030 is a dry run; with --allow-clock-override a future mass revocation is refused; the blob is untouched', async () => {
    const { blob, cli } = configuredFolder();
    expect((await cli('rotate')).code).toBe(0);
    const before = await blob.getProperties();

    const drill = await cli('revoke', '--ring', 'prod', '--all', '--now', '2030-01-01T00:00:00Z', '--json');
    expect(drill.code, drill.stderr).toBe(0);
    expect(jsonLines(drill.stdout)[0]).toMatchObject({ action: 'revoked', dryRun: true, etag: before.etag });
    const text = await cli('revoke', '--ring', 'prod', '--all', '--now', '2030-01-01T00:00:00Z');
    expect(text.stdout).toMatch(/dry run: --now implies --dry-run; add --allow-clock-override to write/);

    const forced = await cli('revoke', '--ring', 'prod', '--all', '--now', '2030-01-01T00:00:00Z', '--allow-clock-override');
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/refusing to write a revocation of all keys dated 2030-01-01T00:00:00Z, after the real clock/);
    expect((await blob.getProperties()).etag).toBe(before.etag);

    // --now in the past with the override writes (tests walking through time), as before.
    const past = await cli('rotate', '--force', '--now', new Date(Date.now() - 60_000).toISOString(), '--allow-clock-override', '--json');
    expect(past.code, past.stderr).toBe(0);
    expect(jsonLines(past.stdout)[0]).toMatchObject({ action: 'forced', dryRun: false });
  }, 120_000);

  it('a ring drilled on main (mass revocation dated 2030) is critical (exit 1), rotate names repair, repair restores a usable key', async () => {
    const { blob, cli } = configuredFolder();
    expect((await cli('rotate')).code).toBe(0);
    const ring = (await blob.downloadToBuffer()).toString('utf8').replace('</repository>', `${DRILL_REVOCATION}</repository>`);
    await blob.upload(ring, Buffer.byteLength(ring));

    const status = await cli('status', '--json');
    expect(status.code).toBe(1);
    const [s] = jsonLines(status.stdout);
    expect(s.health).toBe('critical');
    expect(s.problems.map((p: any) => p.code)).toContain('future_mass_revocation');

    const rotate = await cli('rotate', '--force', '--immediate');
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/ringkeeper repair/);

    const dry = await cli('repair', '--ring', 'prod', '--dry-run', '--json');
    expect(jsonLines(dry.stdout)[0]).toMatchObject({ dryRun: true });
    expect((await blob.downloadToBuffer()).toString('utf8')).toBe(ring);

    const repair = await cli('repair', '--ring', 'prod', '--json');
    expect(repair.code, repair.stderr).toBe(0);
    const [r] = jsonLines(repair.stdout);
    expect(r.newKeys).toHaveLength(1);
    const [after] = jsonLines((await cli('status', '--json')).stdout);
    expect(after.health).not.toBe('critical');
    expect(after.defaultKey).toBe(r.newKeyId);
    expect(after.revocations).toContainEqual(expect.objectContaining({ keyId: '*', reason: expect.stringMatching(/re-dated a revocation of all keys dated 2030-01-01T00:00:00Z/) }));
    expect((await cli('verify')).code).toBe(0);
  }, 120_000);

  it('a BOM-only blob: status says apps cannot read it (critical, exit 1), rotate refuses, repair writes a new ring', async () => {
    const { blob, cli, createContainer } = configuredFolder();
    await createContainer();
    await blob.upload(Buffer.from([0xef, 0xbb, 0xbf]), 3);
    const status = await cli('status', '--json');
    expect(status.code).toBe(1);
    expect(jsonLines(status.stdout)[0]).toMatchObject({ ring: 'prod', health: 'critical', error: { code: 'keyring_malformed' } });
    expect(status.stderr).toMatch(/health critical: .*apps cannot read this ring/);
    expect((await cli('rotate')).code).toBe(1);
    expect((await blob.downloadToBuffer()).length).toBe(3);
    const repair = await cli('repair', '--ring', 'prod');
    expect(repair.code, repair.stderr).toBe(0);
    const [after] = jsonLines((await cli('status', '--json')).stdout);
    expect(after.defaultKey).toBeTruthy();
  }, 120_000);
});

describe('#11 item 2: no write under a KEK the ring was not written with', () => {
  it('refuses a new key under another RSA key unless --allow-new-kek; the blob is untouched', async () => {
    const { cwd, blob, cli } = configuredFolder();
    expect((await cli('rotate')).code).toBe(0);
    const before = await blob.getProperties();
    writeFileSync(path.join(cwd, 'kek.pem'), pem());

    const refused = await cli('rotate', '--force');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /refusing to write: the configured key encryption key urn:ringkeeper:rsa:sha256:\S+ is not the one the ring's newest key \{[0-9a-f-]+\} is wrapped by \(urn:ringkeeper:rsa:sha256:\S+\).*--allow-new-kek/,
    );
    expect((await blob.getProperties()).etag).toBe(before.etag);

    const allowed = await cli('rotate', '--force', '--allow-new-kek');
    expect(allowed.code, allowed.stderr).toBe(0);
    // The newest key now names the new KEK: later rotations need no flag.
    expect((await cli('rotate', '--force')).code).toBe(0);
  }, 120_000);

  describe('the embedded local default and an Azurite it did not start', () => {
    let shared: AzuriteProcess;
    let env: NodeJS.ProcessEnv;
    beforeAll(async () => {
      shared = await startAzurite({ blobPort: await freePort(), queuePort: await freePort() });
      env = { RINGKEEPER_CONFIG: '', RINGKEEPER_LOCAL_BLOB_PORT: new URL(shared.blobEndpoint).port, RINGKEEPER_LOCAL_QUEUE_PORT: new URL(shared.queueEndpoint).port };
    });
    afterAll(async () => {
      await shared?.stop();
    });

    it('names the Azurite on status and refuses another checkout whose ring was written under another local KEK', async () => {
      const first = mkdtempSync(path.join(tmpdir(), 'ringkeeper-checkout-a-'));
      const second = mkdtempSync(path.join(tmpdir(), 'ringkeeper-checkout-b-'));
      expect((await runCli(['rotate'], { cwd: first, env })).code).toBe(0);

      const status = await runCli(['status'], { cwd: first, env });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(`local default: Azurite at ${shared.blobEndpoint} (already running, not started by this command`);
      const [json] = jsonLines((await runCli(['status', '--json'], { cwd: first, env })).stdout);
      expect(json.azurite).toEqual({ endpoint: shared.blobEndpoint, startedByThisCommand: false });

      const other = await runCli(['rotate', '--force'], { cwd: second, env });
      expect(other.code).toBe(2);
      expect(other.stderr).toMatch(/the Azurite already running at .* holds a ring "local" wrapped by another local key .* it belongs to another checkout/);
      expect(existsSync(path.join(second, '.ringkeeper', 'kek.pem')), 'no key file is created just to compare').toBe(false);
      expect((await runCli(['verify'], { cwd: first, env })).code).toBe(0);
    }, 120_000);
  });
});

describe('#11 item 9: concurrent first use of a generated local KEK', () => {
  it('four rotate runs at once all succeed and share one key file', async () => {
    const { cwd, cli } = configuredFolder({ generate: true, writeKey: false });
    const runs = await Promise.all([cli('rotate', '--json'), cli('rotate', '--json'), cli('rotate', '--json'), cli('rotate', '--json')]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs.flatMap((r) => jsonLines(r.stdout)).filter((r) => r.action === 'bootstrap')).toHaveLength(1);
    expect(readFileSync(path.join(cwd, 'kek.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect((await cli('verify')).code).toBe(0);
  }, 120_000);
});

describe('#11 item 6: CLI conventions', () => {
  it.each(Object.entries(COMMANDS))('%s --help prints its help and exits 0', async (name, command) => {
    const result = await runCli([name, '--help'], { cwd: tmpdir() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(command.help.split('\n')[0]!);
  });

  it('status exits 1 when a ring shown is critical (no usable key)', async () => {
    const { blob, cli, createContainer } = configuredFolder();
    await createContainer();
    const expired =
      '<?xml version="1.0" encoding="utf-8"?><repository><key id="80000000-0000-4000-8000-000000000001" version="1"><creationDate>2020-01-01T00:00:00Z</creationDate><activationDate>2020-01-01T00:00:00Z</activationDate><expirationDate>2020-04-01T00:00:00Z</expirationDate><descriptor deserializerType="x"><descriptor><encryption algorithm="AES_256_CBC" /><validation algorithm="HMACSHA256" /><masterKey xmlns:p4="http://schemas.asp.net/2015/03/dataProtection" p4:requiresEncryption="true"><value>AAAA</value></masterKey></descriptor></descriptor></key></repository>';
    await blob.upload(expired, expired.length);
    const status = await cli('status', '--json');
    expect(jsonLines(status.stdout)[0].health).toBe('critical');
    expect(status.code).toBe(1);
  });

  it('the same error class has the same exit code: unknown ring, unknown channel (publish and tail) are 2', async () => {
    const { cli } = configuredFolder();
    const ring = await cli('status', '--ring', 'PROD');
    expect(ring.code).toBe(2);
    expect(ring.stderr).toMatch(/unknown ring "PROD" \(configured: prod; names are case-sensitive\)/);
    const cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-rails-'));
    const cfg = path.join(cwd, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [], cache: { channels: [{ name: 'production' }] } }));
    const publish = await runCli(['cache', 'publish', '--channel', 'nope', '--json', '{"refresher":"x","type":"RefreshAll"}', '--config', cfg], { cwd });
    const tail = await runCli(['cache', 'tail', '--channel', 'nope', '--config', cfg], { cwd });
    expect([publish.code, tail.code], publish.stderr + tail.stderr).toEqual([2, 2]);
  });

  it('status --at refuses an impossible date (exit 2)', async () => {
    const { cli } = configuredFolder();
    const result = await cli('status', '--at', '2027-02-30T00:00:00Z');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--at "2027-02-30T00:00:00Z" is not an ISO 8601 time \(or not a date that exists\)/);
  });

  it('export --out refuses to overwrite an existing file without --force', async () => {
    const { cwd, cli } = configuredFolder();
    expect((await cli('rotate')).code).toBe(0);
    writeFileSync(path.join(cwd, 'ring.xml'), 'precious');
    const refused = await cli('export', '--ring', 'prod', '--out', 'ring.xml');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ring.xml already exists; pass --force to overwrite it/);
    expect(readFileSync(path.join(cwd, 'ring.xml'), 'utf8')).toBe('precious');
    expect((await cli('export', '--ring', 'prod', '--out', 'ring.xml', '--force')).code).toBe(0);
    expect(readFileSync(path.join(cwd, 'ring.xml'), 'utf8')).toMatch(/^<\?xml/);
    expect(existsSync(path.join(cwd, 'ring.xml'))).toBe(true);
  });
});
