/**
 * The infrastructure, evaluated as a deployment (support/bicepEvaluator.ts) for several slot
 * lists: isolation per slot, the Function App's rights, role GUIDs, security baseline, sticky
 * settings and the generated ringkeeper configuration.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBicep, type EvaluationResult } from './support/bicepEvaluator';
import {
  API_VERSIONS,
  INFRA,
  appSettings,
  assignments,
  checkCacheChannelIsolation,
  checkFunctionAppRights,
  checkGeneratedConfig,
  checkRoleDefinitions,
  checkSecurityBaseline,
  checkSlotIsolation,
  checkStickySettings,
  covers,
  evaluateMain,
  functionApp,
  rings,
} from './support/checks';

function bicepFiles(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? bicepFiles(path.join(dir, e.name)) : e.name.endsWith('.bicep') ? [path.join(dir, e.name)] : [],
  );
}

describe('infra: every template parses', () => {
  it.each(bicepFiles().map((f) => [path.relative(INFRA, f), f]))('%s has no syntax errors', async (_name, file) => {
    const parsed = await parseBicep(file, readFileSync(file, 'utf8'));
    expect(parsed.errors).toEqual([]);
  });
});

const cases: { label: string; slots: string[] | undefined; rings: string[] }[] = [
  { label: 'main.parameters.json (staging)', slots: undefined, rings: ['production', 'staging'] },
  { label: "slots ['staging','qa']", slots: ['staging', 'qa'], rings: ['production', 'staging', 'qa'] },
  { label: "slots ['staging','canary','qa']", slots: ['staging', 'canary', 'qa'], rings: ['production', 'staging', 'canary', 'qa'] },
  { label: 'no slots', slots: [], rings: ['production'] },
];

describe.each(cases)('infra evaluated with $label', ({ slots, rings: expected }) => {
  let d: EvaluationResult;
  beforeAll(async () => {
    d = await evaluateMain(slots === undefined ? {} : { slots });
  });

  it('gives each slot its own container and key, readable only by that slot', () => {
    expect(checkSlotIsolation(d, expected)).toEqual([]);
  });

  it('lets each site and slot reach only its own cache channel (queue messages and journal paths, by ABAC conditions)', () => {
    expect(checkCacheChannelIsolation(d, expected)).toEqual([]);
  });

  it('gives the Function App exactly its rights on every ring and cache queue and its host storage', () => {
    expect(checkFunctionAppRights(d)).toEqual([]);
  });

  it('uses only documented built-in role GUIDs', () => {
    expect(checkRoleDefinitions(d)).toEqual([]);
  });

  it('meets the security baseline (RBAC + purge protection, HTTPS only, TLS 1.2, no keys)', () => {
    expect(checkSecurityBaseline(d)).toEqual([]);
  });

  it('keeps every slot\'s key ring and channel settings sticky', () => {
    expect(checkStickySettings(d)).toEqual([]);
  });

  it('generates RINGKEEPER_CONFIG_JSON from the slot list, matching the slots\' settings', () => {
    expect(checkGeneratedConfig(d, expected)).toEqual([]);
  });

  it('has one ring, container, key, channel and four role assignments per slot', () => {
    const { rings: rs } = rings(d);
    expect(rs.map((r) => r.name)).toEqual(expected);
    const count = (type: string) => d.resources.filter((r) => r.type === type).length;
    expect(count('Microsoft.KeyVault/vaults/keys')).toBe(expected.length);
    expect(count('Microsoft.Web/sites/slots')).toBe(expected.length - 1);
    const ringContainers = new Set(rs.map((r) => r.container));
    expect(d.resources.filter((r) => ringContainers.has(r.id))).toHaveLength(expected.length);
    for (const ring of rs) {
      const onRing = assignments(d).filter((a) => covers(a.scope, ring.container) || covers(a.scope, ring.key));
      expect(onRing.map((a) => `${a.roleName}@${a.scope === ring.container ? 'container' : 'key'}:${a.principal === ring.reader ? 'slot' : a.principal === functionApp(d).id ? 'func' : a.principal}`).sort()).toEqual([
        'keyVaultCryptoServiceEncryptionUser@key:func',
        'keyVaultCryptoServiceEncryptionUser@key:slot',
        'storageBlobDataContributor@container:func',
        'storageBlobDataReader@container:slot',
      ]);
    }
  });

  it('pins the documented API versions', () => {
    const wrong = d.resources.concat(d.existing).filter((r) => API_VERSIONS[r.type] !== r.apiVersion).map((r) => `${r.type}@${r.apiVersion}`);
    expect(wrong).toEqual([]);
  });

  it('runs the Function App on Flex Consumption (one app per plan, Node 20/22, system identity)', () => {
    const func = functionApp(d);
    const plans = d.resources.filter((r) => r.type === 'Microsoft.Web/serverfarms');
    const flex = plans.find((p) => p.id === func.body.properties.serverFarmId)!;
    expect(flex.body.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(flex.body.properties.reserved).toBe(true);
    expect(d.resources.filter((r) => r.body.properties?.serverFarmId === flex.id)).toEqual([func]);
    expect(func.body.kind).toBe('functionapp,linux');
    expect(func.body.identity).toEqual({ type: 'SystemAssigned' });
    expect(func.body.properties.functionAppConfig.runtime.name).toBe('node');
    expect(['20', '22']).toContain(func.body.properties.functionAppConfig.runtime.version);
    // Flex takes the runtime from functionAppConfig; these settings are not used there.
    expect(Object.keys(appSettings(func))).not.toContain('FUNCTIONS_WORKER_RUNTIME');
    const web = plans.find((p) => p !== flex)!;
    expect(web.body.sku.name).toMatch(/^(S[1-3]|P[0-3]v3)$/); // slots need Standard or Premium
  });
});

describe('infra: adding a slot is a one-parameter change', () => {
  it("adding 'qa' adds exactly its container, key, slot and eight role assignments (four for its ring, four for its channel)", async () => {
    const before = await evaluateMain();
    const after = await evaluateMain({ slots: ['staging', 'qa'] });
    const ids = (d: EvaluationResult) => new Set(d.resources.map((r) => r.id));
    const added = after.resources.filter((r) => !ids(before).has(r.id));
    const removed = before.resources.filter((r) => !ids(after).has(r.id));
    expect(removed).toEqual([]);
    const describeRes = (r: (typeof added)[number]) =>
      r.type === 'Microsoft.Authorization/roleAssignments' ? `roleAssignment@${String(r.body.scope).split('/').pop()}` : `${r.type}:${r.name.split('/').pop()}`;
    expect(added.map(describeRes).sort()).toEqual([
      'Microsoft.KeyVault/vaults/keys:dp-kek-qa',
      'Microsoft.Storage/storageAccounts/blobServices/containers:dp-qa',
      'Microsoft.Web/sites/slots:qa',
      'roleAssignment@cache-instructions',
      'roleAssignment@cache-journal',
      'roleAssignment@cache-journal',
      'roleAssignment@dp-kek-qa',
      'roleAssignment@dp-kek-qa',
      'roleAssignment@dp-qa',
      'roleAssignment@dp-qa',
      `roleAssignment@${String(after.resources.find((r) => r.type === 'Microsoft.Storage/storageAccounts' && r.name.startsWith('sth'))!.name)}`,
    ]);
    expect(checkSlotIsolation(after, ['production', 'staging', 'qa'])).toEqual([]);
  });
});

describe('infra: the slots parameter is validated by the template itself', () => {
  it.each([
    [['production'], /'production' is the site itself/],
    [['staging', 'qa', 'staging'], /slot 'staging' is listed twice/],
    [['staging-qa'], /slot 'staging-qa' must be 1-24 lowercase letters and digits/],
    [['Staging'], /slot 'Staging' must be/],
    [['2nd'], /slot '2nd' must be/],
    [[''], /slot '' must be/],
    [['a'.repeat(25)], /must be 1-24/],
  ])('refuses %j', async (slots, message) => {
    await expect(evaluateMain({ slots })).rejects.toThrow(message);
  });

  it('names every bad entry at once', async () => {
    await expect(evaluateMain({ slots: ['production', 'ok', 'Bad', 'ok'] })).rejects.toThrow(/Invalid slots parameter: slot 'Bad' must be .*; 'production' is the site itself, not a slot; slot 'ok' is listed twice/);
  });

  it('accepts 24 lowercase letters and digits', async () => {
    const d = await evaluateMain({ slots: [`s${'0'.repeat(23)}`] });
    expect(rings(d).rings.map((r) => r.name)).toEqual(['production', `s${'0'.repeat(23)}`]);
  });
});

describe('infra: a redeploy after the resource group was deleted can recover the soft-deleted vault', () => {
  const vault = (d: EvaluationResult) => d.resources.find((r) => r.type === 'Microsoft.KeyVault/vaults')!;

  it("creates by default and passes keyVaultCreateMode='recover' through to the vault", async () => {
    expect(vault(await evaluateMain()).body.properties.createMode).toBe('default');
    const recovered = await evaluateMain({ keyVaultCreateMode: 'recover' });
    expect(vault(recovered).body.properties.createMode).toBe('recover');
    // Recovery keeps the vault's name and the same keys, so the rings' key ids do not change.
    expect(vault(recovered).id).toBe(vault(await evaluateMain()).id);
    expect(recovered.outputs.rings.map((r: { keyId: string }) => r.keyId)).toEqual((await evaluateMain()).outputs.rings.map((r: { keyId: string }) => r.keyId));
  });

  it('refuses any other create mode', async () => {
    await expect(evaluateMain({ keyVaultCreateMode: 'purgeThenCreate' })).rejects.toThrow(/keyVaultCreateMode.*@allowed/);
  });
});
