metadata name = 'ringkeeper'
metadata description = 'The whole ringkeeper system: the key ring rotator (Flex Consumption Function App) and an ASP.NET Core web farm whose production site and every deployment slot have their own key ring blob, Key Vault key, cache channel and role assignments.'

targetScope = 'resourceGroup'

@description('Optional. Short name used in every resource name: 3-12 lowercase letters or digits, starting with a letter.')
@minLength(3)
@maxLength(12)
param baseName string = 'ringkeeper'

@description('Optional. Name of the azd environment (azd passes AZURE_ENV_NAME); when set, every resource is tagged azd-env-name.')
@maxLength(64)
param environmentName string = ''

@description('Optional. Location for all resources. It must offer Flex Consumption (list them with `az functionapp list-flexconsumption-locations`); elsewhere the Function App plan is refused by Azure.')
@metadata({ azd: { type: 'location' } })
param location string = resourceGroup().location

@description('Optional. Deployment slots of the web app besides production (the site itself). Each slot gets its own key ring container, Key Vault key, cache channel and role assignments. Each name: 1-24 lowercase letters and digits, starting with a letter (no hyphens, so no channel\'s queue prefix rkfe-<slot>- is a prefix of another\'s); never \'production\'; no duplicates. Checked below: the deployment fails naming every bad entry.')
param slots string[] = ['staging']

@description('Optional. Tags of all resources.')
param tags object = {}

@description('Optional. Node.js major version of the Function App.')
@allowed(['20', '22'])
param functionNodeVersion string = '22'

@description('Optional. Maximum instance count of the Function App.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Optional. Memory per Function App instance, MB.')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Optional. NCRONTAB schedule (6 fields) of the rotation timer.')
param rotationSchedule string = '0 0 */6 * * *'

@description('Optional. App Service plan SKU of the web farm. Deployment slots need Standard, Premium or Isolated.')
@allowed(['S1', 'S2', 'S3', 'P0v3', 'P1v3', 'P2v3', 'P3v3'])
param webPlanSkuName string = 'P0v3'

@description('Optional. Number of web farm instances.')
@minValue(1)
@maxValue(30)
param webPlanCapacity int = 2

@description('Optional. Linux runtime stack of the web app.')
param webLinuxFxVersion string = 'DOTNETCORE|9.0'

@description('Optional. Data Protection application name (SetApplicationName), the same in every slot.')
param dataProtectionApplicationName string = baseName

@description('Optional. Days a deleted Key Vault or key stays recoverable.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Optional. How the Key Vault is created: \'default\' creates or updates it; \'recover\' restores the soft-deleted vault of the same name, which purge protection keeps for keyVaultSoftDeleteRetentionInDays after its resource group was deleted (a redeploy with \'default\' then fails because the name is taken). Recovering keeps every key-encryption key, so existing rings stay readable.')
@allowed(['default', 'recover'])
param keyVaultCreateMode string = 'default'

@description('Optional. ISO 8601 duration after creation at which Key Vault creates a new version of each key-encryption key.')
param keyRotateAfter string = 'P180D'

@description('Optional. ISO 8601 lifetime of each key-encryption key version.')
param keyExpiresAfter string = 'P2Y'

@description('Optional. Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Optional. Resource ID of an existing action group the alert rules notify; else give alertEmailAddress. With neither, the rules fire without notifying anyone.')
param alertActionGroupResourceId string = ''

@description('Optional. E-mail address of the action group created for the alert rules when alertActionGroupResourceId is empty.')
param alertEmailAddress string = ''

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, baseName))
var allTags = union(tags, empty(environmentName) ? {} : { 'azd-env-name': environmentName })

// Slot names become container, key, queue-prefix and journal-path names and role conditions, so they
// are checked here (ARM evaluates only the taken branch of if(), so fail() runs only on bad input).
var lowercaseLetters = 'abcdefghijklmnopqrstuvwxyz'
var slotCharacters = '${lowercaseLetters}0123456789'
var badSlots = filter(slots, slot => length(slot) < 1 || length(slot) > 24 || !contains(lowercaseLetters, substring('${slot}-', 0, 1)) || !empty(filter(range(0, length(slot)), c => !contains(slotCharacters, substring(slot, c, 1)))))
var duplicateSlots = map(filter(range(0, length(slots)), i => contains(take(slots, i), slots[i])), i => (slots[i]))
var slotProblems = concat(
  map(badSlots, slot => 'slot \'${slot}\' must be 1-24 lowercase letters and digits, starting with a letter'),
  contains(slots, 'production') ? ['\'production\' is the site itself, not a slot'] : [],
  map(duplicateSlots, slot => 'slot \'${slot}\' is listed twice')
)

