import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { rewrapKeyring } from '../../../functions/rewrapKeyring';
import { rotateKeyring } from '../../../functions/rotateKeyring';
import { azurite, uniqueName } from '../../support/storage';

const workDir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-rewrap-fn-'));
const kek = (name: string) => {
  const file = path.join(workDir, name);
  writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return file;
};
const logs: string[] = [];
const context = (functionName: string) => new InvocationContext({ functionName, invocationId: uniqueName('inv'), logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(' ')}`) });
const request = (ring: string, body?: string) =>
  new HttpRequest({
    method: 'POST',
    url: `http://localhost:7071/api/keyrings/${ring}/rewrap`,
    params: { ring },
    body: body === undefined ? undefined : { string: body },
    headers: { 'content-type': 'application/json' },
  });
const bodyOf = (r: HttpResponseInit): any => r.jsonBody ?? JSON.parse(String(r.body));

describe('POST /api/keyrings/{ring}/rewrap', () => {
  it('re-wraps under the configured key, honours dryRun, answers refusals and bad bodies with problem+json', async () => {
    const container = uniqueName('rwfn');
    const configure = (protector: object) => {
      process.env.RINGKEEPER_CONFIG_JSON = JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [{ name: 'production', container, protector }] });
    };
    configure({ type: 'none' });
    expect((await rotateKeyring(request('production'), context('rotate-keyring'))).status).toBe(200);
    const blob = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(container).getBlockBlobClient('keys.xml');
    const plain = (await blob.downloadToBuffer()).toString('utf8');
    expect(plain).toContain('<masterKey');

    // Re-wrapping into "none" is refused: it would store every master key unencrypted.
    const refused = await rewrapKeyring(request('production'), context('rewrap-keyring'));
    expect(refused.status).toBe(409);
    expect(bodyOf(refused)).toMatchObject({ code: 'rewrap_refused' });

    configure({ type: 'rsa', keyFile: kek('kek.pem') });
    const dry = await rewrapKeyring(request('production', '{"dryRun":true}'), context('rewrap-keyring'));
    expect(dry.status).toBe(200);
    expect(bodyOf(dry)).toMatchObject({ dryRun: true, rewrapped: [{ from: null }] });
    expect((await blob.downloadToBuffer()).toString('utf8')).toBe(plain);

    const done = await rewrapKeyring(request('production', ''), context('rewrap-keyring'));
    expect(bodyOf(done)).toMatchObject({ ring: 'production', dryRun: false, rewrapped: [{ from: null }] });
    const wrapped = (await blob.downloadToBuffer()).toString('utf8');
    expect(wrapped).not.toContain('<masterKey');
    // The master key never shows in the response or the logs.
    const secret = /<value>([^<]+)<\/value>/.exec(plain)![1]!;
    for (const text of [JSON.stringify(dry), JSON.stringify(done), ...logs]) expect(text).not.toContain(secret);

    const bad = await rewrapKeyring(request('production', '{"dryrun":true}'), context('rewrap-keyring'));
    expect(bad.status).toBe(400);
    expect(bodyOf(bad)).toMatchObject({ code: 'invalid_request' });
    const unknown = await rewrapKeyring(request('nope'), context('rewrap-keyring'));
    expect(unknown.status).toBe(404);
  });
});
