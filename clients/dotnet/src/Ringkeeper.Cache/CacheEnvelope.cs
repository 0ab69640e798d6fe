using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ringkeeper.Cache;

/// <summary>
/// What publishers send (protocol version 2): a batch of Umbraco <c>RefreshInstruction</c>s or generic instructions,
/// idempotent on <see cref="Id"/>. Instructions stay raw JSON so nothing a receiver does not understand is lost.
/// </summary>
public sealed record CacheEnvelope
{
    /// <summary>The wire version this library speaks.</summary>
    public const int ProtocolVersion = 2;

    /// <summary>Umbraco splits a batch into rows of at most MaxProcessingInstructionCount (1000) instructions.</summary>
    public const int MaxInstructions = 1000;

    /// <summary>Protocol version.</summary>
    [JsonPropertyName("version")]
    public int Version { get; init; } = ProtocolVersion;

    /// <summary>UUID; the idempotency key of a publish.</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The channel.</summary>
    [JsonPropertyName("channel")]
    public required string Channel { get; init; }

    /// <summary>Who published (Umbraco's "originated").</summary>
    [JsonPropertyName("origin")]
    public required string Origin { get; init; }

    /// <summary>ISO 8601 date-time with a time zone.</summary>
    [JsonPropertyName("createdAt")]
    public required string CreatedAt { get; init; }

    /// <summary>1-1000 instructions, as JSON objects.</summary>
    [JsonPropertyName("instructions")]
    public required IReadOnlyList<JsonElement> Instructions { get; init; }

    /// <summary>A new envelope with a random id, created now.</summary>
    public static CacheEnvelope Create(string channel, string origin, IReadOnlyList<JsonElement> instructions, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var envelope = new CacheEnvelope
        {
            Id = Guid.NewGuid().ToString("D"), // lowercase: ids compare case-insensitively
            Channel = channel,
            Origin = origin,
            CreatedAt = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            Instructions = instructions,
        };
        var problem = envelope.Problem(channel);
        return problem is null ? envelope : throw Error.InvalidEnvelope(problem);
    }

    /// <summary>What is wrong with this envelope for <paramref name="channel"/>, or null.</summary>
    internal string? Problem(string channel)
    {
        if (Version != ProtocolVersion)
        {
            return $"version {Version} is not supported (this is protocol version {ProtocolVersion})";
        }

        if (!Guid.TryParseExact(Id, "D", out _))
        {
            return "id must be a UUID";
        }

        if (Channel != channel)
        {
            return $"belongs to channel \"{Channel}\", not \"{channel}\"";
        }

        if (Origin is not { Length: >= 1 and <= 500 })
        {
            return "origin must be 1-500 characters";
        }

        if (Instructions is null || Instructions.Count is < 1 or > MaxInstructions)
        {
            return $"instructions must hold 1-{MaxInstructions} instructions";
        }

        return Instructions.Any(i => i.ValueKind != JsonValueKind.Object) ? "every instruction must be a JSON object" : null;
    }
}

/// <summary>An envelope at its place in the channel's order, as a front-end applies it.</summary>
/// <param name="Sequence">Its sequence in the channel.</param>
/// <param name="Envelope">The envelope.</param>
public sealed record AppliedEnvelope(long Sequence, CacheEnvelope Envelope);

/// <summary>One entry of a journal batch or a delivered batch.</summary>
internal sealed record BatchEntry
{
    [JsonPropertyName("sequence")]
    public long Sequence { get; init; }

    [JsonPropertyName("envelope")]
    public CacheEnvelope? Envelope { get; init; }
}

/// <summary>A journal blob <c>{channel}/seq/{first:D20}.json</c>: the envelopes of sequences <c>first … last</c>.</summary>
internal sealed record JournalBatch
{
    [JsonPropertyName("version")]
    public int Version { get; init; } = CacheEnvelope.ProtocolVersion;

    [JsonPropertyName("channel")]
    public string Channel { get; init; } = string.Empty;

    [JsonPropertyName("first")]
    public long First { get; init; }

    [JsonPropertyName("last")]
    public long Last { get; init; }

    [JsonPropertyName("previous")]
    public long Previous { get; init; }

    [JsonPropertyName("batchId")]
    public string BatchId { get; init; } = string.Empty;

    [JsonPropertyName("journaledAt")]
    public string JournaledAt { get; init; } = string.Empty;

    [JsonPropertyName("entries")]
    public IReadOnlyList<BatchEntry> Entries { get; init; } = [];

