/** Names and type strings of the key ring XML, as XmlKeyManager and AzureBlobXmlRepository write them. */
export const DATA_PROTECTION_NAMESPACE = 'http://schemas.asp.net/2015/03/dataProtection';
export const REPOSITORY_ELEMENT = 'repository';
export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';
export const KEY_RING_CONTENT_TYPE = 'application/xml; charset=utf-8';

/**
 * Readers strip the version (TypeForwardingActivator) and .NET Core binds a lower requested
 * assembly version to the loaded one, so one string serves every ASP.NET Core release.
 */
export const DESCRIPTOR_DESERIALIZER_TYPE =
  'Microsoft.AspNetCore.DataProtection.AuthenticatedEncryption.ConfigurationModel.AuthenticatedEncryptorDescriptorDeserializer, Microsoft.AspNetCore.DataProtection, Version=8.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60';

/** The lowest 1.x version: any Azure.Extensions.AspNetCore.DataProtection.Keys 1.x binds to it. */
export const KEY_VAULT_DECRYPTOR_TYPE =
  'Azure.Extensions.AspNetCore.DataProtection.Keys.AzureKeyVaultXmlDecryptor, Azure.Extensions.AspNetCore.DataProtection.Keys, Version=1.0.0.0, Culture=neutral, PublicKeyToken=92742159e12e44c8';

export const KEY_VAULT_ENCRYPTED_KEY_COMMENT = ' This key is encrypted with Azure Key Vault. ';
export const UNENCRYPTED_KEY_COMMENT = ' Warning: the key below is in an unencrypted form. ';
