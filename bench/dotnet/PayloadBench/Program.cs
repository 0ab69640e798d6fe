using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

// Usage: PayloadBench --keys DIR --app NAME [--purpose P]... --sizes 100,1024 --seconds S
//                     [--unprotect FILE]   a ringkeeper payload of the text "ringkeeper" to check first
// Reads the key ring ringkeeper wrote into DIR (key generation disabled), checks the ringkeeper payload,
// then times Protect and Unprotect per size. JSON out: {runtime, dataProtection, check, sample, results[]}.
var options = Args(args);
var services = new ServiceCollection();
services.AddDataProtection()
    .SetApplicationName(options["app"][0])
    .PersistKeysToFileSystem(new DirectoryInfo(options["keys"][0]))
    .DisableAutomaticKeyGeneration();
using var provider = services.BuildServiceProvider();
var purposes = options.GetValueOrDefault("purpose") ?? [];
var protector = purposes.Count == 0 ? (IDataProtector)provider.GetRequiredService<IDataProtectionProvider>() : provider.GetRequiredService<IDataProtectionProvider>().CreateProtector(purposes);

var output = new JsonObject
{
    ["runtime"] = Environment.Version.ToString(),
    ["dataProtection"] = typeof(IDataProtector).Assembly.GetName().Version?.ToString(),
};
if (options.TryGetValue("unprotect", out var file))
{
    output["check"] = System.Text.Encoding.UTF8.GetString(protector.Unprotect(File.ReadAllBytes(file[0])));
}
output["sample"] = Convert.ToBase64String(protector.Protect("aspnetcore"u8.ToArray()));

var seconds = double.Parse(options["seconds"][0], System.Globalization.CultureInfo.InvariantCulture);
var results = new JsonArray();
foreach (var size in options["sizes"][0].Split(',').Select(int.Parse))
{
    var plaintext = new byte[size];
    Random.Shared.NextBytes(plaintext);
    var payload = protector.Protect(plaintext);
    results.Add(new JsonObject
    {
        ["size"] = size,
        ["protectOpsPerSec"] = OpsPerSecond(() => protector.Protect(plaintext), seconds),
        ["unprotectOpsPerSec"] = OpsPerSecond(() => protector.Unprotect(payload), seconds),
    });
}
output["results"] = results;
Console.Out.Write(output.ToJsonString());
return 0;

// A fifth of the budget warms up (JIT tiers, key ring cache), then operations are counted for the rest.
static double OpsPerSecond(Func<byte[]> op, double seconds)
{
    var warmup = Stopwatch.StartNew();
    while (warmup.Elapsed.TotalSeconds < seconds / 5) op();
    var ops = 0L;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        for (var i = 0; i < 16; i++) op();
        ops += 16;
    }
    return Math.Round(ops / watch.Elapsed.TotalSeconds, 1);
}

static Dictionary<string, List<string>> Args(string[] args)
{
    var map = new Dictionary<string, List<string>>();
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected argument {args[i]}");
        var name = args[i][2..];
        if (!map.TryGetValue(name, out var list)) map[name] = list = [];
        list.Add(args[i + 1]);
    }
    return map;
}
