using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.KeyManagement.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RingkeeperInterop;

/// <summary>
/// One ASP.NET Core application instance: a fresh service provider configured like production
/// (AddDataProtection, application name, repository = the ring's blob, key encryption), then a
/// list of steps. Steps that fail report the exception instead of ending the run.
/// </summary>
public sealed class AppInstance : IDisposable
{
    private readonly ServiceProvider _real;
    private readonly ServiceProvider _clocked;
    private readonly ClockedKeyRingProvider _clock;
    private readonly RsaKeyResolver? _resolver;
    private readonly SasBlobXmlRepository _repository;

    public AppInstance(JsonObject spec, LogCollector logs)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var dp = services.AddDataProtection()
            .SetApplicationName((string?)spec["applicationName"] ?? "ringkeeper-interop");

        var repo = new SasBlobXmlRepository(new Uri((string)spec["blobSasUrl"]!));
        _repository = repo;
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = repo); // what PersistKeysToAzureBlobStorage does

        if (spec["autoGenerateKeys"] is JsonValue auto && !(bool)auto)
        {
            dp.DisableAutomaticKeyGeneration();
        }

        var encryption = (string?)spec["keyEncryption"] ?? "none";
        if (spec["rsaPemFile"] is JsonValue pemFile)
        {
            _resolver = new RsaKeyResolver();
            var kid = _resolver.Add(File.ReadAllText((string)pemFile!));
            // Production shape: ProtectKeysWithAzureKeyVault(keyId, IKeyEncryptionKeyResolver).
            dp.ProtectKeysWithAzureKeyVault(kid, _resolver);
        }
        if (spec["certificatePfxFile"] is JsonValue pfx)
        {
            var cert = X509CertificateLoader.LoadPkcs12FromFile((string)pfx!, null, X509KeyStorageFlags.EphemeralKeySet);
            if (encryption == "certificate") dp.ProtectKeysWithCertificate(cert);
            else dp.UnprotectKeysWithAnyCertificate(cert);
        }
        if (encryption == "rsa" && _resolver is null) throw new ArgumentException("keyEncryption rsa needs rsaPemFile");
        if (encryption == "certificate" && spec["certificatePfxFile"] is null) throw new ArgumentException("keyEncryption certificate needs certificatePfxFile");

        _real = services.BuildServiceProvider();

        // Same configuration, but protect/unprotect through the real KeyRingProvider asked at a chosen instant.
        var realProvider = (ICacheableKeyRingProvider)_real.GetRequiredService<IKeyRingProvider>();
        _clock = new ClockedKeyRingProvider(realProvider);
        var clockedServices = new ServiceCollection();
        foreach (var d in services) clockedServices.Add(d);
        clockedServices.Replace(ServiceDescriptor.Singleton<IKeyRingProvider>(_clock));
        _clocked = clockedServices.BuildServiceProvider();
    }

    /// <param name="earlier">Looks up an earlier step's payload ("app:step" or "step"), so one run can protect on one instance and unprotect on another.</param>
    public JsonObject Run(JsonObject step, Func<string, string> earlier)
    {
        var op = (string)step["op"]!;
        var at = step["at"] is JsonValue a ? DateTimeOffset.Parse((string)a!, null, System.Globalization.DateTimeStyles.RoundtripKind) : (DateTimeOffset?)null;
        var result = new JsonObject { ["op"] = op };
        if (at is not null) result["at"] = Iso(at.Value);
        try
        {
            switch (op)
            {
                case "status": Status(at, result); break;
                case "protect": Protect(step, at, result); break;
                case "unprotect":
                    if (step["payloadFrom"] is JsonValue from) step["payload"] = earlier((string)from!);
                    Unprotect(step, at, result);
                    break;
                case "chunkCookie":
                    if (step["payloadFrom"] is JsonValue source) step["payload"] = earlier((string)source!);
                    ChunkCookie(step, result);
                    break;
                case "storeElement":
                    _repository.StoreElement(XElement.Parse((string)step["xml"]!, LoadOptions.PreserveWhitespace), "interop");
                    break;
                case "createKey":
                    var created = KeyManager.CreateNewKey(Date(step["activationDate"]), Date(step["expirationDate"]));
                    result["keyId"] = created.KeyId.ToString("D");
                    break;
                case "revokeKey":
                    KeyManager.RevokeKey(Guid.Parse((string)step["keyId"]!), (string?)step["reason"]);
                    break;
                case "revokeAll":
                    KeyManager.RevokeAllKeys(Date(step["revocationDate"]), (string?)step["reason"]);
                    break;
                default: throw new ArgumentException($"unknown op '{op}'");
            }
            result["ok"] = true;
        }
        catch (Exception e)
        {
            result["ok"] = false;
            result["error"] = Error(e);
        }
        if (_resolver is not null) result["kekUnwraps"] = _resolver.Unwraps;
        return result;
    }

    private IKeyManager KeyManager => _real.GetRequiredService<IKeyManager>();

    private void Status(DateTimeOffset? at, JsonObject result)
    {
        var now = at ?? DateTimeOffset.UtcNow;
        result["now"] = Iso(now);
        // Refusal = the key manager cannot read the ring (repository or XmlKeyManager throws).
        var keys = KeyManager.GetAllKeys();
        var list = new JsonArray();
        foreach (var k in keys.OrderBy(k => k.CreationDate))
        {
            var item = new JsonObject
            {
                ["id"] = k.KeyId.ToString("D"),
                ["creationDate"] = Iso(k.CreationDate),
                ["activationDate"] = Iso(k.ActivationDate),
                ["expirationDate"] = Iso(k.ExpirationDate),
                ["revoked"] = k.IsRevoked,
            };
            try
            {
                item["usable"] = k.CreateEncryptor() is not null; // decrypts the master key
            }
            catch (Exception e)
            {
                item["usable"] = false;
                item["error"] = Error(e);
            }
            list.Add(item);
        }
        result["keys"] = list;

        var resolution = _real.GetRequiredService<IDefaultKeyResolver>().ResolveDefaultKeyPolicy(now, keys);
        result["resolver"] = new JsonObject
        {
            ["defaultKey"] = resolution.DefaultKey?.KeyId.ToString("D"),
            ["fallbackKey"] = resolution.FallbackKey?.KeyId.ToString("D"),
            ["shouldGenerateNewKey"] = resolution.ShouldGenerateNewKey,
        };
        // What the app actually protects with: the key ring's default key (real clock unless `at`).
        try
        {
            var ring = at is null ? _real.GetRequiredService<IKeyRingProvider>().GetCurrentKeyRing() : Clocked(at.Value);
            result["defaultKey"] = ring.DefaultKeyId.ToString("D");
        }
        catch (Exception e)
        {
            result["defaultKey"] = null;
            result["keyRingError"] = Error(e);
        }
    }

    private IKeyRing Clocked(DateTimeOffset at)
    {
        _clock.Now = at;
        return _clock.GetCurrentKeyRing();
    }

    /// <summary>
    /// The app's protector for `purposes`; an empty list is the provider itself, which AddDataProtection has
    /// already linked to the application name (its purpose chain is just the discriminator).
    /// </summary>
    private IDataProtector Protector(JsonObject step, DateTimeOffset? at)
    {
        var purposes = step["purposes"]?.AsArray().Select(p => (string)p!).ToArray() ?? ["ringkeeper-interop"];
        if (at is not null) _clock.Now = at.Value;
        var provider = (at is null ? _real : _clocked).GetRequiredService<IDataProtectionProvider>();
        if (purposes.Length == 0) return provider as IDataProtector ?? throw new InvalidOperationException("the provider is not linked to an application name");
        return provider.CreateProtector(purposes);
    }

    /// <summary>`text` (UTF-8) or `dataBase64` (bytes); `stringForm` uses the string overload (base64url text out).</summary>
    private void Protect(JsonObject step, DateTimeOffset? at, JsonObject result)
    {
        var protector = Protector(step, at);
        var plaintext = step["dataBase64"] is JsonValue data ? Convert.FromBase64String((string)data!) : Encoding.UTF8.GetBytes((string)step["text"]!);
        byte[] payload;
        if (step["stringForm"] is JsonValue sf && (bool)sf)
        {
            var text = protector.Protect((string)step["text"]!);
            result["payloadText"] = text;
            payload = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlDecode(text);
        }
        else payload = protector.Protect(plaintext);
        result["payload"] = Convert.ToBase64String(payload);
        result["keyId"] = PayloadKeyId(payload);
    }

    /// <summary>`payload` (base64 bytes) or `payloadText` (the string overload's base64url); reports `text` and `dataBase64`.</summary>
    private void Unprotect(JsonObject step, DateTimeOffset? at, JsonObject result)
    {
        var protector = Protector(step, at);
        if (step["payloadText"] is JsonValue t)
        {
            var text = protector.Unprotect((string)t!);
            result["text"] = text;
            result["dataBase64"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
            return;
        }
        var payload = Convert.FromBase64String((string)step["payload"]!);
        result["keyId"] = PayloadKeyId(payload);
        var plaintext = protector.Unprotect(payload);
        result["text"] = Encoding.UTF8.GetString(plaintext);
        result["dataBase64"] = Convert.ToBase64String(plaintext);
    }

    /// <summary>
    /// The Cookie request header a browser sends back after the real ChunkingCookieManager wrote `value`
    /// (the base64url form of an earlier payload) as cookie `name` with `chunkSize`.
    /// </summary>
    private static void ChunkCookie(JsonObject step, JsonObject result)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        var manager = new Microsoft.AspNetCore.Authentication.Cookies.ChunkingCookieManager { ChunkSize = (int?)step["chunkSize"] ?? 4050 };
        var value = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(Convert.FromBase64String((string)step["payload"]!));
        manager.AppendResponseCookie(context, (string)step["name"]!, value, new Microsoft.AspNetCore.Http.CookieOptions { Path = "/", HttpOnly = true });
        var pairs = context.Response.Headers.SetCookie.Select(c => c!.Split(';')[0]).ToArray();
        result["cookieHeader"] = string.Join("; ", pairs);
        result["cookies"] = pairs.Length;
    }

    /// <summary>Bytes 4..19 of a payload are the key id (.NET Guid byte order) after the 4-byte magic header.</summary>
    private static string? PayloadKeyId(byte[] payload) => payload.Length >= 20 ? new Guid(payload.AsSpan(4, 16)).ToString("D") : null;

    private static DateTimeOffset Date(JsonNode? n) => DateTimeOffset.Parse((string)n!, null, System.Globalization.DateTimeStyles.RoundtripKind);

    public static string Iso(DateTimeOffset d) => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");

    public static JsonObject Error(Exception e)
    {
        var inner = e;
        while (inner is System.Reflection.TargetInvocationException { InnerException: not null }) inner = inner.InnerException!;
        var o = new JsonObject { ["type"] = inner.GetType().FullName, ["message"] = inner.Message };
        if (inner.InnerException is not null) o["inner"] = Error(inner.InnerException);
        return o;
    }

    public void Dispose()
    {
        _clocked.Dispose();
        _real.Dispose();
    }
}
