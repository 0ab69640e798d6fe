metadata name = 'ringkeeper cache channel access'
metadata description = 'Role assignments of one cache channel\'s subscriber (the web site or slot identity): messages of its own front-end queues and its own journal paths only, by Azure ABAC conditions on the host storage account.'

@description('Required. Name of the channel (the slot; production for the site itself). Lowercase letters and digits only, so that no channel\'s queue prefix or journal path is a prefix of another\'s.')
param channelName string

@description('Required. Name of the host storage account that holds the cache queues and journal (the account AzureWebJobsStorage names).')
param hostStorageAccountName string

@description('Required. Blob container of the cache journal.')
param journalContainerName string

@description('Required. Prefix of front-end queue names (shared/cache: <prefix>-<channel>-<instance>-<hash>).')
param frontEndQueuePrefix string

@description('Required. Principal ID of the web site or slot identity that subscribes to this channel.')
param subscriberPrincipalId string

var roles = loadJsonContent('roles.json')
var queueNamePrefix = '${frontEndQueuePrefix}-${channelName}-'
var journalPathPrefix = '${channelName}/'

// ABAC on queues covers only the five message DataActions (queues-auth-abac-attributes); every one
// of them is restricted to this channel's front-end queues.
var messageActions = [
  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read'
  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/write'
  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete'
  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action'
  'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action'
]
var notAnyMessageAction = join(map(messageActions, a => '!(ActionMatches{\'${a}\'})'), ' AND ')
var queueCondition = '((${notAnyMessageAction}) OR (@Resource[Microsoft.Storage/storageAccounts/queueServices/queues:name] StringStartsWith \'${queueNamePrefix}\'))'

// Get Blob (blobs:path, without the container name) and List Blobs (the request's prefix, so a list
// without a prefix or with another channel's prefix is refused).
var blobRead = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
var journalCondition = '((!(ActionMatches{\'${blobRead}\'} AND NOT SubOperationMatches{\'Blob.List\'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith \'${journalPathPrefix}\')) AND ((!(ActionMatches{\'${blobRead}\'} AND SubOperationMatches{\'Blob.List\'})) OR (@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith \'${journalPathPrefix}\'))'

resource hostAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: hostStorageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' existing = {
  parent: hostAccount
  name: 'default'
}

resource journal 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' existing = {
  parent: blobService
  name: journalContainerName
}

// Front-end queues are created at run time (the instance is in the name), so the scope is the account.
// The role's queue-level Actions (create, delete, get/set metadata) cannot carry a condition: see
// infra/README.md, "Cache channel access", for what that leaves open.
resource queueSubscriber 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostAccount.id, subscriberPrincipalId, roles.storageQueueDataContributor)
  scope: hostAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: subscriberPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${channelName} receives on its own front-end queues (${queueNamePrefix}*)'
    conditionVersion: '2.0'
    condition: queueCondition
  }
}

resource journalReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(journal.id, subscriberPrincipalId, roles.storageBlobDataReader)
  scope: journal
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: subscriberPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${channelName} reads its own journal (${journalPathPrefix}*)'
    conditionVersion: '2.0'
    condition: journalCondition
  }
}

@description('The resource IDs of this channel\'s role assignments.')
output roleAssignmentResourceIds string[] = [queueSubscriber.id, journalReader.id]
