metadata name = 'ringkeeper web farm'
metadata description = 'App Service plan, the ASP.NET Core web app (production) and its deployment slots, each with its own system-assigned identity and sticky key ring settings.'

@description('Required. Name of the web app; production is the site itself.')
param name string

@description('Required. Name of the App Service plan.')
param planName string

@description('Optional. Location for all resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. App Service plan SKU. Deployment slots need Standard, Premium or Isolated.')
@allowed(['S1', 'S2', 'S3', 'P0v3', 'P1v3', 'P2v3', 'P3v3'])
param skuName string = 'P0v3'

@description('Optional. Number of instances of the web farm.')
@minValue(1)
@maxValue(30)
param capacity int = 2

@description('Optional. Linux runtime stack of the web app.')
param linuxFxVersion string = 'DOTNETCORE|9.0'

@description('Required. Ring names: production first, then the slots in parameter order. A ring name is also its cache channel name.')
param ringNames string[]

@description('Required. Blob URI of each ring, in the order of ringNames.')
param ringBlobUris string[]

@description('Required. Versionless Key Vault key URI of each ring, in the order of ringNames.')
param ringKeyIds string[]

@description('Required. Data Protection application name (SetApplicationName), the same in every slot.')
param dataProtectionApplicationName string

@description('Required. Queue service URI of the account holding the cache channel (the Function App\'s host storage).')
param cacheQueueServiceUri string

@description('Required. Blob service URI of the account holding the cache journal.')
param cacheBlobServiceUri string

@description('Required. Blob container of the cache journal.')
param cacheJournalContainerName string

// Setting names read by the ASP.NET Core app (infra/README.md). All of them are sticky.
var settingNames = {
  blobUri: 'DataProtection__BlobUri'
  keyId: 'DataProtection__KeyId'
  applicationName: 'DataProtection__ApplicationName'
  cacheChannel: 'Ringkeeper__Cache__Channel'
  cacheQueueServiceUri: 'Ringkeeper__Cache__QueueServiceUri'
  cacheBlobServiceUri: 'Ringkeeper__Cache__BlobServiceUri'
  cacheJournalContainer: 'Ringkeeper__Cache__JournalContainer'
}

var stickySettingNames = [
  settingNames.blobUri
  settingNames.keyId
  settingNames.applicationName
  settingNames.cacheChannel
  settingNames.cacheQueueServiceUri
  settingNames.cacheBlobServiceUri
  settingNames.cacheJournalContainer
]

var ringSettings = [
  for (ringName, i) in ringNames: [
    { name: settingNames.blobUri, value: ringBlobUris[i] }
    { name: settingNames.keyId, value: ringKeyIds[i] }
    { name: settingNames.applicationName, value: dataProtectionApplicationName }
    { name: settingNames.cacheChannel, value: ringName }
    { name: settingNames.cacheQueueServiceUri, value: cacheQueueServiceUri }
    { name: settingNames.cacheBlobServiceUri, value: cacheBlobServiceUri }
    { name: settingNames.cacheJournalContainer, value: cacheJournalContainerName }
  ]
]

var siteConfig = {
  linuxFxVersion: linuxFxVersion
  alwaysOn: true
  http20Enabled: true
  minTlsVersion: '1.2'
  scmMinTlsVersion: '1.2'
  ftpsState: 'Disabled'
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: { name: skuName, capacity: capacity }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'app,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // The ring is shared by all instances of a slot: no need to pin clients to one instance.
    clientAffinityEnabled: false
    siteConfig: union(siteConfig, { appSettings: ringSettings[0] })
  }
}

// Managed identities are never swapped; each slot keeps its own.
resource slots 'Microsoft.Web/sites/slots@2025-03-01' = [
  for (slotName, i) in skip(ringNames, 1): {
    parent: site
    name: slotName
    location: location
    tags: tags
    kind: 'app,linux'
    identity: { type: 'SystemAssigned' }
    properties: {
      serverFarmId: plan.id
      httpsOnly: true
      clientAffinityEnabled: false
      siteConfig: union(siteConfig, { appSettings: ringSettings[i + 1] })
    }
  }
]

// Whole-object PUT on the production site, valid for every slot: a swap moves code, never key rings.
resource stickySettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'slotConfigNames'
  properties: {
    appSettingNames: stickySettingNames
  }
}

@description('The name of the web app.')
output name string = site.name

@description('The resource ID of the web app.')
output resourceId string = site.id

@description('The names of the sticky (slot) app settings.')
output stickySettingNames string[] = stickySettingNames

@description('The default host name of the web app (production).')
output defaultHostName string = site.properties.defaultHostName

@description('The default host name of each slot, in the order of ringNames without production.')
output slotDefaultHostNames string[] = [for (slotName, i) in skip(ringNames, 1): slots[i].properties.defaultHostName]

@description('The principal ID of the web app (production) system-assigned identity.')
output systemAssignedMIPrincipalId string = site.identity.principalId

@description('The principal ID of each slot\'s system-assigned identity, in the order of ringNames without production.')
output slotSystemAssignedMIPrincipalIds string[] = [for (slotName, i) in skip(ringNames, 1): slots[i].identity.principalId]
