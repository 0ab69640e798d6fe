/**
 * Each check must be able to fail: a targeted mutation of the templates (the kind of mistake a
 * reviewer would miss) must be caught, either by the real Bicep compiler and linter (any error or
 * warning: CI accepts none) or, when the compiler accepts the mutated templates, by the isolation
 * and baseline checks evaluated on exactly those templates.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BICEP, MISSING_BICEP, compileTrees, type Compiled } from './support/bicepCli';
import type { EvaluationResult } from './support/bicepEvaluator';
import {
  INFRA,
  checkFunctionAppRights,
  checkGeneratedConfig,
  checkRoleDefinitions,
  checkSecurityBaseline,
  checkSlotIsolation,
  checkStickySettings,
  checkCacheChannelIsolation,
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
const channels = (d: EvaluationResult) => checkCacheChannelIsolation(d, RINGS);

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
    from: 'keyName: keyNames[i]\n      // Principal',
    to: 'keyName: keyNames[0]\n      // Principal',
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
    from: 'hostStorageAccountName: names.hostStorage\n    deploymentContainerName',
    to: 'hostStorageAccountName: names.keyRingStorage\n    deploymentContainerName',
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
    from: '  settingNames.applicationName\n  settingNames.cacheChannel\n',
    to: '  settingNames.applicationName\n',
    check: checkStickySettings,
    expect: /Ringkeeper__Cache__Channel (is not sticky|differs)/,
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
    from: 'var configChannels = [for ringName in ringNames: { name: ringName }]',
    to: "var configChannels = [{ name: 'production' }]",
    check: config,
    expect: /channels are/,
  },
  {
    name: 'a for-expression nested in an object literal (BCP138)',
    file: 'modules/function-app.bicep',
    from: '  rings: configRings\n',
    to: '  rings: [for ringName in ringNames: { name: ringName }]\n',
    check: config,
    expect: /Error BCP138/,
  },
  {
    name: 'a stale API version',
    file: 'modules/storage.bicep',
    from: "resource hostAccount 'Microsoft.Storage/storageAccounts@2026-06-01'",
    to: "resource hostAccount 'Microsoft.Storage/storageAccounts@2023-01-01'",
    check: checkSecurityBaseline,
    expect: /use-recent-api-versions/,
  },
  {
    name: "a module's resource name fed from another module's output (what-if cannot predict it)",
    file: 'main.bicep',
    from: 'storageAccountName: names.keyRingStorage',
    to: 'storageAccountName: storage.outputs.keyRingAccountName',
    check: isolation,
    expect: /what-if-short-circuiting/,
  },
  {
    name: 'a misspelt security property (silently ignored by ARM)',
    file: 'modules/key-vault.bicep',
    from: 'enablePurgeProtection: true',
    to: 'enablePurgeProtecton: true',
    check: checkSecurityBaseline,
    expect: /BCP037|BCP089/,
  },
  {
    name: 'queue condition without the trailing hyphen (the prefix trap)',
    file: 'modules/cache-access.bicep',
    from: "var queueNamePrefix = '${frontEndQueuePrefix}-${channelName}-'",
    to: "var queueNamePrefix = '${frontEndQueuePrefix}-${channelName}'",
    check: channels,
    expect: /staging: .*allowed on rkfe-stagingqa-/,
  },
  {
    name: 'journal paths without the trailing slash',
    file: 'modules/cache-access.bicep',
    from: "var journalPathPrefix = '${channelName}/'",
    to: 'var journalPathPrefix = channelName',
    check: channels,
    expect: /may (read stagingqa\/|list prefix "staging")/,
  },
  {
    name: 'list blobs left unconditioned (any channel listable)',
    file: 'modules/cache-access.bicep',
    from: " AND ((!(ActionMatches{\\'${blobRead}\\'} AND SubOperationMatches{\\'Blob.List\\'})) OR (@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith \\'${journalPathPrefix}\\'))'",
    to: "'",
    check: channels,
    expect: /may list prefix/,
  },
  {
    name: 'the queue condition forgets one message action (add: inject into other channels)',
    file: 'modules/cache-access.bicep',
    from: "  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action'\n",
    to: '',
    check: channels,
    expect: /messages\/add\/action allowed on rkfe-production-/,
  },
  {
    name: 'journal reader on the whole host account',
    file: 'modules/cache-access.bicep',
    from: '  name: guid(journal.id, subscriberPrincipalId, roles.storageBlobDataReader)\n  scope: journal',
    to: '  name: guid(journal.id, subscriberPrincipalId, roles.storageBlobDataReader)\n  scope: hostAccount',
    check: channels,
    expect: /unexpected storageBlobDataReader on .*storageAccounts\/sth[a-z0-9]+$/,
  },
  {
    name: 'publisher writes widened to the whole channel prefix (claim checks, ids writable)',
    file: 'modules/cache-access.bicep',
    from: "${blobPath} StringStartsWith \\'${channelName}/seq/\\'",
    to: "${blobPath} StringStartsWith \\'${channelName}/\\'",
    check: channels,
    expect: /blobs\/write allowed on (production|staging|qa)\/claims\/c1\.json/,
  },
  {
    name: 'publisher batch prefix without the trailing slash',
    file: 'modules/cache-access.bicep',
    from: "${blobPath} StringStartsWith \\'${channelName}/seq/\\'",
    to: "${blobPath} StringStartsWith \\'${channelName}/seq\\'",
    check: channels,
    expect: /allowed on (production|staging|qa)\/seqx\/1\.json/,
  },
  {
    name: 'the scheduling lease matched as a prefix',
    file: 'modules/cache-access.bicep',
    from: "${blobPath} StringEquals \\'${channelName}/scheduling-publisher.lease\\'",
    to: "${blobPath} StringStartsWith \\'${channelName}/scheduling-publisher.lease\\'",
    check: channels,
    expect: /allowed on (production|staging|qa)\/scheduling-publisher\.lease2/,
  },
  {
    name: 'the write condition confines blobs/write twice and never blobs/add/action (create any new blob, any channel)',
    file: 'modules/cache-access.bicep',
    from: "var blobAdd = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'",
    to: "var blobAdd = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'",
    check: channels,
    expect: /staging: .*blobs\/add\/action allowed on production\/seq\//,
  },
  {
    name: 'journal writer may delete (delete left out of the refused actions)',
    file: 'modules/cache-access.bicep',
    from: "  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'\n",
    to: '',
    check: channels,
    expect: /blobs\/delete allowed on .* by storageBlobDataContributor/,
  },
  {
    name: 'journal writer reads unconditioned (the refusal names another container)',
    file: 'modules/cache-access.bicep',
    from: "containers:name] StringNotEquals \\'${journalContainerName}\\'",
    to: "containers:name] StringNotEquals \\'${journalContainerName}x\\'",
    check: channels,
    expect: /blobs\/read allowed on production\/.* by storageBlobDataContributor/,
  },
  {
    name: "every slot moves production's head hint",
    file: 'modules/cache-access.bicep',
    from: "${blobPath} StringEquals \\'${channelName}/head.json\\'",
    to: "${blobPath} StringEquals \\'production/head.json\\'",
    check: channels,
    expect: /staging: .*blobs\/write allowed on production\/head\.json/,
  },
  {
    name: 'notice sender on the whole host account',
    file: 'modules/cache-access.bicep',
    from: '  name: guid(instructionsQueue.id, subscriberPrincipalId, roles.storageQueueDataMessageSender)\n  scope: instructionsQueue',
    to: '  name: guid(instructionsQueue.id, subscriberPrincipalId, roles.storageQueueDataMessageSender)\n  scope: hostAccount',
    check: channels,
    expect: /unexpected storageQueueDataMessageSender on .*storageAccounts\/sth[a-z0-9]+$/,
  },
  {
    name: 'the fan-out accepts directly enqueued envelopes while web apps may send to its queue',
    file: 'modules/function-app.bicep',
    from: '    acceptDirectEnvelopes: false\n',
    to: '    acceptDirectEnvelopes: true\n',
    check: channels,
    expect: /may send to cache-instructions, whose fan-out accepts directly enqueued envelopes/,
  },
  {
    name: 'host account without container soft delete',
    file: 'modules/storage.bicep',
    from: 'containerDeleteRetentionPolicy: { enabled: true, days: 7 }',
    to: 'containerDeleteRetentionPolicy: { enabled: false }',
    check: channels,
    expect: /container soft delete is off/,
  },
  {
    name: "every slot subscribes to production's channel",
    file: 'main.bicep',
    from: '      channelName: ringName\n',
    to: "      channelName: 'production'\n",
    check: channels,
    expect: /(staging|qa): .* refused on its own queue/,
  },
  {
    name: 'the slot setting names the wrong channel',
    file: 'modules/web-farm.bicep',
    from: '{ name: settingNames.cacheChannel, value: ringName }',
    to: "{ name: settingNames.cacheChannel, value: ringNames[0] }",
    check: channels,
    expect: /staging: Ringkeeper__Cache__Channel is production/,
  },
];

function mutated(m: Mutation): Map<string, string> {
  const original = readFileSync(path.join(INFRA, m.file), 'utf8');
  const count = original.split(m.from).length - 1;
  if (count !== 1) throw new Error(`mutation "${m.name}": its anchor occurs ${count} times in ${m.file}, expected once`);
  return new Map([[m.file, original.replace(m.from, m.to)]]);
}

describe.skipIf(!BICEP)(`infra checks catch mutated templates${BICEP ? '' : ` (skipped: ${MISSING_BICEP})`}`, () => {
  let compiled: Map<string, Compiled>;
  beforeAll(async () => {
    // One CLI run builds the unmutated tree and every mutated copy.
    compiled = await compileTrees(new Map([['unmutated', new Map()], ...mutations.map((m) => [m.name, mutated(m)] as [string, Map<string, string>])]));
  });

  it('the unmutated templates compile cleanly and pass every check', async () => {
    expect(compiled.get('unmutated')!.diagnostics).toEqual([]);
    const d = await evaluateMain({ slots: SLOTS });
    const all = [isolation, channels, checkFunctionAppRights, checkRoleDefinitions, checkSecurityBaseline, checkStickySettings, config].flatMap((c) => c(d));
    expect(all).toEqual([]);
  });

  it.each(mutations.map((m) => [m.name, m]))('catches: %s', async (_name, m) => {
    const { diagnostics } = compiled.get(m.name)!;
    if (diagnostics.length > 0) {
      // Caught by the compiler or linter: it must be the finding this mutation is about.
      expect(diagnostics.some((d) => m.expect.test(d)), diagnostics.join('\n')).toBe(true);
      return;
    }
    const files = new Map([...mutated(m)].map(([rel, text]) => [path.join(INFRA, rel), text]));
    const violations = m.check(await evaluateMain({ slots: SLOTS }, files));
    expect(violations.some((v) => m.expect.test(v)), violations.join('\n') || '(no violations)').toBe(true);
  });
});