// Production is the site itself; every slot follows. Index i in every per-ring array is ring i.
var ringNames = empty(slotProblems) ? concat(['production'], slots) : fail('Invalid slots parameter: ${join(slotProblems, '; ')}')
var keyRingContainerNames = [for ringName in ringNames: 'dp-${ringName}']
var keyNames = [for ringName in ringNames: 'dp-kek-${ringName}']

// The cache channel's fixed names (shared/cache/cacheConfig.ts defaults: the instructions queue, the host's
// poison queue, the "-rejected" queue and the journal container). Front-end queues are created at run time.
var cacheInstructionsQueueName = 'cache-instructions'
var cacheQueueNames = [
  cacheInstructionsQueueName
  '${cacheInstructionsQueueName}-poison'
  '${cacheInstructionsQueueName}-rejected'
]
var cacheJournalContainerName = 'cache-journal'
// shared/cache CACHE_DEFAULTS.frontEndQueuePrefix: front-end queues are rkfe-<channel>-<instance>-<hash>.
var cacheFrontEndQueuePrefix = 'rkfe'

var names = {
  hostStorage: 'sth${resourceToken}'
  keyRingStorage: 'stk${resourceToken}'
  keyVault: 'kv-${take(baseName, 8)}-${take(resourceToken, 10)}'
  logAnalytics: 'log-${baseName}-${resourceToken}'
  appInsights: 'appi-${baseName}-${resourceToken}'
  functionPlan: 'plan-func-${baseName}-${resourceToken}'
  functionApp: 'func-${baseName}-${resourceToken}'
  webPlan: 'plan-web-${baseName}-${resourceToken}'
  webApp: 'app-${baseName}-${resourceToken}'
}
// Per ring, production first: the identity that reads it and the host name it serves.
var webPrincipalIds = concat([webFarm.outputs.systemAssignedMIPrincipalId], webFarm.outputs.slotSystemAssignedMIPrincipalIds)
var webHostNames = concat([webFarm.outputs.defaultHostName], webFarm.outputs.slotDefaultHostNames)

var deploymentContainerName = 'app-package-${take(names.functionApp, 32)}-${take(resourceToken, 7)}'

