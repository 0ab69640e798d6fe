using System.Security.Cryptography;
using Azure.Core.Cryptography;

namespace RingkeeperInterop;

/// <summary>
/// IKeyEncryptionKeyResolver over local RSA keys (ringkeeper's `rsa` protector). The kid is
/// urn:ringkeeper:rsa:sha256:&lt;base64url(SHA-256(SPKI DER))&gt;; unknown kids are refused,
/// as Key Vault would refuse a key it does not hold.
/// </summary>
public sealed class RsaKeyResolver : IKeyEncryptionKeyResolver
{
    private readonly Dictionary<string, RsaKeyEncryptionKey> _keys = new(StringComparer.Ordinal);

    public int Unwraps => _keys.Values.Sum(k => k.Unwraps);
    public int Wraps => _keys.Values.Sum(k => k.Wraps);

    public string Add(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        var kid = KidOf(rsa);
        _keys[kid] = new RsaKeyEncryptionKey(kid, rsa);
        return kid;
    }

    public static string KidOf(RSA rsa) =>
        "urn:ringkeeper:rsa:sha256:" + Base64Url(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()));

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public IKeyEncryptionKey Resolve(string keyId, CancellationToken cancellationToken = default) =>
        _keys.TryGetValue(keyId, out var k) ? k : throw new CryptographicException($"Unknown key encryption key '{keyId}'.");

    public Task<IKeyEncryptionKey> ResolveAsync(string keyId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Resolve(keyId, cancellationToken));
}

public sealed class RsaKeyEncryptionKey(string kid, RSA rsa) : IKeyEncryptionKey
{
    public string KeyId { get; } = kid;
    public int Unwraps { get; private set; }
    public int Wraps { get; private set; }

    private static RSAEncryptionPadding Padding(string algorithm) => algorithm == "RSA-OAEP"
        ? RSAEncryptionPadding.OaepSHA1
        : throw new NotSupportedException($"Key wrap algorithm '{algorithm}' is not RSA-OAEP.");

    public byte[] WrapKey(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        Wraps++;
        return rsa.Encrypt(key.ToArray(), Padding(algorithm));
    }

    public Task<byte[]> WrapKeyAsync(string algorithm, ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        Task.FromResult(WrapKey(algorithm, key, cancellationToken));

    public byte[] UnwrapKey(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default)
    {
        Unwraps++;
        return rsa.Decrypt(encryptedKey.ToArray(), Padding(algorithm));
    }

    public Task<byte[]> UnwrapKeyAsync(string algorithm, ReadOnlyMemory<byte> encryptedKey, CancellationToken cancellationToken = default) =>
        Task.FromResult(UnwrapKey(algorithm, encryptedKey, cancellationToken));
}
