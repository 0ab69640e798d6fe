/**
 * Properties the infrastructure must have, as functions over an evaluated deployment that return
 * violations (empty = holds). The tests run them on the real templates (they must hold) and on
 * mutated templates (they must catch the mutation), so no check can pass vacuously.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { frontEndQueueName } from '../../../shared/cache/frontEndQueueName';
import { evaluateCondition, type AbacRequest } from './abacCondition';
import { FAKE, evaluateBicep, principalOwner, type EvaluatedResource, type EvaluationResult } from './bicepEvaluator';

export const INFRA = fileURLToPath(new URL('../../../infra', import.meta.url));
export const MAIN = path.join(INFRA, 'main.bicep');

/** Built-in role GUIDs as documented (Azure built-in roles reference). */
export const DOCUMENTED_ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  keyVaultCryptoServiceEncryptionUser: 'e147488a-f6f5-4113-8e2d-b22465e65bf6',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;
const ROLE_NAMES = new Map<string, string>(Object.entries(DOCUMENTED_ROLES).map(([k, v]) => [v, k]));

/** API versions chosen from the Bicep type index (reference table A1). */
export const API_VERSIONS: Record<string, string> = {
  'Microsoft.Web/serverfarms': '2025-03-01',
  'Microsoft.Web/sites': '2025-03-01',
  'Microsoft.Web/sites/slots': '2025-03-01',
  'Microsoft.Web/sites/config': '2025-03-01',
  'Microsoft.Storage/storageAccounts': '2026-06-01',
  'Microsoft.Storage/storageAccounts/blobServices': '2026-06-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers': '2026-06-01',
  'Microsoft.Storage/storageAccounts/queueServices': '2026-06-01',
  'Microsoft.Storage/storageAccounts/queueServices/queues': '2026-06-01',
  'Microsoft.KeyVault/vaults': '2026-05-15',
  'Microsoft.KeyVault/vaults/keys': '2026-05-15',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
  'Microsoft.OperationalInsights/workspaces': '2026-03-01',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Insights/actionGroups': '2023-01-01',
  'Microsoft.Insights/scheduledQueryRules': '2026-03-01',
  'Microsoft.Insights/metricAlerts': '2026-01-01',
};

export const STICKY = {
  blobUri: 'DataProtection__BlobUri',
  keyId: 'DataProtection__KeyId',
  applicationName: 'DataProtection__ApplicationName',
  cacheChannel: 'Ringkeeper__Cache__Channel',
  cacheQueueServiceUri: 'Ringkeeper__Cache__QueueServiceUri',
  cacheBlobServiceUri: 'Ringkeeper__Cache__BlobServiceUri',
  cacheJournalContainer: 'Ringkeeper__Cache__JournalContainer',
};

/** The azd environment the tests deploy with: main.parameters.json's `${NAME}` placeholders are azd's. */
export const AZD_ENV: Record<string, string> = { AZURE_ENV_NAME: 'ringkeeper-test', AZURE_LOCATION: FAKE.location };

/** main.parameters.json as azd passes it: `${NAME}` and `${NAME=default}` replaced from the environment. */
export function azdParameters(env: Record<string, string> = AZD_ENV): Record<string, unknown> {
  const text = readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8').replace(/\$\{([A-Z_][A-Z0-9_]*)(?:=([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const value = env[name] ?? fallback;
    if (value === undefined) throw new Error(`main.parameters.json: \${${name}} is not in the azd environment`);
    return value;
  });
  const fileParams = JSON.parse(text).parameters as Record<string, { value: unknown }>;
  return Object.fromEntries(Object.entries(fileParams).map(([k, v]) => [k, v.value]));
}

export async function evaluateMain(params: Record<string, unknown> = {}, files?: Map<string, string>): Promise<EvaluationResult> {
  const values = azdParameters();
  return evaluateBicep(MAIN, { ...values, ...params }, { files });
}

// ---------------------------------------------------------------------------------------------
// Model

export interface Assignment {
  id: string;
  scope: string;
  role: string;
  /** Documented role name, or undefined for an unknown GUID. */
  roleName: string | undefined;
  /** Resource whose system-assigned identity is the principal (undefined if not resolvable). */
  principal: string | undefined;
  resource: EvaluatedResource;
}

export function assignments(d: EvaluationResult): Assignment[] {
  return d.resources
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
    .map((r) => {
      const role = String(r.body.properties?.roleDefinitionId ?? '').split('/').pop()!;
      return { id: r.id, scope: String(r.body.scope), role, roleName: ROLE_NAMES.get(role), principal: principalOwner(r.body.properties?.principalId), resource: r };
    });
}

