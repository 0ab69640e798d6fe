namespace Ringkeeper.Cache;

/// <summary>Everything Ringkeeper.Cache throws is built here.</summary>
internal static class Error
{
    public static ArgumentException InvalidSetting(string setting, string? value, string problem) =>
        new($"{RingkeeperCacheOptions.SectionName}:{setting} {(value is null ? "is missing" : $"\"{value}\"")}: {problem}.", setting);

    public static InvalidOperationException DamagedIdIndex(string channel, string id) =>
        new($"The id index of envelope {id} in channel {channel} is damaged (no integer \"sequence\").");

    public static InvalidOperationException UnsettledId(string channel, string id) =>
        new($"Could not settle the owner of envelope {id} in channel {channel}.");

    public static InvalidOperationException AppendContention(string channel, int conflicts) =>
        new($"Could not append to channel {channel}: {conflicts} conflicting writers.");

    public static InvalidDataException InvalidPosition(string file) =>
        new($"{file} does not hold a valid lastApplied sequence.");

    public static ArgumentException InvalidEnvelope(string problem) => new($"Invalid cache envelope: {problem}.");
}
