using System.Text.RegularExpressions;

namespace Ringkeeper.Cache;

/// <summary>Channel names go into blob paths and queue names (the same rule as the TypeScript side).</summary>
internal static partial class ChannelName
{
    public const int MaxLength = 24;

    public static bool IsValid(string? name) => name is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9](?:-?[a-z0-9])*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
