/**
 * `azd up`: azure.yaml names the service and the hook, the template carries what azd looks for
 * (environmentName/location parameters, azd-env-name and azd-service-name tags), and the postdeploy
 * hook, run as azd runs it (the environment's values in the process environment) against fake
 * `az` and `curl`, writes a first key into every ring exactly like deploy.sh.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from './support/bicepEvaluator';
import { BICEP, compileMain } from './support/bicepCli';
import { AZD_ENV, INFRA, evaluateMain, functionApp } from './support/checks';
import { installFakeClis, runScript } from './support/fakeClis';

const ROOT = path.resolve(INFRA, '..');
const HOOK = path.join(INFRA, 'hooks/postdeploy.sh');

describe('azure.yaml', () => {
  const yaml = readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8');

  it('declares the ringkeeper service (function host, js), the Bicep infra and the postdeploy hook', () => {
    expect(yaml).toMatch(/^services:\n {2}ringkeeper:\n {4}project: \.\n {4}language: js\n {4}host: function\n/m);
    expect(yaml).toMatch(/^infra:\n {2}provider: bicep\n {2}path: infra\n {2}module: main\n/m);
    expect(yaml).toMatch(/^hooks:\n {2}postdeploy:\n {4}posix:\n {6}shell: sh\n {6}run: bash infra\/hooks\/postdeploy\.sh\n/m);
    expect(statSync(HOOK).isFile()).toBe(true);
    expect(spawnSync('bash', ['-n', HOOK]).status).toBe(0);
  });

  it('main.parameters.json takes only values azd provides (${AZURE_ENV_NAME}, ${AZURE_LOCATION})', () => {
    const text = readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8');
    const placeholders = [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]);
    expect(placeholders.sort()).toEqual(['AZURE_ENV_NAME', 'AZURE_LOCATION']);
    expect(text).toMatch(/"environmentName": \{ "value": "\$\{AZURE_ENV_NAME\}" \}/);
    expect(text).toMatch(/"location": \{ "value": "\$\{AZURE_LOCATION\}" \}/);
  });

  it.skipIf(!BICEP)('the location parameter is an azd location picker (compiled ARM JSON)', { timeout: 180_000 }, async () => {
    const { arm } = await compileMain();
    expect(arm.parameters.location.metadata.azd).toEqual({ type: 'location' });
    expect(arm.parameters.environmentName.maxLength).toBe(64);
  });
});

describe('template tags for azd', () => {
  let d: EvaluationResult;
  beforeAll(async () => {
    d = await evaluateMain();
  });

  it('tags the Function App azd-service-name=ringkeeper, and nothing else', () => {
    expect(functionApp(d).body.tags['azd-service-name']).toBe('ringkeeper');
    expect(d.resources.filter((r) => r.body.tags?.['azd-service-name'] !== undefined)).toEqual([functionApp(d)]);
  });

  it('tags every taggable resource with the azd environment, and none without one', async () => {
    const taggable = d.resources.filter((r) => r.body.location !== undefined);
    expect(taggable.length).toBeGreaterThan(8);
    expect(taggable.filter((r) => r.body.tags?.['azd-env-name'] !== AZD_ENV.AZURE_ENV_NAME).map((r) => r.id)).toEqual([]);
    const plain = await evaluateMain({ environmentName: '' });
    expect(plain.resources.filter((r) => r.body.tags?.['azd-env-name'] !== undefined)).toEqual([]);
  });
});

describe('infra/hooks/postdeploy.sh with a fake azd environment', () => {
  let dir: string;
  let root: string;
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ringkeeper-azd-'));
    root = path.join(dir, 'repo');
    for (const f of ['hooks/postdeploy.sh', 'scripts/initial-rotation.sh']) {
      mkdirSync(path.dirname(path.join(root, 'infra', f)), { recursive: true });
      copyFileSync(path.join(INFRA, f), path.join(root, 'infra', f));
    }
    installFakeClis(path.join(dir, 'bin'));
    outputs = (await evaluateMain({ slots: ['staging', 'qa'] })).outputs;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** azd's environment after provisioning: its own values plus one value per output, JSON for arrays and objects. */
  function azdEnvironment(rename: (name: string) => string = (n) => n): Record<string, string> {
    const env: Record<string, string> = { ...AZD_ENV, AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-0000000000aa' };
    for (const [k, v] of Object.entries(outputs)) env[rename(k)] = typeof v === 'string' ? v : JSON.stringify(v);
    return env;
  }

  async function runHook(env: Record<string, string>) {
    const state = mkdtempSync(path.join(dir, 'state-'));
    const log = path.join(state, 'calls.log');
    const configOut = path.join(state, 'config.json');
    const r = await runScript([path.join(root, 'infra/hooks/postdeploy.sh')], {
      cwd: root,
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, FAKE_LOG: log, FAKE_STATE: state, RETRY_SLEEP_SECONDS: '0', RINGKEEPER_CONFIG_OUT: configOut, ...env },
    });
    const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
    return { ...r, calls, configOut, state };
  }

  it('rotates every ring through the deployed API, like deploy.sh, and writes the operator config', async () => {
    const r = await runHook({ ...azdEnvironment(), AZURE_RESOURCE_GROUP: 'rg-azd' });
    expect(r.status, r.stderr).toBe(0);
    const host = `https://${outputs.functionAppHostName}/api/keyrings`;
    expect(r.calls[0]).toBe(`az functionapp keys list --resource-group rg-azd --name ${outputs.functionAppName} --query functionKeys.default --output tsv`);
    expect(r.calls.filter((c) => c.startsWith('curl ')).map((c) => c.replace(/ header=.*$/, ''))).toEqual(
      ['production', 'staging', 'qa'].flatMap((ring) => [`curl GET ${host}/${ring}`, `curl GET ${host}/${ring}`, `curl POST ${host}/${ring}/rotate`, `curl GET ${host}/${ring}`]),
    );
    expect(readFileSync(path.join(r.state, 'last-header'), 'utf8').trim()).toBe('x-functions-key: fake-function-key');
    expect(JSON.parse(readFileSync(r.configOut, 'utf8'))).toEqual(outputs.ringkeeperConfig);
  });

  it('reads output names whatever their case, and the resource group from the outputs when azd has none', async () => {
    const r = await runHook(azdEnvironment((n) => n.toUpperCase()));
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls[0]).toContain(`--resource-group ${outputs.resourceGroupName} --name ${outputs.functionAppName}`);
    expect(r.calls.filter((c) => c.startsWith('curl POST'))).toHaveLength(3);
  });

  it('fails clearly before any call when the environment lacks the outputs (not provisioned)', async () => {
    const r = await runHook({ ...AZD_ENV, AZURE_RESOURCE_GROUP: 'rg-azd' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/the azd environment has no functionAppName \(run azd provision first\)/);
    expect(r.calls).toEqual([]);
  });
});
