import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { getKeyringTimeline } from '../../../functions/getKeyringTimeline';
import { parseXml } from '../../../shared/keyring/xml/parseXml';
import { attribute, elementChildren, type XmlElement } from '../../../shared/keyring/xml/XmlNode';
import { jsonLines, runCli } from '../../support/cli';
import { azurite, uniqueName } from '../../support/storage';

const walk = (e: XmlElement): XmlElement[] => elementChildren(e).flatMap((c) => [c, ...walk(c)]);
const keyGroups = (svg: string) => walk(parseXml(svg).root).filter((e) => (attribute(e, 'class') ?? '').split(' ').includes('key'));

/** Key rows of a timeline SVG, in drawing order: [id, revoked]. */
function rowsOf(svg: string): Array<[string, boolean]> {
  return keyGroups(svg).map((e) => [attribute(e, 'data-key-id')!, attribute(e, 'data-revoked') === 'true']);
}

/** The ids the picture marks as the key apps use now and after propagation. */
function marked(svg: string, mark: 'default-now' | 'default-later'): string[] {
  return keyGroups(svg)
    .filter((g) => elementChildren(g).some((c) => attribute(c, 'class') === `mark-${mark}`))
    .map((g) => attribute(g, 'data-key-id')!);
}

describe('the timeline picture from the CLI and the HTTP API', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'ringkeeper-timeline-'));
  const keyFile = path.join(cwd, 'kek.pem');
  writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const config = JSON.stringify({ storage: { connectionString: azurite().connectionString }, rings: [{ name: 'production', container: uniqueName('timeline'), protector: { type: 'rsa', keyFile } }] });
  writeFileSync(path.join(cwd, 'ringkeeper.json'), config);
  const env = { RINGKEEPER_CONFIG: '', RINGKEEPER_CONFIG_JSON: '' };

  it('status --ring R --svg FILE writes the ring the status describes; GET keyrings/{ring}/timeline.svg serves the same rows', async () => {
    const cli = (args: string[]) => runCli([...args, '--config', 'ringkeeper.json'], { cwd, env });
    const [first] = jsonLines((await cli(['rotate', '--json'])).stdout);
    const [forced] = jsonLines((await cli(['rotate', '--force', '--json'])).stdout);
    expect((await cli(['revoke', '--ring', 'production', '--key', first.newKeyId])).code).toBe(0);

    const status = await cli(['status', '--ring', 'production', '--svg', 'ring.svg', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const [s] = jsonLines(status.stdout);
    expect(status.stderr).toBe('ring production: timeline picture written to ring.svg\n');
    const svg = readFileSync(path.join(cwd, 'ring.svg'), 'utf8');
    const rows = rowsOf(svg);
    // The revocation wrote a replacement key: three keys, ordered by activation.
    expect(rows).toHaveLength(s.keys.length);
    const byActivation = [...s.keys].sort((a: any, b: any) => a.activationDate.localeCompare(b.activationDate) || a.creationDate.localeCompare(b.creationDate) || a.id.localeCompare(b.id));
    expect(rows).toEqual(byActivation.map((k: any) => [k.id, k.revoked]));
    expect(rows.find(([id]) => id === first.newKeyId)![1]).toBe(true);
    expect(rows.find(([id]) => id === forced.newKeyId)![1]).toBe(false);
    // The marks agree with status (one resolution rule for both).
    expect(marked(svg, 'default-now')).toEqual([s.defaultKey]);
    expect(marked(svg, 'default-later')).toEqual([s.defaultKeyAfterPropagation]);

    process.env.RINGKEEPER_CONFIG_JSON = config;
    try {
      const response = await getKeyringTimeline(
        new HttpRequest({ method: 'GET', url: 'http://localhost/api/keyrings/production/timeline.svg', params: { ring: 'production' } }),
        new InvocationContext({ functionName: 'get-keyring-timeline' }),
      );
      expect(response.status).toBe(200);
      expect((response.headers as Record<string, string>)['content-type']).toBe('image/svg+xml; charset=utf-8');
      expect(rowsOf(String(response.body))).toEqual(rows);
      const missing = await getKeyringTimeline(
        new HttpRequest({ method: 'GET', url: 'http://localhost/api/keyrings/nope/timeline.svg', params: { ring: 'nope' } }),
        new InvocationContext({ functionName: 'get-keyring-timeline' }),
      );
      expect(missing.status).toBe(404);
    } finally {
      delete process.env.RINGKEEPER_CONFIG_JSON;
    }
  });

  it('refuses --svg without --ring (usage error, exit 2)', async () => {
    const result = await runCli(['status', '--svg', 'x.svg', '--config', 'ringkeeper.json'], { cwd, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--svg FILE draws one ring: give --ring NAME');
  });
});