    /// <summary>What is wrong with this batch as the blob of <paramref name="first"/> in <paramref name="channel"/>, or null.</summary>
    public string? Problem(string channel, long? first) => BatchRules.Problem(Version, Channel, First, Last, Entries, channel, first, requireUniqueIds: true)
        ?? (Previous < 0 || Previous >= First ? "previous must be below first" : null);
}

/// <summary>The head hint <c>{channel}/head.json</c>: names an existing batch, never ahead of the head.</summary>
internal sealed record HeadHint(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("first")] long First,
    [property: JsonPropertyName("last")] long Last);

/// <summary>Publisher → fan-out: "the batch first … last of channel C is journaled".</summary>
internal sealed record InstructionNotice(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("first")] long First,
    [property: JsonPropertyName("last")] long Last);

/// <summary>Fan-out → one front-end queue: whole batches in ascending order.</summary>
internal sealed record FrontEndMessage
{
    [JsonPropertyName("version")]
    public int Version { get; init; }

    [JsonPropertyName("channel")]
    public string? Channel { get; init; }

    [JsonPropertyName("batches")]
    public IReadOnlyList<DeliveredBatch>? Batches { get; init; }
}

/// <summary>One delivered batch: exactly one of inline <c>entries</c>, <c>inJournal</c> or <c>void</c>.</summary>
internal sealed record DeliveredBatch
{
    [JsonPropertyName("first")]
    public long First { get; init; }

    [JsonPropertyName("last")]
    public long Last { get; init; }

    [JsonPropertyName("entries")]
    public IReadOnlyList<BatchEntry>? Entries { get; init; }

    [JsonPropertyName("inJournal")]
    public bool InJournal { get; init; }

    [JsonPropertyName("void")]
    public bool Void { get; init; }
}

internal static class BatchRules
{
    /// <summary>Sequences are positive integers below 2^53 (JSON numbers both sides read exactly).</summary>
    public const long MaxSequence = (1L << 53) - 1;

    public static string? Problem(int version, string? batchChannel, long first, long last, IReadOnlyList<BatchEntry>? entries, string channel, long? expectedFirst, bool requireUniqueIds)
    {
        if (version != CacheEnvelope.ProtocolVersion)
        {
            return $"unsupported version {version}";
        }

        if (batchChannel is not null && batchChannel != channel)
        {
            return $"belongs to channel \"{batchChannel}\"";
        }

        if (first < 1 || last < first || last > MaxSequence)
        {
            return "first and last must be positive sequences with first <= last";
        }

        if (expectedFirst is { } f && f != first)
        {
            return $"first is {first}, not {f}";
        }

        if (entries is null)
        {
            return null;
        }

        if (entries.Count != last - first + 1)
        {
            return $"holds {entries.Count} entries for sequences {first}-{last}";
        }

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var problem = e.Sequence != first + i ? $"entries[{i}] has sequence {e.Sequence}, expected {first + i}"
                : e.Envelope is null ? $"entries[{i}] has no envelope"
                : e.Envelope.Problem(channel) is { } p ? $"entries[{i}]: {p}"
                : requireUniqueIds && !ids.Add(e.Envelope.Id) ? $"entries[{i}]: envelope id {e.Envelope.Id} occurs twice"
                : null;
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }
}

internal static class CacheJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A front-end message, or why it is not one.</summary>
    public static FrontEndMessage? ParseFrontEndMessage(string text, out string? problem)
    {
        FrontEndMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<FrontEndMessage>(text.TrimStart('\uFEFF'), Options);
        }
        catch (JsonException)
        {
            problem = "not JSON, or not a front-end message";
            return null;
        }

        problem = message switch
        {
            null => "not an object",
            { Version: not CacheEnvelope.ProtocolVersion } => $"unsupported version {message.Version}",
            { Channel: null } => "channel missing",
            { Batches: null or { Count: 0 } } => "batches must be a non-empty array",
            _ => null,
        };
        if (problem is not null)
        {
            return null;
        }

        for (var i = 0; i < message!.Batches!.Count; i++)
        {
            var b = message.Batches[i];
            var forms = (b.Entries is not null ? 1 : 0) + (b.InJournal ? 1 : 0) + (b.Void ? 1 : 0);
            problem = forms != 1 ? "exactly one of entries, inJournal, void expected"
                : BatchRules.Problem(CacheEnvelope.ProtocolVersion, null, b.First, b.Last, b.Entries, message.Channel!, null, requireUniqueIds: true);
            if (problem is not null)
            {
                problem = $"batches[{i}]: {problem}";
                return null;
            }
        }

        return message;
    }
}
