metadata name = 'ringkeeper Function App'
metadata description = 'The ringkeeper Function App on Flex Consumption with a system-assigned identity, identity-based AzureWebJobsStorage and its host-side role assignments. Key ring rights are granted per ring by keyring-access.bicep.'

@description('Required. Name of the Function App.')
param name string

@description('Required. Name of the Flex Consumption plan (one app per Flex plan).')
param planName string

@description('Optional. Location for all resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Optional. Tags of the Function App only, besides tags (e.g. azd-service-name).')
param appTags object = {}

@description('Required. Name of the host storage account (AzureWebJobsStorage, deployment package, cache channel queues and journal).')
param hostStorageAccountName string

@description('Required. Blob container of the host storage account holding the deployment package.')
param deploymentContainerName string

@description('Required. Name of the cache instructions queue.')
param cacheInstructionsQueueName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Node.js major version.')
@allowed(['20', '22'])
param nodeVersion string = '22'

@description('Optional. Maximum instance count.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Memory per instance, MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Optional. NCRONTAB schedule (6 fields) of the rotation timer.')
param rotationSchedule string = '0 0 */6 * * *'

@description('Required. Ring names: production first, then the slots in parameter order. A ring name is also its cache channel name.')
param ringNames string[]

@description('Required. Blob URI of each ring, in the order of ringNames.')
param ringBlobUris string[]

@description('Required. Versionless Key Vault key URI of each ring, in the order of ringNames.')
param ringKeyIds string[]

var roles = loadJsonContent('roles.json')

// The one configuration document of ringkeeper (shared/config/types.ts), generated from the ring list.
// Each loop is its own variable: Bicep allows a for-expression only as the whole value of a declaration.
var configRings = [
  for (ringName, i) in ringNames: {
    name: ringName
    blobUri: ringBlobUris[i]
    protector: { type: 'keyvault', keyId: ringKeyIds[i] }
  }
]
var configChannels = [for ringName in ringNames: { name: ringName }]
var ringkeeperConfig = {
  storage: { connection: 'AzureWebJobsStorage' }
  rings: configRings
  cache: {
    channels: configChannels
    instructionsQueue: cacheInstructionsQueueName
    // Web apps may send to the instructions queue (notices of their own batches): a directly enqueued
    // envelope would be journaled for whatever channel it names, so only notices are accepted.
    acceptDirectEnvelopes: false
  }
}

resource hostAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: hostStorageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, appTags)
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        // Identity-based host storage: service URIs and a credential type, no account key.
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__blobServiceUri', value: hostAccount.properties.primaryEndpoints.blob }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: hostAccount.properties.primaryEndpoints.queue }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'RINGKEEPER_CONFIG_JSON', value: string(ringkeeperConfig) }
        { name: 'RINGKEEPER_ROTATION_SCHEDULE', value: rotationSchedule }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      runtime: { name: 'node', version: nodeVersion }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
  }
}

// Host storage (leases, keys, timers, deployment package): Functions needs Blob Data Owner on its account.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionApp.id, roles.storageBlobDataOwner)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Cache channel: the instructions queue trigger plus the front-end queues (rkfe-<channel>-<instance>-<hash>)
// that fan-out sends to and the janitor deletes. Their names are only known at run time, so the role
// is on the host account, which holds nothing but host storage and the cache channel.
resource cacheQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, functionApp.id, roles.storageQueueDataContributor)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// DisableLocalAuth on the component: telemetry is accepted from this identity only through this role.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

@description('The name of the Function App.')
output name string = functionApp.name

@description('The resource ID of the Function App.')
output resourceId string = functionApp.id

@description('The default host name of the Function App.')
output defaultHostName string = functionApp.properties.defaultHostName

@description('The principal ID of the Function App system-assigned identity.')
output systemAssignedMIPrincipalId string = functionApp.identity.principalId

@description('The ringkeeper configuration document the Function App runs with (no secrets).')
output ringkeeperConfig object = ringkeeperConfig
