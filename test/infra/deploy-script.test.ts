/**
 * infra/deploy.sh without Azure: `bash -n`, then a run against fake `az`, `npm`, `zip` and `curl`
 * on PATH that record their arguments. The fake deployment returns the outputs of the evaluated
 * template, so the script is checked against the outputs main.bicep really declares.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFRA, evaluateMain } from './support/checks';
import { installFakeClis, runScript } from './support/fakeClis';

const SCRIPT = path.join(INFRA, 'deploy.sh');

describe('infra/deploy.sh', () => {
  let dir: string;
  let script: string;
  let root: string;
  beforeAll(() => {
    // A scratch copy of the repository layout, so nothing is built or written in the work tree.
    dir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-deploy-'));
    root = path.join(dir, 'repo');
    mkdirSync(path.join(root, 'infra'), { recursive: true });
    script = path.join(root, 'infra/deploy.sh');
    copyFileSync(SCRIPT, script);
    mkdirSync(path.join(root, 'infra/scripts'));
    copyFileSync(path.join(INFRA, 'scripts/initial-rotation.sh'), path.join(root, 'infra/scripts/initial-rotation.sh'));
    for (const f of ['host.json', 'package.json', 'package-lock.json']) writeFileSync(path.join(root, f), '{}');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid bash', async () => {
    const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('refuses to run without RESOURCE_GROUP', async () => {
    const r = await runScript([SCRIPT], { env: { ...process.env, RESOURCE_GROUP: '' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/RESOURCE_GROUP/);
  });

  it('creates the group, deploys, publishes, then rotates every ring before the web apps start', async () => {
    const d = await evaluateMain({ slots: ['staging', 'qa'] });
    const bin = path.join(dir, 'bin');
    const state = path.join(dir, 'state');
    mkdirSync(state, { recursive: true });
    installFakeClis(bin);
    // `az deployment group create --query properties.outputs` prints { name: { type, value } }.
    const outputs = Object.fromEntries(Object.entries(d.outputs).map(([k, value]) => [k, { type: typeof value, value }]));
    writeFileSync(path.join(dir, 'outputs.json'), JSON.stringify(outputs));
    const log = path.join(dir, 'calls.log');
    const configOut = path.join(dir, 'ringkeeper.json');
    const r = await runScript([script, 'slots=["staging","qa"]'], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAKE_LOG: log,
        FAKE_OUTPUTS: path.join(dir, 'outputs.json'),
        FAKE_STATE: state,
        RESOURCE_GROUP: 'rg-test',
        LOCATION: 'swedencentral',
        RETRY_SLEEP_SECONDS: '0',
        RINGKEEPER_CONFIG_OUT: configOut,
      },
    });
    expect(r.status, r.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    const index = (re: RegExp) => calls.findIndex((c) => re.test(c));

    expect(calls[0]).toBe('az version --query "azure-cli" --output tsv');
    expect(calls[1]).toBe('az group create --name rg-test --location swedencentral --output none');
    expect(calls[2]).toBe(
      `az deployment group create --resource-group rg-test --name ringkeeper --template-file ${root}/infra/main.bicep --parameters location=swedencentral slots=["staging","qa"] --query properties.outputs --output json`,
    );
    const build = index(/^npm run build \(in /);
    const prodInstall = index(/^npm ci --omit=dev --omit=optional .*\(in .*\/package\)$/);
    const zip = index(/^zip -qr .*function\.zip \.$/);
    const publish = index(new RegExp(`^az functionapp deployment source config-zip --resource-group rg-test --name ${d.outputs.functionAppName} --src .*function\\.zip`));
    const keys = index(/^az functionapp keys list --resource-group rg-test/);
    expect(index(/^npm ci --no-audit/)).toBeGreaterThan(2);
    expect([build, prodInstall, zip, publish, keys].every((i, n, a) => i > 2 && (n === 0 || i > a[n - 1]!))).toBe(true);

    // Every ring: status (503 while starting, then no key), rotate, status shows a key; in ring order.
    const host = `https://${d.outputs.functionAppHostName}/api/keyrings`;
    const httpCalls = calls.filter((c) => c.startsWith('curl ')).map((c) => c.replace(/ header=.*$/, ''));
    expect(httpCalls).toEqual(
      ['production', 'staging', 'qa'].flatMap((ring) => [
        `curl GET ${host}/${ring}`,
        `curl GET ${host}/${ring}`,
        `curl POST ${host}/${ring}/rotate`,
        `curl GET ${host}/${ring}`,
      ]),
    );
    expect(index(/^curl /)).toBeGreaterThan(publish);
    expect(existsSync(path.join(root, 'dist'))).toBe(true);
    // The function key travels in a header file, never on a command line.
    expect(readFileSync(log, 'utf8')).not.toContain('fake-function-key');
    expect(readFileSync(path.join(state, 'last-header'), 'utf8').trim()).toBe('x-functions-key: fake-function-key');
    // The operator CLI gets the same configuration the Function App runs with.
    expect(JSON.parse(readFileSync(configOut, 'utf8'))).toEqual(d.outputs.ringkeeperConfig);
  });

  /**
   * A run against the fakes with a fresh call log, in a fresh state (seeded with `state`) or in an
   * existing state folder; returns the exit status, stderr and calls.
   */
  async function run(env: Record<string, string>, state: Record<string, string> | string = {}) {
    const stateDir = typeof state === 'string' ? state : mkdtempSync(path.join(dir, 'state-'));
    if (typeof state !== 'string') for (const [k, v] of Object.entries(state)) writeFileSync(path.join(stateDir, k), v);
    const log = path.join(stateDir, 'calls.log');
    writeFileSync(log, '');
    const r = await runScript([script], {
      env: {
        ...process.env,
        PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
        FAKE_LOG: log,
        FAKE_OUTPUTS: path.join(dir, 'outputs.json'),
        FAKE_STATE: stateDir,
        RESOURCE_GROUP: 'rg-test',
        RETRY_SLEEP_SECONDS: '0',
        RINGKEEPER_CONFIG_OUT: path.join(stateDir, 'config.json'),
        ...env,
      },
    });
    return { status: r.status, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('does not rotate a ring that already has a key (re-deploy)', async () => {
    // The state of the run above: every ring has a key now.
    const r = await run({ SKIP_PUBLISH: '1' }, path.join(dir, 'state'));
    expect(r.status, r.stderr).toBe(0);
    const calls = r.calls.join('\n');
    expect(calls).not.toMatch(/POST/);
    expect(calls).not.toMatch(/config-zip|npm /);
    expect(calls.match(/^curl GET /gm)).toHaveLength(3);
  });

  it('refuses an az too old to publish to Flex Consumption, before touching Azure', async () => {
    const r = await run({ FAKE_AZ_VERSION: '2.59.0' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/az 2\.59\.0 is too old: publishing to Flex Consumption needs az 2\.60\.0 or later/);
    expect(r.calls).toEqual(['az version --query "azure-cli" --output tsv']);
    expect((await run({ FAKE_AZ_VERSION: '2.60.0', SKIP_PUBLISH: '1', SKIP_ROTATION: '1' })).status).toBe(0);
    expect((await run({ FAKE_AZ_VERSION: '2.100.1', SKIP_PUBLISH: '1', SKIP_ROTATION: '1' })).status).toBe(0);
  });

  it('retries the publish while it is refused with 403 (role assignments propagating), then rotates', async () => {
    const r = await run({}, { 'publish-403': '2' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('az functionapp deployment source config-zip'))).toHaveLength(3);
    expect(r.stderr.match(/publish refused \(403\) while role assignments propagate/g)).toHaveLength(2);
    expect(r.calls.findIndex((c) => c.startsWith('curl '))).toBeGreaterThan(r.calls.findLastIndex((c) => c.includes('config-zip')));
  });

  it('gives up on a 403 that outlasts PUBLISH_TIMEOUT_SECONDS, and stops at once on any other publish error', async () => {
    const r = await run({ PUBLISH_TIMEOUT_SECONDS: '0' }, { 'publish-403': '5' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/publish still refused \(403\) after 0s/);
    expect(r.calls.some((c) => c.startsWith('curl '))).toBe(false);
    const other = await run({}, { 'publish-error': '1' });
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/publish failed: ERROR: Bad Request \(400\)/);
    expect(other.calls.filter((c) => c.includes('config-zip'))).toHaveLength(1);
  });

  it('fetches the function key inside the retry loop: a failed fetch is retried, never sent as an empty key', async () => {
    const r = await run({ SKIP_PUBLISH: '1' }, { 'keys-fail': '3' });
    expect(r.status, r.stderr).toBe(0);
    const keyCalls = r.calls.filter((c) => c.startsWith('az functionapp keys list'));
    expect(keyCalls).toHaveLength(4);
    // No HTTP call before the key exists, and every one carried it.
    expect(r.calls.findIndex((c) => c.startsWith('curl '))).toBeGreaterThan(r.calls.lastIndexOf(keyCalls.at(-1)!));
    expect(r.stderr.match(/no function key yet/g)).toHaveLength(3);
  });

  it('gives up with the key error when the key never comes', async () => {
    const r = await run({ SKIP_PUBLISH: '1', ROTATION_TIMEOUT_SECONDS: '0' }, { 'keys-fail': '100' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ring production: giving up after 0s \(last: no function key yet \(ERROR: \(NotFound\) host keys/);
    expect(r.calls.some((c) => c.startsWith('curl '))).toBe(false);
  });
});