/** True when a role at `scope` applies to `target` (same resource or an ancestor of it). */
export function covers(scope: string, target: string): boolean {
  const s = scope.toLowerCase();
  const t = target.toLowerCase();
  return t === s || t.startsWith(`${s}/`);
}

const byType = (d: EvaluationResult, type: string) => d.resources.filter((r) => r.type === type);

export function appSettings(r: EvaluatedResource): Record<string, string> {
  const list = (r.body.properties?.siteConfig?.appSettings ?? []) as { name: string; value: string }[];
  return Object.fromEntries(list.map((s) => [s.name, s.value]));
}

export function functionApp(d: EvaluationResult): EvaluatedResource {
  const apps = byType(d, 'Microsoft.Web/sites').filter((r) => String(r.body.kind).includes('functionapp'));
  if (apps.length !== 1) throw new Error(`expected one Function App, found ${apps.length}`);
  return apps[0]!;
}

/** The web site (production) and its slots, each with its ring (slot) name. */
export function webIdentities(d: EvaluationResult): { ring: string; resource: EvaluatedResource }[] {
  const sites = byType(d, 'Microsoft.Web/sites').filter((r) => !String(r.body.kind).includes('functionapp'));
  if (sites.length !== 1) throw new Error(`expected one web app, found ${sites.length}`);
  const slots = byType(d, 'Microsoft.Web/sites/slots');
  return [{ ring: 'production', resource: sites[0]! }, ...slots.map((s) => ({ ring: s.name.split('/')[1]!, resource: s }))];
}

export interface RingConfig {
  name: string;
  blobUri: string;
  protector: { type: string; keyId: string };
}
export interface GeneratedConfig {
  storage: unknown;
  rings: RingConfig[];
  cache: { channels: { name: string }[]; instructionsQueue: string };
}

export function generatedConfig(d: EvaluationResult): GeneratedConfig {
  const raw = appSettings(functionApp(d)).RINGKEEPER_CONFIG_JSON;
  if (typeof raw !== 'string') throw new Error('RINGKEEPER_CONFIG_JSON is missing');
  return JSON.parse(raw) as GeneratedConfig;
}

/** Resource IDs of the container behind a blob URI and of the key behind a key URI. */
export function storeIds(d: EvaluationResult, blobUri: string, keyId: string): { container?: string; key?: string } {
  const b = /^https:\/\/([a-z0-9]+)\.blob\.core\.windows\.net\/([a-z0-9-]+)\/[^/]+$/.exec(blobUri);
  const k = /^https:\/\/([a-z0-9-]+)\.vault\.azure\.net\/keys\/([A-Za-z0-9-]+)$/.exec(keyId);
  const account = b && byType(d, 'Microsoft.Storage/storageAccounts').find((r) => r.name === b[1]);
  const vault = k && byType(d, 'Microsoft.KeyVault/vaults').find((r) => r.name === k[1]);
  const container = account && byType(d, 'Microsoft.Storage/storageAccounts/blobServices/containers').find((r) => r.name === `${account.name}/default/${b[2]}`);
  const key = vault && byType(d, 'Microsoft.KeyVault/vaults/keys').find((r) => r.name === `${vault.name}/${k[2]}`);
  return { container: container?.id, key: key?.id };
}

export interface Ring {
  name: string;
  container: string;
  key: string;
  /** The web identity (site or slot resource ID) that reads this ring. */
  reader: string;
}

