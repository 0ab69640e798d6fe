using System.Globalization;

namespace Ringkeeper.Cache;

/// <summary>Blob layout of a channel's journal inside the journal container (docs/cache-protocol.md, Journal).</summary>
internal static class JournalNames
{
    public static string Entry(string channel, long sequence) =>
        $"{channel}/seq/{sequence.ToString("D20", CultureInfo.InvariantCulture)}.json";

    public static string IdIndex(string channel, string id) => $"{channel}/ids/{id.ToLowerInvariant()}.json";

    public static string HeadHint(string channel) => $"{channel}/head.json";
}
