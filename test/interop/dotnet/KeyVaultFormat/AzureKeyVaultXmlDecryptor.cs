using System.Security.Cryptography;
using System.Xml.Linq;
using Azure.Core.Cryptography;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Azure.Extensions.AspNetCore.DataProtection.Keys;

/// <summary>
/// Reads <c>&lt;encryptedKey&gt;&lt;kid/&gt;&lt;key/&gt;&lt;iv/&gt;&lt;value/&gt;&lt;/encryptedKey&gt;</c>: unwraps the
/// AES key with RSA-OAEP through the registered <see cref="IKeyEncryptionKeyResolver"/>, then
/// AES-CBC-decrypts the saved element. Created by ASP.NET Core's activator from the ring's
/// decryptorType, hence the fixed namespace/type name and the IServiceProvider constructor.
/// </summary>
internal sealed class AzureKeyVaultXmlDecryptor : IXmlDecryptor
{
    private readonly IKeyEncryptionKeyResolver _resolver;

    public AzureKeyVaultXmlDecryptor(IServiceProvider services)
    {
        _resolver = services.GetRequiredService<IKeyEncryptionKeyResolver>();
    }

    public XElement Decrypt(XElement encryptedElement)
    {
        var kid = (string?)encryptedElement.Element("kid") ?? throw new FormatException("encryptedKey has no <kid>.");
        var wrapped = Convert.FromBase64String((string?)encryptedElement.Element("key") ?? "");
        var iv = Convert.FromBase64String((string?)encryptedElement.Element("iv") ?? "");
        var value = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");

        var contentKey = _resolver.Resolve(kid).UnwrapKey(KeyVaultFormat.WrapAlgorithm, wrapped);
        using var aes = Aes.Create();
        // The unwrapped key's length picks AES-128/192/256, as the Key Vault decryptor allows.
        using var decryptor = aes.CreateDecryptor(contentKey, iv);
        var plaintext = decryptor.TransformFinalBlock(value, 0, value.Length);
        using var ms = new MemoryStream(plaintext);
        return XElement.Load(ms); // tolerates the BOM + XML declaration the encryptor saved
    }
}