/** Rings as the web farm sees them: each identity's sticky settings resolved to deployed resources. */
export function rings(d: EvaluationResult): { rings: Ring[]; violations: string[] } {
  const violations: string[] = [];
  const out: Ring[] = [];
  for (const w of webIdentities(d)) {
    const s = appSettings(w.resource);
    const ids = storeIds(d, s[STICKY.blobUri] ?? '', s[STICKY.keyId] ?? '');
    if (!ids.container) violations.push(`${w.ring}: ${STICKY.blobUri}=${s[STICKY.blobUri]} names no deployed container`);
    if (!ids.key) violations.push(`${w.ring}: ${STICKY.keyId}=${s[STICKY.keyId]} names no deployed key`);
    if (s[STICKY.cacheChannel] !== w.ring) violations.push(`${w.ring}: cache channel is ${s[STICKY.cacheChannel]}`);
    if (ids.container && ids.key) out.push({ name: w.ring, container: ids.container, key: ids.key, reader: w.resource.id });
  }
  for (const kind of ['container', 'key'] as const) {
    const seen = new Map<string, string>();
    for (const r of out) {
      const other = seen.get(r[kind].toLowerCase());
      if (other) violations.push(`${r.name} and ${other} share the ${kind} ${r[kind]}`);
      seen.set(r[kind].toLowerCase(), r.name);
    }
  }
  return { rings: out, violations };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Each web identity: exactly Blob Data Reader on its container and Crypto Service Encryption User on its key. */
export function checkSlotIsolation(d: EvaluationResult, expectedRings: string[]): string[] {
  const { rings: rs, violations } = rings(d);
  const names = rs.map((r) => r.name);
  if (JSON.stringify(names) !== JSON.stringify(expectedRings)) violations.push(`rings are ${JSON.stringify(names)}, expected ${JSON.stringify(expectedRings)}`);
  const all = assignments(d);
  const func = functionApp(d).id;
  const hostAccount = hostStorage(d);
  for (const a of all) {
    if (!a.principal) violations.push(`${a.id}: principal is not a system-assigned identity of this template`);
    if (!d.resources.some((r) => r.id.toLowerCase() === a.scope.toLowerCase())) violations.push(`${a.id}: scope ${a.scope} is not deployed by this template`);
  }
  for (const ring of rs) {
    const mine = all.filter((a) => a.principal === ring.reader);
    const want = [
      { scope: ring.container, role: DOCUMENTED_ROLES.storageBlobDataReader },
      { scope: ring.key, role: DOCUMENTED_ROLES.keyVaultCryptoServiceEncryptionUser },
    ];
    for (const w of want) {
      if (!mine.some((a) => a.scope === w.scope && a.role === w.role)) violations.push(`${ring.name}: missing ${ROLE_NAMES.get(w.role)} on ${w.scope}`);
    }
    for (const a of mine) {
      if (hostAccount && covers(hostAccount.id, a.scope)) continue; // the cache channel's: checkCacheChannelIsolation
      if (!want.some((w) => a.scope === w.scope && a.role === w.role)) violations.push(`${ring.name}: unexpected ${a.roleName ?? a.role} on ${a.scope}`);
    }
    // Nobody but this ring's reader and the Function App may hold any role covering its store.
    for (const a of all) {
      if (a.principal === ring.reader || a.principal === func) continue;
      for (const target of [ring.container, ring.key]) {
        if (covers(a.scope, target)) violations.push(`${a.principal} holds ${a.roleName ?? a.role} at ${a.scope}, which covers ${ring.name}'s ${target}`);
      }
    }
  }
  return violations;
}

/** The Function App: what it needs on every ring and cache queue and its host storage, nothing more. */
export function checkFunctionAppRights(d: EvaluationResult): string[] {
  const violations: string[] = [];
  const func = functionApp(d);
  const mine = assignments(d).filter((a) => a.principal === func.id);
  const config = generatedConfig(d);
  const s = appSettings(func);
  const host = byType(d, 'Microsoft.Storage/storageAccounts').find((r) => s.AzureWebJobsStorage__blobServiceUri === `https://${r.name}.blob.core.windows.net/`);
  if (!host) return [`AzureWebJobsStorage__blobServiceUri=${s.AzureWebJobsStorage__blobServiceUri} names no deployed account`];
  const queues = byType(d, 'Microsoft.Storage/storageAccounts/queueServices/queues').filter((q) => q.name.startsWith(`${host.name}/`));
  // Queue rights on the host account: front-end queues are created at run time (see function-app.bicep).
  const want: { scope: string; role: string }[] = [
    { scope: host.id, role: DOCUMENTED_ROLES.storageBlobDataOwner },
    { scope: host.id, role: DOCUMENTED_ROLES.storageQueueDataContributor },
    ...byType(d, 'Microsoft.Insights/components').map((c) => ({ scope: c.id, role: DOCUMENTED_ROLES.monitoringMetricsPublisher })),
  ];
  for (const ring of config.rings) {
    const ids = storeIds(d, ring.blobUri, ring.protector.keyId);
    if (!ids.container || !ids.key) {
      violations.push(`ring ${ring.name}: ${ring.blobUri} / ${ring.protector.keyId} name no deployed container/key`);
      continue;
    }
    if (covers(host.id, ids.container)) violations.push(`ring ${ring.name} lives in the host storage account, where the Function App is Blob Data Owner`);
    want.push({ scope: ids.container, role: DOCUMENTED_ROLES.storageBlobDataContributor });
    want.push({ scope: ids.key, role: DOCUMENTED_ROLES.keyVaultCryptoServiceEncryptionUser });
  }
  if (!queues.some((q) => q.name.endsWith(`/${config.cache.instructionsQueue}`))) violations.push(`instructions queue ${config.cache.instructionsQueue} is not deployed in ${host.name}`);
  for (const w of want) {
    if (!mine.some((a) => a.scope === w.scope && a.role === w.role)) violations.push(`Function App: missing ${ROLE_NAMES.get(w.role)} on ${w.scope}`);
  }
  for (const a of mine) {
    if (!want.some((w) => a.scope === w.scope && a.role === w.role)) violations.push(`Function App: unexpected ${a.roleName ?? a.role} on ${a.scope}`);
  }
  return violations;
}

/** Every role assignment uses a documented built-in role GUID in the canonical form. */
export function checkRoleDefinitions(d: EvaluationResult): string[] {
  const violations: string[] = [];
  for (const a of assignments(d)) {
    const def = String(a.resource.body.properties?.roleDefinitionId);
    if (!/^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/.test(def)) violations.push(`${a.id}: roleDefinitionId ${def} is not subscriptionResourceId(roleDefinitions, guid)`);
    if (!a.roleName) violations.push(`${a.id}: role ${a.role} is not a documented built-in role`);
    if (a.resource.body.properties?.principalType !== 'ServicePrincipal') violations.push(`${a.id}: principalType must be ServicePrincipal`);
  }
  return violations;
}

export function checkSecurityBaseline(d: EvaluationResult): string[] {
  const v: string[] = [];
  for (const kv of byType(d, 'Microsoft.KeyVault/vaults')) {
    const p = kv.body.properties ?? {};
    if (p.enableRbacAuthorization !== true) v.push(`${kv.name}: enableRbacAuthorization must be true`);
    if (p.enablePurgeProtection !== true) v.push(`${kv.name}: enablePurgeProtection must be true`);
    if (p.enableSoftDelete !== true) v.push(`${kv.name}: enableSoftDelete must be true`);
    if (p.accessPolicies?.length) v.push(`${kv.name}: access policies bypass RBAC scoping`);
  }
  for (const key of byType(d, 'Microsoft.KeyVault/vaults/keys')) {
    const p = key.body.properties ?? {};
    if (!String(p.kty).startsWith('RSA')) v.push(`${key.name}: kty must be RSA`);
    if (!p.rotationPolicy?.lifetimeActions?.some((a: any) => a.action?.type === 'rotate')) v.push(`${key.name}: no rotation policy`);
  }
  for (const st of byType(d, 'Microsoft.Storage/storageAccounts')) {
    const p = st.body.properties ?? {};
    if (p.minimumTlsVersion !== 'TLS1_2') v.push(`${st.name}: minimumTlsVersion must be TLS1_2`);
    if (p.supportsHttpsTrafficOnly !== true) v.push(`${st.name}: supportsHttpsTrafficOnly must be true`);
    if (p.allowSharedKeyAccess !== false) v.push(`${st.name}: allowSharedKeyAccess must be false (identity only)`);
    if (p.allowBlobPublicAccess !== false) v.push(`${st.name}: allowBlobPublicAccess must be false`);
  }
  for (const c of byType(d, 'Microsoft.Storage/storageAccounts/blobServices/containers')) {
    if ((c.body.properties?.publicAccess ?? 'None') !== 'None') v.push(`${c.name}: public access`);
  }
  for (const ai of byType(d, 'Microsoft.Insights/components')) {
    if (ai.body.properties?.DisableLocalAuth !== true) v.push(`${ai.name}: DisableLocalAuth must be true`);
  }
  const sites = [...byType(d, 'Microsoft.Web/sites'), ...byType(d, 'Microsoft.Web/sites/slots')];
  for (const site of sites) {
    const p = site.body.properties ?? {};
    if (p.httpsOnly !== true) v.push(`${site.name}: httpsOnly must be true`);
    if (p.siteConfig?.minTlsVersion !== '1.2') v.push(`${site.name}: minTlsVersion must be 1.2`);
    if (p.siteConfig?.ftpsState !== 'Disabled') v.push(`${site.name}: ftpsState must be Disabled`);
    if (p.siteConfig?.connectionStrings?.length) v.push(`${site.name}: connection strings configured`);
    if (site.body.identity?.type !== 'SystemAssigned') v.push(`${site.name}: needs its own system-assigned identity`);
    for (const [name, value] of Object.entries(appSettings(site))) {
      if (/AccountKey=|SharedAccessSignature=|[?&]sig=|UseDevelopmentStorage/i.test(value)) v.push(`${site.name}: ${name} carries a storage secret`);
      if (/^(AzureWebJobsStorage|WEBSITE_CONTENTAZUREFILECONNECTIONSTRING|AzureWebJobsDashboard)$/.test(name)) v.push(`${site.name}: ${name} is a connection string where identity works`);
      if (/^(APPINSIGHTS_INSTRUMENTATIONKEY)$/.test(name)) v.push(`${site.name}: ${name} is key-based telemetry`);
    }
  }
  const func = functionApp(d);
  const s = appSettings(func);
  if (s.AzureWebJobsStorage__credential !== 'managedidentity') v.push('Function App: AzureWebJobsStorage__credential must be managedidentity');
  for (const k of ['AzureWebJobsStorage__blobServiceUri', 'AzureWebJobsStorage__queueServiceUri']) {
    if (!/^https:\/\//.test(s[k] ?? '')) v.push(`Function App: ${k} must be an https service URI`);
  }
  if (s.APPLICATIONINSIGHTS_CONNECTION_STRING !== undefined && s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING !== 'Authorization=AAD') v.push('Function App: telemetry must authenticate with Entra ID');
  const auth = func.body.properties?.functionAppConfig?.deployment?.storage?.authentication;
  if (auth?.type !== 'SystemAssignedIdentity') v.push(`Function App: deployment storage authentication is ${JSON.stringify(auth)}`);
  return v;
}

/** slotConfigNames: every ring setting is sticky, and so is every setting whose value differs between slots. */
export function checkStickySettings(d: EvaluationResult): string[] {
  const v: string[] = [];
  const web = webIdentities(d);
  const site = web[0]!.resource;
  const configs = byType(d, 'Microsoft.Web/sites/config').filter((c) => c.name === `${site.name}/slotConfigNames`);
  if (configs.length !== 1) return [`expected one slotConfigNames on ${site.name}, found ${configs.length}`];
  const sticky = new Set<string>(configs[0]!.body.properties?.appSettingNames ?? []);
  for (const name of Object.values(STICKY)) if (!sticky.has(name)) v.push(`${name} is not sticky`);
  const settings = web.map((w) => appSettings(w.resource));
  const names = new Set(settings.flatMap((s) => Object.keys(s)));
  for (const name of names) {
    const values = new Set(settings.map((s) => s[name]));
    if (values.size > 1 && !sticky.has(name)) v.push(`${name} differs between slots but is not sticky (a swap would move it)`);
  }
  for (const [i, s] of settings.entries()) {
    for (const name of sticky) if (!(name in s)) v.push(`${web[i]!.ring}: sticky setting ${name} is not set`);
  }
  return v;
}

/** RINGKEEPER_CONFIG_JSON matches the contract and the web farm's sticky settings, ring for ring. */
export function checkGeneratedConfig(d: EvaluationResult, expectedRings: string[]): string[] {
  const v: string[] = [];
  const c = generatedConfig(d);
  if (JSON.stringify(c.storage) !== JSON.stringify({ connection: 'AzureWebJobsStorage' })) v.push(`storage is ${JSON.stringify(c.storage)}`);
  if (JSON.stringify(c.rings.map((r) => r.name)) !== JSON.stringify(expectedRings)) v.push(`rings are ${c.rings.map((r) => r.name)}`);
  if (JSON.stringify(Object.keys(c.cache).sort()) !== JSON.stringify(['acceptDirectEnvelopes', 'channels', 'instructionsQueue'])) v.push(`cache has ${Object.keys(c.cache)}`);
  // Web identities may send to the shared instructions queue: only notices may be accepted there.
  if (c.cache.acceptDirectEnvelopes !== false) v.push(`cache.acceptDirectEnvelopes is ${c.cache.acceptDirectEnvelopes}: any web identity could publish to every channel`);
  if (JSON.stringify(c.cache.channels) !== JSON.stringify(expectedRings.map((name) => ({ name })))) v.push(`channels are ${JSON.stringify(c.cache.channels)}`);
  const web = new Map(webIdentities(d).map((w) => [w.ring, appSettings(w.resource)]));
  for (const r of c.rings) {
    if (JSON.stringify(Object.keys(r)) !== JSON.stringify(['name', 'blobUri', 'protector'])) v.push(`ring ${r.name} has ${Object.keys(r)}`);
    if (!/^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\/[a-z0-9-]+\/keys\.xml$/.test(r.blobUri)) v.push(`ring ${r.name}: blobUri ${r.blobUri}`);
    if (r.protector.type !== 'keyvault') v.push(`ring ${r.name}: protector ${r.protector.type}`);
    if (!/^https:\/\/[a-z0-9-]+\.vault\.azure\.net\/keys\/[A-Za-z0-9-]+$/.test(r.protector.keyId)) v.push(`ring ${r.name}: keyId ${r.protector.keyId} is not a versionless key URI`);
    const w = web.get(r.name);
    if (!w) v.push(`ring ${r.name} has no site or slot`);
    else {
      if (w[STICKY.blobUri] !== r.blobUri) v.push(`ring ${r.name}: the rotator writes ${r.blobUri} but the slot reads ${w[STICKY.blobUri]}`);
      if (w[STICKY.keyId] !== r.protector.keyId) v.push(`ring ${r.name}: the rotator wraps with ${r.protector.keyId} but the slot has ${w[STICKY.keyId]}`);
    }
  }
  const schedule = appSettings(functionApp(d)).RINGKEEPER_ROTATION_SCHEDULE ?? '';
  if (schedule.trim().split(/\s+/).length !== 6) v.push(`RINGKEEPER_ROTATION_SCHEDULE "${schedule}" is not a 6-field NCRONTAB`);
  return v;
}

/** The account AzureWebJobsStorage names (host storage: Functions, the cache queues and journal). */
export function hostStorage(d: EvaluationResult): EvaluatedResource | undefined {
  const uri = appSettings(functionApp(d)).AzureWebJobsStorage__queueServiceUri;
  return byType(d, 'Microsoft.Storage/storageAccounts').find((r) => uri === `https://${r.name}.queue.core.windows.net/`);
}

const QUEUE_MESSAGE_ACTIONS = ['read', 'write', 'delete', 'add/action', 'process/action'].map((a) => `Microsoft.Storage/storageAccounts/queueServices/queues/messages/${a}`);
const BLOB_ACTION = (a: string) => `Microsoft.Storage/storageAccounts/blobServices/containers/blobs/${a}`;
const BLOB_READ = BLOB_ACTION('read');
/** The DataActions of Storage Blob Data Contributor (built-in roles reference): what its condition must confine. */
const BLOB_WRITES = [BLOB_ACTION('write'), BLOB_ACTION('add/action')];
const BLOB_OTHERS = [BLOB_READ, BLOB_ACTION('delete'), BLOB_ACTION('move/action')];
const CONTAINER_NAME = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]';
const QUEUE_NAME = '@Resource[Microsoft.Storage/storageAccounts/queueServices/queues:name]';
const BLOB_PATH = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]';
const BLOB_PREFIX = '@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix]';
const FRONT_END_PREFIX = 'rkfe';

