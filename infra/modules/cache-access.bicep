metadata name = 'ringkeeper cache channel access'
metadata description = 'Role assignments of one cache channel\'s web site or slot identity: subscriber (messages of its own front-end queues, reading its own journal paths) and publisher (writing its own journal batches, head hint and scheduling lease; sending notices to the instructions queue), by Azure ABAC conditions on the host storage account.'

@description('Required. Name of the channel (the slot; production for the site itself). Lowercase letters and digits only, so that no channel\'s queue prefix or journal path is a prefix of another\'s.')
param channelName string

@description('Required. Name of the host storage account that holds the cache queues and journal (the account AzureWebJobsStorage names).')
param hostStorageAccountName string

@description('Required. Blob container of the cache journal.')
param journalContainerName string

@description('Required. Prefix of front-end queue names (shared/cache: <prefix>-<channel>-<instance>-<hash>).')
param frontEndQueuePrefix string

@description('Required. Name of the instructions queue (created by storage.bicep) that publishers send their notices to.')
param instructionsQueueName string

@description('Required. Principal ID of the web site or slot identity that subscribes and publishes to this channel.')
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

// Publishing (docs/cache-protocol.md, "Storage layout and access"): the .NET CachePublisher creates
// batch blobs {channel}/seq/{first:020}.json (If-None-Match: *) and moves {channel}/head.json;
// Ringkeeper.Umbraco's election creates {channel}/scheduling-publisher.lease and leases it. Put Blob
// and Lease Blob (acquire, renew, release) are blobs/write; creating a new blob may instead be
// authorised as blobs/add/action, which the role also holds, so both are confined to these paths.
// blobs:path is the name within the container.
var blobWrite = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
var blobAdd = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
var blobPath = '@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]'
var publisherPaths = '${blobPath} StringStartsWith \'${channelName}/seq/\' OR ${blobPath} StringEquals \'${channelName}/head.json\' OR ${blobPath} StringEquals \'${channelName}/scheduling-publisher.lease\''
// The role's other DataActions (read: the reader assignment's, with its own condition; delete and
// move: nobody but the janitor deletes) are refused: the assignment's scope is the journal container,
// so no request it authorises is in a container of another name.
var otherBlobActions = [
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'
  'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'
]
var notAnyOtherBlobAction = join(map(otherBlobActions, a => '!(ActionMatches{\'${a}\'})'), ' AND ')
var journalWriteCondition = '((!(ActionMatches{\'${blobWrite}\'}) AND !(ActionMatches{\'${blobAdd}\'})) OR (${publisherPaths})) AND ((${notAnyOtherBlobAction}) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringNotEquals \'${journalContainerName}\'))'

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

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' existing = {
  parent: hostAccount
  name: 'default'
}

resource instructionsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' existing = {
  parent: queueService
  name: instructionsQueueName
}

// The role's Actions (container read, write, delete; user delegation key) carry no condition: see
// infra/README.md, "Cache channel access".
resource journalWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(journal.id, subscriberPrincipalId, roles.storageBlobDataContributor)
  scope: journal
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: subscriberPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${channelName} publishes to its own journal (${channelName}/seq/*, ${channelName}/head.json) and holds its scheduling lease'
    conditionVersion: '2.0'
    condition: journalWriteCondition
  }
}

// A notice only names a batch the fan-out then reads from {channel}/seq/, which only this channel's
// identities can write; the fan-out is configured to refuse directly enqueued envelopes
// (cache.acceptDirectEnvelopes false in function-app.bicep), so sending here publishes nothing new elsewhere.
resource noticeSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(instructionsQueue.id, subscriberPrincipalId, roles.storageQueueDataMessageSender)
  scope: instructionsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: subscriberPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${channelName} sends notices of its own journal batches'
  }
}

@description('The resource IDs of this channel\'s role assignments.')
output roleAssignmentResourceIds string[] = [queueSubscriber.id, journalReader.id, journalWriter.id, noticeSender.id]
