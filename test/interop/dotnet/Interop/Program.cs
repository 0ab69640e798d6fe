using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using RingkeeperInterop;

// Usage:
//   RingkeeperInterop run           < request.json   -> {"env":{...},"apps":[{"name","results":[...],"logs":[...]}]}
//   RingkeeperInterop cert --out F.pfx               -> {"thumbprint"}   self-signed RSA-2048 certificate, no password
//   RingkeeperInterop env                            -> {"env":{...}}
// Exit 0 when the request was carried out (individual steps report their own failures), 2 on bad usage.
var json = new JsonSerializerOptions { WriteIndented = false };
try
{
    switch (args.FirstOrDefault())
    {
        case "run":
        {
            var request = JsonNode.Parse(Console.In.ReadToEnd())!.AsObject();
            var apps = new JsonArray();
            var done = new Dictionary<string, JsonArray>();
            foreach (var spec in request["apps"]!.AsArray())
            {
                var logs = new LogCollector();
                var app = new JsonObject { ["name"] = (string?)spec!["name"] };
                var results = new JsonArray();
                try
                {
                    using var instance = new AppInstance(spec.AsObject(), logs);
                    var appName = (string?)spec["name"] ?? "";
                    done[appName] = results;
                    string Earlier(string reference)
                    {
                        var parts = reference.Split(':');
                        var source = parts.Length == 2 ? done[parts[0]] : results;
                        return (string?)source[int.Parse(parts[^1])]?["payload"] ?? throw new ArgumentException($"step {reference} has no payload");
                    }
                    foreach (var step in spec["steps"]!.AsArray()) results.Add(instance.Run(step!.AsObject(), Earlier));
                }
                catch (Exception e)
                {
                    app["error"] = AppInstance.Error(e);
                }
                app["results"] = results;
                app["logs"] = new JsonArray([.. logs.Lines.Select(l => (JsonNode?)l)]);
                apps.Add(app);
            }
            Console.Out.Write(new JsonObject { ["env"] = Env(), ["apps"] = apps }.ToJsonString(json));
            return 0;
        }
        case "cert":
        {
            var outIndex = Array.IndexOf(args, "--out");
            if (outIndex < 0 || outIndex + 1 >= args.Length) throw new ArgumentException("cert --out FILE");
            using var rsa = RSA.Create(2048);
            var req = new CertificateRequest("CN=ringkeeper-interop", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            File.WriteAllBytes(args[outIndex + 1], cert.Export(X509ContentType.Pkcs12));
            Console.Out.Write(new JsonObject { ["thumbprint"] = cert.Thumbprint }.ToJsonString(json));
            return 0;
        }
        case "env":
            Console.Out.Write(new JsonObject { ["env"] = Env() }.ToJsonString(json));
            return 0;
        default:
            Console.Error.WriteLine("usage: RingkeeperInterop run|cert --out FILE|env");
            return 2;
    }
}
catch (Exception e)
{
    Console.Error.WriteLine(e);
    return 1;
}

static JsonObject Env() => new()
{
    ["runtime"] = Environment.Version.ToString(),
    ["dataProtection"] = Version(typeof(IDataProtectionBuilder).Assembly),
    ["azureCore"] = Version(typeof(Azure.Core.Cryptography.IKeyEncryptionKey).Assembly),
    ["keyVaultFormat"] = typeof(KeyVaultDataProtectionBuilderExtensions).Assembly.GetName().FullName,
};

static string Version(System.Reflection.Assembly a) =>
    (a.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false).FirstOrDefault() as System.Reflection.AssemblyInformationalVersionAttribute)?.InformationalVersion
    ?? a.GetName().Version?.ToString() ?? "?";