module monitoring 'modules/monitoring.bicep' = {
  name: '${deployment().name}-monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: '${deployment().name}-storage'
  params: {
    hostAccountName: names.hostStorage
    keyRingAccountName: names.keyRingStorage
    location: location
    tags: allTags
    keyRingContainerNames: keyRingContainerNames
    deploymentContainerName: deploymentContainerName
    cacheQueueNames: cacheQueueNames
    cacheJournalContainerName: cacheJournalContainerName
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: '${deployment().name}-key-vault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    keyNames: keyNames
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    createMode: keyVaultCreateMode
    rotateAfter: keyRotateAfter
    expiresAfter: keyExpiresAfter
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: '${deployment().name}-function-app'
  params: {
    name: names.functionApp
    planName: names.functionPlan
    location: location
    tags: allTags
    // azd deploys the service to the resource carrying this tag (azure.yaml: services.ringkeeper).
    appTags: { 'azd-service-name': 'ringkeeper' }
    hostStorageAccountName: names.hostStorage
    deploymentContainerName: deploymentContainerName
    cacheInstructionsQueueName: cacheInstructionsQueueName
    appInsightsName: names.appInsights
    nodeVersion: functionNodeVersion
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    rotationSchedule: rotationSchedule
    ringNames: ringNames
    ringBlobUris: storage.outputs.keyRingBlobUris
    ringKeyIds: keyVault.outputs.keyUris
  }
  // The component is named at compile time above (what-if can predict it); it must exist first.
  dependsOn: [monitoring]
}

module webFarm 'modules/web-farm.bicep' = {
  name: '${deployment().name}-web-farm'
  params: {
    name: names.webApp
    planName: names.webPlan
    location: location
    tags: allTags
    skuName: webPlanSkuName
    capacity: webPlanCapacity
    linuxFxVersion: webLinuxFxVersion
    ringNames: ringNames
    ringBlobUris: storage.outputs.keyRingBlobUris
    ringKeyIds: keyVault.outputs.keyUris
    dataProtectionApplicationName: dataProtectionApplicationName
    cacheQueueServiceUri: storage.outputs.hostQueueEndpoint
    cacheBlobServiceUri: storage.outputs.hostBlobEndpoint
    cacheJournalContainerName: cacheJournalContainerName
  }
}

module alerts 'modules/alerts.bicep' = {
  name: '${deployment().name}-alerts'
  params: {
    appInsightsName: names.appInsights
    location: location
    tags: allTags
    namePrefix: baseName
    actionGroupResourceId: alertActionGroupResourceId
    alertEmailAddress: alertEmailAddress
  }
  // The component is named at compile time above (what-if can predict it); it must exist first.
  dependsOn: [monitoring]
}

// One module instance per ring: each one only ever names its own container and key.
module keyRingAccess 'modules/keyring-access.bicep' = [
  for (ringName, i) in ringNames: {
    name: '${deployment().name}-access-${ringName}'
    params: {
      ringName: ringName
      storageAccountName: names.keyRingStorage
      containerName: keyRingContainerNames[i]
      keyVaultName: names.keyVault
      keyName: keyNames[i]
      // Principal IDs exist only once the identities do, so what-if cannot know them; they name the
      // assignments (guid(scope, principal, role)) so that a recreated identity gets new assignments.
      #disable-next-line what-if-short-circuiting
      readerPrincipalId: webPrincipalIds[i]
      #disable-next-line what-if-short-circuiting
      writerPrincipalId: functionApp.outputs.systemAssignedMIPrincipalId
    }
  }
]

// One module instance per channel (= ring): each subscriber reaches only its own queues and journal paths.
module cacheAccess 'modules/cache-access.bicep' = [
  for (ringName, i) in ringNames: {
    name: '${deployment().name}-cache-${ringName}'
    params: {
      channelName: ringName
      hostStorageAccountName: names.hostStorage
      journalContainerName: cacheJournalContainerName
      frontEndQueuePrefix: cacheFrontEndQueuePrefix
      instructionsQueueName: cacheInstructionsQueueName
      // See keyRingAccess: a principal ID is known only once its identity exists.
      #disable-next-line what-if-short-circuiting
      subscriberPrincipalId: webPrincipalIds[i]
    }
  }
]

@description('The name of the resource group.')
output resourceGroupName string = resourceGroup().name

@description('The location of the resources.')
output location string = location

@description('The name of the Function App (publish target of deploy.sh).')
output functionAppName string = functionApp.outputs.name

@description('The resource ID of the Function App.')
output functionAppResourceId string = functionApp.outputs.resourceId

@description('The default host name of the Function App (HTTP API: /api/keyrings).')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('The principal ID of the Function App system-assigned identity.')
output functionAppPrincipalId string = functionApp.outputs.systemAssignedMIPrincipalId

@description('The name of the web app (production is the site itself).')
output webAppName string = webFarm.outputs.name

@description('The resource ID of the web app.')
output webAppResourceId string = webFarm.outputs.resourceId

@description('The sticky app settings each slot keeps across swaps.')
output stickySettingNames string[] = webFarm.outputs.stickySettingNames

@description('The name of the host storage account.')
output hostStorageAccountName string = storage.outputs.hostAccountName

@description('The name of the key ring storage account.')
output keyRingStorageAccountName string = storage.outputs.keyRingAccountName

@description('The name of the Key Vault.')
output keyVaultName string = keyVault.outputs.name

@description('The URI of the Key Vault.')
output keyVaultUri string = keyVault.outputs.uri

@description('The name of the cache instructions queue.')
output cacheInstructionsQueueName string = cacheInstructionsQueueName

@description('The names of the fixed cache queues (instructions, poison, rejected), in the host storage account.')
output cacheQueueNames string[] = storage.outputs.cacheQueueNames

@description('The name of the cache journal container, in the host storage account.')
output cacheJournalContainerName string = storage.outputs.cacheJournalContainerName

@description('The name of the Application Insights component.')
output appInsightsName string = monitoring.outputs.appInsightsName

@description('Per ring (production, then each slot): slot name, host name, key ring blob URI, versionless key URI, cache channel and the identity that reads it.')
output rings object[] = [
  for (ringName, i) in ringNames: {
    name: ringName
    hostName: webHostNames[i]
    containerName: keyRingContainerNames[i]
    blobUri: storage.outputs.keyRingBlobUris[i]
    keyName: keyNames[i]
    keyId: keyVault.outputs.keyUris[i]
    cacheChannel: ringName
    principalId: webPrincipalIds[i]
  }
]

@description('The ringkeeper configuration document (RINGKEEPER_CONFIG_JSON) for the operator CLI (--config). No secrets.')
output ringkeeperConfig object = functionApp.outputs.ringkeeperConfig
