using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Ringkeeper.Cache;

/// <summary>A journal entry that is not valid (hand-edited or foreign); front-ends treat it as void.</summary>
internal sealed class JournalEntryInvalidException(long sequence, string problem)
    : Exception($"Journal entry {sequence} is not valid: {problem}.")
{
    public long Sequence { get; } = sequence;
}

internal readonly record struct AppendResult(long Sequence, string Id, bool Duplicate, long? VoidSequence);

/// <summary>
/// The per-channel journal (docs/cache-protocol.md): entries <c>{channel}/seq/{n:D20}.json</c> created with
/// If-None-Match:* only after n-1 exists (contiguous), the head hint <c>{channel}/head.json</c> that never exceeds
/// the head and only moves forward (If-Match), and the id index <c>{channel}/ids/{id}.json</c> created once, which
/// decides the entry that owns an envelope id; anyone may settle an unowned entry, so everyone agrees.
/// </summary>
internal sealed class CacheJournal(BlobContainerClient container)
{
    private const int MaxAppendAttempts = 200;

    // An entry this process created less than this ago cannot have been pruned (retention is at least an hour).
    private static readonly TimeSpan Warm = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new();
    private readonly ConcurrentDictionary<string, (long Sequence, DateTimeOffset At)> _lastCreated = new();
    private readonly ConcurrentDictionary<string, (long Sequence, ETag? ETag)> _hints = new();
    private int _ensured;

    public BlobContainerClient Container { get; } = container;