const queueRequests = (queue: string): AbacRequest[] => QUEUE_MESSAGE_ACTIONS.map((action) => ({ action, attributes: { [QUEUE_NAME]: queue } }));
const readBlob = (blob: string): AbacRequest => ({ action: BLOB_READ, attributes: { [BLOB_PATH]: blob } });
const listBlobs = (prefix: string | undefined): AbacRequest => ({ action: BLOB_READ, subOperation: 'Blob.List', attributes: prefix === undefined ? {} : { [BLOB_PREFIX]: prefix } });
const blobRequest = (action: string, container: string, blob: string): AbacRequest => ({ action, attributes: { [CONTAINER_NAME]: container, [BLOB_PATH]: blob } });

/** What a subscriber of `channel` touches (cache-protocol.md; claim checks under `<channel>/claims/`). */
function subscriberQueues(channel: string): string[] {
  return [frontEndQueueName(FRONT_END_PREFIX, channel, 'web-0'), frontEndQueueName(FRONT_END_PREFIX, channel, `${'instance-'.repeat(10)}z`)];
}
function journalBlobs(channel: string): string[] {
  return [`${channel}/head.json`, `${channel}/seq/${'1'.padStart(20, '0')}.json`, `${channel}/ids/0f0e.json`, `${channel}/claims/c1.json`];
}
/** What a publisher of `channel` writes (CachePublisher: batches and head hint; Ringkeeper.Umbraco: the scheduling lease). */
function publisherBlobs(channel: string): string[] {
  return [`${channel}/seq/${'1'.padStart(20, '0')}.json`, `${channel}/seq/${'9007199254740991'.padStart(20, '0')}.json`, `${channel}/head.json`, `${channel}/scheduling-publisher.lease`];
}
/** Paths of its own channel a publisher must not write: near misses of the granted ones. */
function notPublisherBlobs(channel: string): string[] {
  return [`${channel}/claims/c1.json`, `${channel}/ids/0f0e.json`, `${channel}/head.json.bak`, `${channel}/head.jsonx/seq/1`, `${channel}/scheduling-publisher.lease2`, `${channel}/seqx/1.json`, `${channel}/seq`, `${channel}/other.json`, `${channel}`];
}

