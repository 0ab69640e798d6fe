using System.Security.Cryptography;
using System.Xml.Linq;
using Azure.Core.Cryptography;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Azure.Extensions.AspNetCore.DataProtection.Keys;

/// <summary>Writes the Key Vault format: random 16-byte AES key and IV, AES-128-CBC over the saved
/// element, the AES key wrapped with RSA-OAEP by the key the resolver returns for the configured id.</summary>
internal sealed class AzureKeyVaultXmlEncryptor : IXmlEncryptor
{
    private readonly IKeyEncryptionKeyResolver _resolver;
    private readonly string _keyId;

    public AzureKeyVaultXmlEncryptor(IKeyEncryptionKeyResolver resolver, string keyId)
    {
        _resolver = resolver;
        _keyId = keyId;
    }

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        byte[] saved;
        using (var ms = new MemoryStream())
        {
            plaintextElement.Save(ms, SaveOptions.DisableFormatting);
            saved = ms.ToArray();
        }
        var contentKey = RandomNumberGenerator.GetBytes(16);
        var iv = RandomNumberGenerator.GetBytes(16);
        byte[] value;
        using (var aes = Aes.Create())
        using (var encryptor = aes.CreateEncryptor(contentKey, iv))
        {
            value = encryptor.TransformFinalBlock(saved, 0, saved.Length);
        }
        var kek = _resolver.Resolve(_keyId);
        var wrapped = kek.WrapKey(KeyVaultFormat.WrapAlgorithm, contentKey);
        var element = new XElement("encryptedKey",
            new XComment(" This key is encrypted with Azure Key Vault. "),
            new XElement("kid", kek.KeyId),
            new XElement("key", Convert.ToBase64String(wrapped)),
            new XElement("iv", Convert.ToBase64String(iv)),
            new XElement("value", Convert.ToBase64String(value)));
        return new EncryptedXmlInfo(element, typeof(AzureKeyVaultXmlDecryptor));
    }
}
