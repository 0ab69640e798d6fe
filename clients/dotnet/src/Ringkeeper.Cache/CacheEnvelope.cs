using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ringkeeper.Cache;

/// <summary>
/// What publishers send (protocol version 1): a batch of Umbraco <c>RefreshInstruction</c>s or generic instructions,
/// idempotent on <see cref="Id"/>. Instructions stay raw JSON so nothing a receiver does not understand is lost.
/// </summary>
public sealed record CacheEnvelope
{
    /// <summary>The wire version this library speaks.</summary>
    public const int ProtocolVersion = 1;

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
            Id = Guid.NewGuid().ToString("D"),
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

/// <summary>A journal blob: the envelope at its place in the channel's total order.</summary>
internal sealed record JournalEntry
{
    [JsonPropertyName("version")]
    public int Version { get; init; } = CacheEnvelope.ProtocolVersion;

    [JsonPropertyName("sequence")]
    public long Sequence { get; init; }

    [JsonPropertyName("journaledAt")]
    public string JournaledAt { get; init; } = string.Empty;

    [JsonPropertyName("envelope")]
    public CacheEnvelope? Envelope { get; init; }
}

/// <summary>Publisher → fan-out: "sequence N of channel C is journaled".</summary>
internal sealed record InstructionNotice(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("id")] string Id);

/// <summary>Fan-out → one front-end queue.</summary>
internal sealed record FrontEndMessage
{
    [JsonPropertyName("version")]
    public int Version { get; init; }

    [JsonPropertyName("channel")]
    public string? Channel { get; init; }

    [JsonPropertyName("entries")]
    public IReadOnlyList<FrontEndEntry>? Entries { get; init; }
}

/// <summary>One delivered entry: exactly one of an inline envelope, <c>inJournal</c> or <c>void</c>.</summary>
internal sealed record FrontEndEntry
{
    [JsonPropertyName("sequence")]
    public long Sequence { get; init; }

    [JsonPropertyName("id")]
    public string? Id { get; init; }

    [JsonPropertyName("envelope")]
    public CacheEnvelope? Envelope { get; init; }

    [JsonPropertyName("inJournal")]
    public bool InJournal { get; init; }

    [JsonPropertyName("void")]
    public bool Void { get; init; }
}

internal static class CacheJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A front-end message, or why it is not one (same checks as parseFrontEndMessage.ts).</summary>
    public static FrontEndMessage? ParseFrontEndMessage(string text, out string? problem)
    {
        FrontEndMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<FrontEndMessage>(text, Options);
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
            { Entries: null or { Count: 0 } } => "entries must be a non-empty array",
            _ => null,
        };
        if (problem is not null)
        {
            return null;
        }

        for (var i = 0; i < message!.Entries!.Count; i++)
        {
            var e = message.Entries[i];
            var forms = (e.Envelope is not null ? 1 : 0) + (e.InJournal ? 1 : 0) + (e.Void ? 1 : 0);
            problem = e.Sequence < 1 ? "sequence must be a positive integer"
                : e.Id is null ? "id missing"
                : forms != 1 ? "exactly one of envelope, inJournal, void expected"
                : e.Envelope?.Problem(message.Channel!);
            if (problem is not null)
            {
                problem = $"entries[{i}]: {problem}";
                return null;
            }
        }

        return message;
    }
}
