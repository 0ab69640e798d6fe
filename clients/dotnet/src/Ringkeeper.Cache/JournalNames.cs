using System.Globalization;

namespace Ringkeeper.Cache;

/// <summary>Blob layout of a channel inside the journal container (docs/cache-protocol.md, Journal): everything under <c>{channel}/</c>.</summary>
internal static class JournalNames
{
    public static string Batch(string channel, long first) =>
        $"{channel}/seq/{first.ToString("D20", CultureInfo.InvariantCulture)}.json";

    public static string BatchPrefix(string channel) => $"{channel}/seq/";

    public static string HeadHint(string channel) => $"{channel}/head.json";
}
