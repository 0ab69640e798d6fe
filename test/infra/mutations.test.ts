/**
 * Each check must be able to fail: a targeted mutation of the templates (the kind of mistake a
 * reviewer would miss) must produce a violation, while the unmutated templates produce none.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvaluationResult } from './support/bicepEvaluator';
import {
  INFRA,
  checkFunctionAppRights,
  checkGeneratedConfig,
  checkRoleDefinitions,
  checkSecurityBaseline,
  checkSlotIsolation,
  checkStickySettings,
  evaluateMain,
} from './support/checks';

const SLOTS = ['staging', 'qa'];
const RINGS = ['production', ...SLOTS];

interface Mutation {
  name: string;
  file: string;
  from: string;
  to: string;
  check: (d: EvaluationResult) => string[];
  expect: RegExp;
}

const isolation = (d: EvaluationResult) => checkSlotIsolation(d, RINGS);
const config = (d: EvaluationResult) => checkGeneratedConfig(d, RINGS);

const mutations: Mutation[] = [
  {
    name: "slot reader scoped to the whole key ring account",
    file: 'modules/keyring-access.bicep',
    from: "  name: guid(container.id, readerPrincipalId, roles.storageBlobDataReader)\n  scope: container",
    to: "  name: guid(container.id, readerPrincipalId, roles.storageBlobDataReader)\n  scope: account",
    check: isolation,
    expect: /covers .*'s .*containers\/dp-/,
  },
  {
    name: "every slot reads production's container",
    file: 'main.bicep',
    from: 'containerName: keyRingContainerNames[i]\n      keyVaultName',
    to: 'containerName: keyRingContainerNames[0]\n      keyVaultName',
    check: isolation,
    expect: /(staging|qa): missing storageBlobDataReader/,
  },
  {
    name: "every slot unwraps with production's key",
    file: 'main.bicep',
    from: 'keyName: keyNames[i]\n      readerPrincipalId',
    to: 'keyName: keyNames[0]\n      readerPrincipalId',
    check: isolation,
    expect: /covers production's .*keys\/dp-kek-production/,
  },
  {
    name: "production's identity is granted every ring",
    file: 'main.bicep',
    from: 'readerPrincipalId: webPrincipalIds[i]',
    to: 'readerPrincipalId: webPrincipalIds[0]',
    check: isolation,
    expect: /production: unexpected storageBlobDataReader on .*dp-qa/,
  },
  {
    name: 'web identity may write its ring (Contributor instead of Reader)',
    file: 'modules/keyring-access.bicep',
    from: "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)",
    to: "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)",
    check: isolation,
    expect: /unexpected storageBlobDataContributor/,
  },
  {
    name: 'a role GUID with a typo',
    file: 'modules/roles.json',
    from: '"keyVaultCryptoServiceEncryptionUser": "e147488a-f6f5-4113-8e2d-b22465e65bf6"',
    to: '"keyVaultCryptoServiceEncryptionUser": "e147488a-f6f5-4113-8e2d-b22465e65bf7"',
    check: checkRoleDefinitions,
    expect: /not a documented built-in role/,
  },
  {
    name: 'Reader and Contributor GUIDs swapped',
    file: 'modules/roles.json',
    from: '"storageBlobDataReader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"',
    to: '"storageBlobDataReader": "ba92f5b4-2d11-453d-a403-e96b0029c9fe"',
    check: isolation,
    expect: /missing storageBlobDataReader/,
  },
  {
    name: 'Function App host storage on the key ring account',
    file: 'main.bicep',
    from: 'hostStorageAccountName: storage.outputs.hostAccountName',
    to: 'hostStorageAccountName: storage.outputs.keyRingAccountName',
    check: checkFunctionAppRights,
    expect: /AzureWebJobsStorage__blobServiceUri|Blob Data Owner/,
  },
  {
    name: 'Function App misses the rings of the new slot',
    file: 'main.bicep',
    from: "module keyRingAccess 'modules/keyring-access.bicep' = [\n  for (ringName, i) in ringNames: {",
    to: "module keyRingAccess 'modules/keyring-access.bicep' = [\n  for (ringName, i) in take(ringNames, 2): {",
    check: checkFunctionAppRights,
    expect: /missing storageBlobDataContributor on .*dp-qa/,
  },
  {
    name: 'Function App gets blob instead of queue rights for the cache channel',
    file: 'modules/function-app.bicep',
    from: "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)",
    to: "roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)",
    check: checkFunctionAppRights,
    expect: /missing storageQueueDataContributor/,
  },
  {
    name: 'purge protection off',
    file: 'modules/key-vault.bicep',
    from: 'enablePurgeProtection: true',
    to: 'enablePurgeProtection: false',
    check: checkSecurityBaseline,
    expect: /enablePurgeProtection/,
  },
  {
    name: 'vault access policies instead of RBAC',
    file: 'modules/key-vault.bicep',
    from: 'enableRbacAuthorization: true',
    to: 'enableRbacAuthorization: false',
    check: checkSecurityBaseline,
    expect: /enableRbacAuthorization/,
  },
  {
    name: 'TLS 1.0 on storage',
    file: 'modules/storage.bicep',
    from: "minimumTlsVersion: 'TLS1_2'",
    to: "minimumTlsVersion: 'TLS1_0'",
    check: checkSecurityBaseline,
    expect: /minimumTlsVersion must be TLS1_2/,
  },
  {
    name: 'shared keys allowed on storage',
    file: 'modules/storage.bicep',
    from: 'allowSharedKeyAccess: false',
    to: 'allowSharedKeyAccess: true',
    check: checkSecurityBaseline,
    expect: /allowSharedKeyAccess/,
  },
  {
    name: 'slots served over HTTP',
    file: 'modules/web-farm.bicep',
    from: "    properties: {\n      serverFarmId: plan.id\n      httpsOnly: true",
    to: "    properties: {\n      serverFarmId: plan.id\n      httpsOnly: false",
    check: checkSecurityBaseline,
    expect: /\/qa: httpsOnly must be true/,
  },
  {
    name: 'web farm TLS 1.0',
    file: 'modules/web-farm.bicep',
    from: "  minTlsVersion: '1.2'",
    to: "  minTlsVersion: '1.0'",
    check: checkSecurityBaseline,
    expect: /minTlsVersion must be 1.2/,
  },
  {
    name: 'account-key connection string for AzureWebJobsStorage',
    file: 'modules/function-app.bicep',
    from: "{ name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }",
    to: "{ name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc' }",
    check: checkSecurityBaseline,
    expect: /AccountKey|connection string where identity works/,
  },
  {
    name: 'cache channel no longer sticky',
    file: 'modules/web-farm.bicep',
    from: '  settingNames.applicationName\n  settingNames.cacheChannel\n]',
    to: '  settingNames.applicationName\n]',
    check: checkStickySettings,
    expect: /Ringkeeper__CacheChannel (is not sticky|differs)/,
  },
  {
    name: 'key id no longer sticky',
    file: 'modules/web-farm.bicep',
    from: 'var stickySettingNames = [\n  settingNames.blobUri\n  settingNames.keyId\n',
    to: 'var stickySettingNames = [\n  settingNames.blobUri\n',
    check: checkStickySettings,
    expect: /DataProtection__KeyId/,
  },
  {
    name: 'rotator protects every ring with the production key',
    file: 'modules/function-app.bicep',
    from: "protector: { type: 'keyvault', keyId: ringKeyIds[i] }",
    to: "protector: { type: 'keyvault', keyId: ringKeyIds[0] }",
    check: config,
    expect: /ring staging: the rotator wraps with .*dp-kek-production/,
  },
  {
    name: 'versioned key URI in the configuration',
    file: 'modules/key-vault.bicep',
    from: 'keys[i].properties.keyUri]',
    to: 'keys[i].properties.keyUriWithVersion]',
    check: config,
    expect: /not a versionless key URI/,
  },
  {
    name: 'channel list not generated from the slot list',
    file: 'modules/function-app.bicep',
    from: 'channels: [for ringName in ringNames: { name: ringName }]',
    to: "channels: [{ name: 'production' }]",
    check: config,
    expect: /channels are/,
  },
];

describe('infra checks catch mutated templates', () => {
  it('the unmutated templates pass every check', async () => {
    const d = await evaluateMain({ slots: SLOTS });
    const all = [isolation, checkFunctionAppRights, checkRoleDefinitions, checkSecurityBaseline, checkStickySettings, config].flatMap((c) => c(d));
    expect(all).toEqual([]);
  });

  it.each(mutations.map((m) => [m.name, m]))('catches: %s', async (_name, m) => {
    const file = path.join(INFRA, m.file);
    const original = readFileSync(file, 'utf8');
    expect(original.split(m.from).length - 1, `mutation anchor must occur once in ${m.file}`).toBe(1);
    const files = new Map([[file, original.replace(m.from, m.to)]]);
    const d = await evaluateMain({ slots: SLOTS }, files);
    const violations = m.check(d);
    expect(violations.some((v) => m.expect.test(v)), violations.join('\n') || '(no violations)').toBe(true);
  });
});
