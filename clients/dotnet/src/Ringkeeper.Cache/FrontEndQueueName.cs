using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Ringkeeper.Cache;

/// <summary>
/// <c>{prefix}-{channel}-{readable instance}-{sha256(instance)[0..10]}</c> within Azure's queue-name rules: the same
/// name frontEndQueueName.ts gives the same instance, so a front-end keeps its queue whichever side it runs.
/// </summary>
internal static partial class FrontEndQueueName
{
    private const int MaxLength = 63;

    public static string For(string prefix, string channel, string instance)
    {
        var head = $"{prefix}-{channel}-";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(instance)))[..10];
        var room = Math.Max(0, MaxLength - head.Length - hash.Length - 1);
        var readable = NotAlphanumeric().Replace(instance.ToLowerInvariant(), "-");
        readable = readable[..Math.Min(room, readable.Length)].Trim('-');
        var name = readable.Length > 0 ? $"{head}{readable}-{hash}" : $"{head}{hash}";
        return ValidName().IsMatch(name) ? name : throw new InvalidOperationException($"Front-end queue name \"{name}\" breaks the queue naming rules (check FrontEndQueuePrefix).");
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotAlphanumeric();

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
