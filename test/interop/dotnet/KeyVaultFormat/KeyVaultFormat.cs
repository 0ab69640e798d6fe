namespace Azure.Extensions.AspNetCore.DataProtection.Keys;

internal static class KeyVaultFormat
{
    /// <summary>JWA "RSA-OAEP" (SHA-1, MGF1-SHA-1): what the Key Vault encryptor asks the key to do.</summary>
    public const string WrapAlgorithm = "RSA-OAEP";
}
