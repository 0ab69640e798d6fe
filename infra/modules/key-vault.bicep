metadata name = 'ringkeeper Key Vault'
metadata description = 'Key Vault (RBAC authorization, soft delete, purge protection) with one RSA key-encryption key per ring and a rotation policy.'

@description('Required. Name of the Key Vault.')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Location for all resources.')
param location string = resourceGroup().location

@description('Optional. Tags of the resources.')
param tags object = {}

@description('Required. One key-encryption key per ring, production first, then the slots in parameter order.')
param keyNames string[]

@description('Optional. Days a deleted vault or key stays recoverable.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Optional. \'default\' creates or updates the vault; \'recover\' restores a soft-deleted vault of this name (purge protection keeps it after its resource group is deleted).')
@allowed(['default', 'recover'])
param createMode string = 'default'

@description('Optional. RSA key size of the key-encryption keys.')
@allowed([2048, 3072, 4096])
param keySize int = 3072

@description('Optional. ISO 8601 duration after creation at which Key Vault creates a new key version.')
param rotateAfter string = 'P180D'

@description('Optional. ISO 8601 lifetime of each key version. Expired versions still unwrap, so older ring keys stay readable.')
param expiresAfter string = 'P2Y'

@description('Optional. ISO 8601 duration before expiry at which Key Vault emits a near-expiry event.')
param notifyBeforeExpiry string = 'P30D'

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    createMode: createMode
    sku: { family: 'A', name: 'standard' }
    // Defaults to false when omitted: access policies would bypass the per-key role scoping.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Irreversible by design: a purged KEK makes every ring key it wrapped unreadable.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow' }
  }
}

// ARM creates a key only if it does not exist; redeploying never replaces key material.
resource keys 'Microsoft.KeyVault/vaults/keys@2026-05-15' = [
  for keyName in keyNames: {
    parent: vault
    name: keyName
    tags: tags
    properties: {
      kty: 'RSA'
      keySize: keySize
      keyOps: ['wrapKey', 'unwrapKey']
      attributes: { enabled: true }
      rotationPolicy: {
        attributes: { expiryTime: expiresAfter }
        lifetimeActions: [
          { trigger: { timeAfterCreate: rotateAfter }, action: { type: 'rotate' } }
          { trigger: { timeBeforeExpiry: notifyBeforeExpiry }, action: { type: 'notify' } }
        ]
      }
    }
  }
]

@description('The name of the Key Vault.')
output name string = vault.name

@description('The resource ID of the Key Vault.')
output resourceId string = vault.id

@description('The URI of the Key Vault.')
output uri string = vault.properties.vaultUri

@description('The versionless URI of each key, in the order of keyNames (ringkeeper records the versioned kid itself).')
output keyUris string[] = [for (keyName, i) in keyNames: keys[i].properties.keyUri]

@description('The resource ID of each key, in the order of keyNames.')
output keyResourceIds string[] = [for (keyName, i) in keyNames: keys[i].id]
