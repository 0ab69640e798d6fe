metadata name = 'ringkeeper storage'
metadata description = 'Two accounts: host storage for the Function App (AzureWebJobsStorage, Flex deployment package, cache queues) and a separate key ring account with one container per slot, so that host-storage rights never reach a key ring.'

@description('Required. Name of the Function App host storage account.')
param hostAccountName string

@description('Required. Name of the key ring storage account.')
param keyRingAccountName string

@description('Optional. Location for all resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Required. One key ring container per ring, production first, then the slots in parameter order.')
param keyRingContainerNames string[]

@description('Optional. Name of the blob that holds a ring inside its container (the whole ring is one XML document).')
param keyRingBlobName string = 'keys.xml'

@description('Required. Blob container holding the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Required. Fixed queues of the cache channel (instructions, poison, rejected).')
param cacheQueueNames string[]

@description('Required. Blob container of the cache channel journal.')
param cacheJournalContainerName string

@description('Optional. Days a deleted or overwritten key ring blob stays recoverable.')
@minValue(1)
@maxValue(365)
param keyRingDeleteRetentionInDays int = 30

// Identity only: no shared keys, no anonymous blobs, TLS 1.2, HTTPS only.
var secureBaseline = {
  accessTier: 'Hot'
  allowBlobPublicAccess: false
  allowCrossTenantReplication: false
  allowSharedKeyAccess: false
  defaultToOAuthAuthentication: true
  dnsEndpointType: 'Standard'
  minimumTlsVersion: 'TLS1_2'
  publicNetworkAccess: 'Enabled'
  supportsHttpsTrafficOnly: true
}

resource hostAccount 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: hostAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: secureBaseline
}

// Web identities hold Storage Blob Data Contributor on the cache journal container, whose container
// Actions (delete included) no condition can limit: a deleted journal container stays restorable.
resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: hostAccount
  name: 'default'
  properties: {
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: hostBlobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource cacheJournalContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: hostBlobService
  name: cacheJournalContainerName
  properties: { publicAccess: 'None' }
}

resource hostQueueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' = {
  parent: hostAccount
  name: 'default'
}

// Created up front so they exist before the first message; the code also creates them if missing.
resource cacheQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' = [
  for queueName in cacheQueueNames: {
    parent: hostQueueService
    name: queueName
  }
]

resource keyRingAccount 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: keyRingAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: secureBaseline
}

// Versioning + soft delete: a bad write or delete of a ring is recoverable.
resource keyRingBlobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: keyRingAccount
  name: 'default'
  properties: {
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: keyRingDeleteRetentionInDays }
    containerDeleteRetentionPolicy: { enabled: true, days: keyRingDeleteRetentionInDays }
  }
}

resource keyRingContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = [
  for containerName in keyRingContainerNames: {
    parent: keyRingBlobService
    name: containerName
    properties: { publicAccess: 'None' }
  }
]

@description('The name of the host storage account.')
output hostAccountName string = hostAccount.name

@description('The resource ID of the host storage account.')
output hostAccountResourceId string = hostAccount.id

@description('The blob endpoint of the host storage account.')
output hostBlobEndpoint string = hostAccount.properties.primaryEndpoints.blob

@description('The queue endpoint of the host storage account.')
output hostQueueEndpoint string = hostAccount.properties.primaryEndpoints.queue

@description('The name of the key ring storage account.')
output keyRingAccountName string = keyRingAccount.name

@description('The resource ID of the key ring storage account.')
output keyRingAccountResourceId string = keyRingAccount.id

@description('The blob URI of each ring, in the order of keyRingContainerNames.')
output keyRingBlobUris string[] = [
  for (containerName, i) in keyRingContainerNames: '${keyRingAccount.properties.primaryEndpoints.blob}${keyRingContainers[i].name}/${keyRingBlobName}'
]

@description('The resource ID of each key ring container, in the order of keyRingContainerNames.')
output keyRingContainerResourceIds string[] = [for (containerName, i) in keyRingContainerNames: keyRingContainers[i].id]

@description('The name of the Flex Consumption deployment container.')
output deploymentContainerName string = deploymentContainer.name

@description('The name of the cache journal container.')
output cacheJournalContainerName string = cacheJournalContainer.name

@description('The names of the cache queues.')
output cacheQueueNames string[] = [for (queueName, i) in cacheQueueNames: cacheQueues[i].name]