/**
 * Each web identity on the host account: Storage Queue Data Contributor whose condition admits the
 * message actions on its own front-end queues only, and Storage Blob Data Reader on the journal
 * container whose condition admits reading and listing its own channel's paths only. Probed with
 * the real queue-name function, against every other channel of the deployment and names built to
 * hit the prefix trap (`<channel>qa`, `<channel>0`, `x<channel>`), the fixed queues and a shared
 * `claims/` prefix.
 */
export function checkCacheChannelIsolation(d: EvaluationResult, expectedRings: string[]): string[] {
  const v: string[] = [];
  const host = hostStorage(d);
  if (!host) return ['AzureWebJobsStorage__queueServiceUri names no deployed account'];
  const config = generatedConfig(d);
  const fixedQueues = [config.cache.instructionsQueue, `${config.cache.instructionsQueue}-poison`, `${config.cache.instructionsQueue}-rejected`];
  const channels = webIdentities(d).map((w) => w.ring);
  if (JSON.stringify(channels) !== JSON.stringify(expectedRings)) v.push(`channels are ${JSON.stringify(channels)}, expected ${JSON.stringify(expectedRings)}`);
  // Prefix-free: no channel's queue prefix or journal path prefix starts another channel's.
  for (const a of channels) {
    for (const b of channels) {
      if (a !== b && `${FRONT_END_PREFIX}-${b}-`.startsWith(`${FRONT_END_PREFIX}-${a}-`)) v.push(`queue prefix of ${a} also matches ${b}'s queues`);
      if (a !== b && `${b}/`.startsWith(`${a}/`)) v.push(`journal prefix of ${a} also matches ${b}'s paths`);
    }
  }
  // Web identities hold the journal container's unconditionable container Actions (delete included).
  const hostBlobs = byType(d, 'Microsoft.Storage/storageAccounts/blobServices').find((b) => b.name === `${host.name}/default`);
  if (hostBlobs?.body.properties?.containerDeleteRetentionPolicy?.enabled !== true) v.push(`${host.name}: container soft delete is off, so a deleted cache journal cannot be restored`);
  const all = assignments(d);
  for (const w of webIdentities(d)) {
    const r = w.ring;
    const s = appSettings(w.resource);
    if (s[STICKY.cacheChannel] !== r) v.push(`${r}: ${STICKY.cacheChannel} is ${s[STICKY.cacheChannel]}`);
    if (s[STICKY.cacheQueueServiceUri] !== `https://${host.name}.queue.core.windows.net/`) v.push(`${r}: ${STICKY.cacheQueueServiceUri} is ${s[STICKY.cacheQueueServiceUri]}, not the host account`);
    if (s[STICKY.cacheBlobServiceUri] !== `https://${host.name}.blob.core.windows.net/`) v.push(`${r}: ${STICKY.cacheBlobServiceUri} is ${s[STICKY.cacheBlobServiceUri]}, not the host account`);
    const journal = byType(d, 'Microsoft.Storage/storageAccounts/blobServices/containers').find((c) => c.name === `${host.name}/default/${s[STICKY.cacheJournalContainer]}`);
    if (!journal) {
      v.push(`${r}: ${STICKY.cacheJournalContainer}=${s[STICKY.cacheJournalContainer]} names no container in the host account`);
      continue;
    }
    const instructions = byType(d, 'Microsoft.Storage/storageAccounts/queueServices/queues').find((q) => q.name === `${host.name}/default/${config.cache.instructionsQueue}`);
    if (!instructions) {
      v.push(`${r}: the instructions queue ${config.cache.instructionsQueue} is not deployed in ${host.name}`);
      continue;
    }
    const mine = all.filter((a) => a.principal === w.resource.id && (covers(host.id, a.scope) || covers(a.scope, host.id)));
    const queueRole = mine.filter((a) => a.scope === host.id && a.role === DOCUMENTED_ROLES.storageQueueDataContributor);
    const journalRole = mine.filter((a) => a.scope === journal.id && a.role === DOCUMENTED_ROLES.storageBlobDataReader);
    const writerRole = mine.filter((a) => a.scope === journal.id && a.role === DOCUMENTED_ROLES.storageBlobDataContributor);
    const senderRole = mine.filter((a) => a.scope === instructions.id && a.role === DOCUMENTED_ROLES.storageQueueDataMessageSender);
    const expectedRoles = [queueRole, journalRole, writerRole, senderRole];
    for (const a of mine) if (!expectedRoles.some((e) => e.includes(a))) v.push(`${r}: unexpected ${a.roleName ?? a.role} on ${a.scope}`);
    if (queueRole.length !== 1) v.push(`${r}: expected one storageQueueDataContributor on the host account, found ${queueRole.length}`);
    if (journalRole.length !== 1) v.push(`${r}: expected one storageBlobDataReader on ${journal.name}, found ${journalRole.length}`);
    if (writerRole.length !== 1) v.push(`${r}: expected one storageBlobDataContributor on ${journal.name}, found ${writerRole.length}`);
    if (senderRole.length !== 1) v.push(`${r}: expected one storageQueueDataMessageSender on ${instructions.name}, found ${senderRole.length}`);
    // Sending to the shared queue is confined by what the fan-out accepts there, not by a condition.
    if (senderRole.length > 0 && config.cache.acceptDirectEnvelopes !== false) v.push(`${r}: may send to ${config.cache.instructionsQueue}, whose fan-out accepts directly enqueued envelopes for every channel`);
    const others = [...channels.filter((c) => c !== r), `${r}qa`, `${r}0`, `x${r}`];
    const allowed = (a: Assignment, req: AbacRequest) => {
      const p = a.resource.body.properties ?? {};
      if (typeof p.condition !== 'string') return true; // unconditioned: everything the role grants
      if (p.conditionVersion !== '2.0') throw new Error(`${a.id}: conditionVersion ${p.conditionVersion}`);
      return evaluateCondition(p.condition, req);
    };
    for (const a of queueRole) {
      for (const q of subscriberQueues(r)) for (const req of queueRequests(q)) if (!allowed(a, req)) v.push(`${r}: ${req.action} refused on its own queue ${q}`);
      for (const q of [...others.flatMap(subscriberQueues), ...fixedQueues]) {
        for (const req of queueRequests(q)) if (allowed(a, req)) v.push(`${r}: ${req.action} allowed on ${q}, which is not its own`);
      }
    }
    for (const a of journalRole) {
      for (const b of journalBlobs(r)) if (!allowed(a, readBlob(b))) v.push(`${r}: reading its own journal blob ${b} is refused`);
      for (const p of [`${r}/`, `${r}/seq/`]) if (!allowed(a, listBlobs(p))) v.push(`${r}: listing its own prefix ${p} is refused`);
      for (const b of [...others.flatMap(journalBlobs), 'claims/c1.json']) if (allowed(a, readBlob(b))) v.push(`${r}: may read ${b}, which is not its own`);
      for (const p of [undefined, '', r, 'claims/', ...others.map((o) => `${o}/`)]) if (allowed(a, listBlobs(p))) v.push(`${r}: may list prefix ${JSON.stringify(p)}, which is not only its own`);
    }
    const container = s[STICKY.cacheJournalContainer]!;
    for (const a of writerRole) {
      for (const action of BLOB_WRITES) {
        for (const b of publisherBlobs(r)) if (!allowed(a, blobRequest(action, container, b))) v.push(`${r}: ${action} refused on its own ${b}`);
        for (const b of [...notPublisherBlobs(r), ...others.flatMap((o) => [...publisherBlobs(o), ...journalBlobs(o)]), 'claims/c1.json', `seq/${'1'.padStart(20, '0')}.json`, 'head.json', `/${r}/head.json`]) {
          if (allowed(a, blobRequest(action, container, b))) v.push(`${r}: ${action} allowed on ${b}, which it must not write`);
        }
      }
      // Read comes from the reader assignment (with its own condition); delete and move from nobody.
      for (const action of BLOB_OTHERS) {
        for (const b of [...publisherBlobs(r), ...journalBlobs(r), ...others.flatMap(publisherBlobs)]) if (allowed(a, blobRequest(action, container, b))) v.push(`${r}: ${action} allowed on ${b} by storageBlobDataContributor`);
      }
      if (allowed(a, listBlobs(`${r}/`))) v.push(`${r}: storageBlobDataContributor lists blobs`);
    }
    for (const a of senderRole) {
      if (a.resource.body.properties?.condition !== undefined) v.push(`${r}: the sender assignment carries a condition (its scope is the queue)`);
    }
  }
  return v;
}