    public async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _ensured) == 1)
        {
            return;
        }

        await Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _ensured, 1);
    }

    public async Task<JournalEntry?> ReadAsync(string channel, long sequence, CancellationToken cancellationToken)
    {
        var text = await DownloadAsync(JournalNames.Entry(channel, sequence), cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return null;
        }

        JournalEntry? entry;
        try
        {
            entry = JsonSerializer.Deserialize<JournalEntry>(text, CacheJson.Options);
        }
        catch (JsonException)
        {
            throw new JournalEntryInvalidException(sequence, "not JSON");
        }

        if (entry is null || entry.Version != CacheEnvelope.ProtocolVersion || entry.Sequence != sequence || entry.Envelope is null)
        {
            throw new JournalEntryInvalidException(sequence, "wrong version or sequence, or no envelope");
        }

        var problem = entry.Envelope.Problem(channel);
        return problem is null ? entry : throw new JournalEntryInvalidException(sequence, problem);
    }

    public async Task<bool> ExistsAsync(string channel, long sequence, CancellationToken cancellationToken)
    {
        if (sequence < 1)
        {
            return true;
        }

        return (await Container.GetBlobClient(JournalNames.Entry(channel, sequence)).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;
    }

    /// <summary>The head hint and its ETag; listing when the hint is missing or unreadable.</summary>
    public async Task<(long Sequence, ETag? ETag)> ReadHintAsync(string channel, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Container.GetBlobClient(JournalNames.HeadHint(channel)).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(result.Value.Content.ToMemory());
            if (doc.RootElement.TryGetProperty("sequence", out var s) && s.TryGetInt64(out var sequence) && sequence >= 0)
            {
                var hint = (sequence, (ETag?)result.Value.Details.ETag);
                _hints[channel] = hint;
                return hint;
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
        catch (JsonException)
        {
        }

        return (await ListHighestAsync(channel, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>The newest sequence (0 when the journal is empty): the hint, then probing forward.</summary>
    public async Task<long> HeadAsync(string channel, CancellationToken cancellationToken) =>
        await FindHeadAsync(channel, (await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false)).Sequence, cancellationToken).ConfigureAwait(false);

    /// <summary>Given that <paramref name="known"/> exists, the highest existing sequence: gallop forward, then bisect.</summary>
    public async Task<long> FindHeadAsync(string channel, long known, CancellationToken cancellationToken)
    {
        var low = known;
        long step = 1;
        while (await ExistsAsync(channel, low + step, cancellationToken).ConfigureAwait(false))
        {
            low += step;
            step *= 2;
        }

        var high = low + step;
        while (high - low > 1)
        {
            var mid = low + ((high - low) / 2);
            if (await ExistsAsync(channel, mid, cancellationToken).ConfigureAwait(false))
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    public async Task<long?> OwnerAsync(string channel, string id, CancellationToken cancellationToken)
    {
        var text = await DownloadAsync(JournalNames.IdIndex(channel, id), cancellationToken).ConfigureAwait(false);
        if (text is null)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("sequence", out var s) && s.TryGetInt64(out var sequence) ? sequence : throw Error.DamagedIdIndex(channel, id);
    }

    /// <summary>Makes <paramref name="sequence"/> the owner of <paramref name="id"/> unless someone was first; returns the owner.</summary>
    public async Task<long> ClaimIdAsync(string channel, string id, long sequence, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await TryCreateAsync(JournalNames.IdIndex(channel, id), JsonSerializer.Serialize(new { sequence }), null, cancellationToken).ConfigureAwait(false))
            {
                return sequence;
            }

            if (await OwnerAsync(channel, id, cancellationToken).ConfigureAwait(false) is { } owner)
            {
                return owner;
            }
        }

        throw Error.UnsettledId(channel, id);
    }

    /// <summary>Whether an entry owns its envelope id (settling it if nobody does).</summary>
    public async Task<bool> IsCommittedAsync(string channel, JournalEntry entry, CancellationToken cancellationToken)
    {
        var id = entry.Envelope!.Id;
        var owner = await OwnerAsync(channel, id, cancellationToken).ConfigureAwait(false)
            ?? await ClaimIdAsync(channel, id, entry.Sequence, cancellationToken).ConfigureAwait(false);
        return owner == entry.Sequence;
    }

    /// <summary>
    /// Appends at the next free sequence, idempotently on the envelope id. One process's appends to a channel take
    /// turns for the conditional create only; settling the id, the hint and <paramref name="onCreated"/> run after it.
    /// </summary>
    public async Task<AppendResult> AppendAsync(CacheEnvelope envelope, Func<long, Task> onCreated, CancellationToken cancellationToken)
    {
        var channel = envelope.Channel;
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        if (await OwnerAsync(channel, envelope.Id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return new AppendResult(existing, envelope.Id, true, null);
        }

        var turn = _turns.GetOrAdd(channel, _ => new SemaphoreSlim(1, 1));
        long candidate;
        await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            candidate = await CreateAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            turn.Release();
        }

        var claim = ClaimIdAsync(channel, envelope.Id, candidate, cancellationToken);
        await Task.WhenAll(claim, AdvanceHintAsync(channel, candidate, cancellationToken), onCreated(candidate)).ConfigureAwait(false);
        var owner = await claim.ConfigureAwait(false);
        return owner == candidate ? new AppendResult(candidate, envelope.Id, false, null) : new AppendResult(owner, envelope.Id, true, candidate);
    }

    private async Task<long> CreateAsync(CacheEnvelope envelope, CancellationToken cancellationToken)
    {
        var channel = envelope.Channel;
        var now = DateTimeOffset.UtcNow;
        long candidate = _lastCreated.TryGetValue(channel, out var recent) && now - recent.At < Warm
            ? recent.Sequence + 1
            : (await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false)).Sequence + 1;
        var journaledAt = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        for (var conflicts = 0; ;)
        {
            var entry = new JournalEntry { Sequence = candidate, JournaledAt = journaledAt, Envelope = envelope };
            var body = JsonSerializer.Serialize(entry, CacheJson.Options);
            if (await TryCreateAsync(JournalNames.Entry(channel, candidate), body, new Dictionary<string, string> { ["envelopeid"] = envelope.Id }, cancellationToken).ConfigureAwait(false))
            {
                _lastCreated[channel] = (candidate, DateTimeOffset.UtcNow);
                return candidate;
            }

            if (++conflicts >= MaxAppendAttempts)
            {
                throw Error.AppendContention(channel, conflicts);
            }

            // A few steps cover other publishing processes; a stale start is skipped by probing for the head.
            candidate = conflicts < 4 ? candidate + 1 : (await FindHeadAsync(channel, candidate, cancellationToken).ConfigureAwait(false)) + 1;
        }
    }

    /// <summary>Moves the head hint forward to <paramref name="sequence"/>, never back; losing every race is fine (the hint only has to be safe).</summary>
    private async Task AdvanceHintAsync(string channel, long sequence, CancellationToken cancellationToken)
    {
        var known = _hints.TryGetValue(channel, out var cached) ? cached : await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < 10 && known.Sequence < sequence; attempt++)
        {
            try
            {
                var conditions = known.ETag is { } etag ? new BlobRequestConditions { IfMatch = etag } : new BlobRequestConditions { IfNoneMatch = ETag.All };
                var response = await Container.GetBlobClient(JournalNames.HeadHint(channel)).UploadAsync(
                    BinaryData.FromString(JsonSerializer.Serialize(new { sequence })),
                    new BlobUploadOptions { Conditions = conditions, HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } },
                    cancellationToken).ConfigureAwait(false);
                _hints[channel] = (sequence, response.Value.ETag);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
            }

            known = await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<long> ListHighestAsync(string channel, CancellationToken cancellationToken)
    {
        long highest = 0;
        try
        {
            await foreach (var item in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = $"{channel}/seq/" }, cancellationToken).ConfigureAwait(false))
            {
                var name = item.Name;
                if (name.EndsWith(".json", StringComparison.Ordinal) && long.TryParse(name.AsSpan(name.Length - 25, 20), out var s))
                {
                    highest = Math.Max(highest, s);
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No container yet: an empty journal.
        }

        return highest;
    }

    private async Task<string?> DownloadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var result = await Container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return Encoding.UTF8.GetString(result.Value.Content.ToMemory().Span);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private async Task<bool> TryCreateAsync(string name, string body, IDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        try
        {
            await Container.GetBlobClient(name).UploadAsync(
                BinaryData.FromString(body),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    Metadata = metadata,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }
}
