metadata name = 'ringkeeper key ring access'
metadata description = 'Role assignments of one ring: its web identity reads its own container and unwraps with its own key; the Function App (single writer) writes the container and wraps with the key. Nothing is granted above the container or the key.'

@description('Required. Name of the ring (the slot; production for the site itself).')
param ringName string

@description('Required. Name of the key ring storage account.')
param storageAccountName string

@description('Required. Name of this ring\'s container.')
param containerName string

@description('Required. Name of the Key Vault.')
param keyVaultName string

@description('Required. Name of this ring\'s key-encryption key.')
param keyName string

@description('Required. Principal ID of the web site or slot identity that reads this ring.')
param readerPrincipalId string

@description('Required. Principal ID of the Function App identity that writes this ring.')
param writerPrincipalId string

var roles = loadJsonContent('roles.json')

resource account 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' existing = {
  parent: account
  name: 'default'
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' existing = {
  parent: blobService
  name: containerName
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' existing = {
  name: keyVaultName
}

resource key 'Microsoft.KeyVault/vaults/keys@2026-05-15' existing = {
  parent: vault
  name: keyName
}

// Read-only: web apps run with DisableAutomaticKeyGeneration and never write the ring.
resource readerBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, readerPrincipalId, roles.storageBlobDataReader)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${ringName} reads its key ring'
  }
}

// Key metadata read + wrap/unwrap; no encrypt/decrypt/sign, no key management.
resource readerKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(key.id, readerPrincipalId, roles.keyVaultCryptoServiceEncryptionUser)
  scope: key
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoServiceEncryptionUser)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: ${ringName} unwraps its ring keys'
  }
}

resource writerBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(container.id, writerPrincipalId, roles.storageBlobDataContributor)
  scope: container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: writerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: the rotator writes the ${ringName} key ring'
  }
}

// The same role covers wrapKey (new ring keys) and unwrapKey (verify).
resource writerKey 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(key.id, writerPrincipalId, roles.keyVaultCryptoServiceEncryptionUser)
  scope: key
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoServiceEncryptionUser)
    principalId: writerPrincipalId
    principalType: 'ServicePrincipal'
    description: 'ringkeeper: the rotator wraps ${ringName} ring keys'
  }
}

@description('The resource IDs of this ring\'s role assignments.')
output roleAssignmentResourceIds string[] = [readerBlob.id, readerKey.id, writerBlob.id, writerKey.id]
