using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Ringkeeper.Cache;

/// <summary>A journal blob that is not a valid batch (damaged or foreign); its sequences carry nothing.</summary>
internal sealed class JournalBatchInvalidException(long first, long? last, string problem)
    : Exception($"Journal batch {first} is not valid: {problem}.")
{
    public long First { get; } = first;

    /// <summary>The blob's metadata <c>last</c>, when it has one: where a reader skips to.</summary>
    public long? Last { get; } = last;
}

/// <summary>
/// Reads and creates the batch blobs of a channel (docs/cache-protocol.md, Journal): batches tile the sequences
/// without holes, so the batch after one ending at <c>p</c> is always the blob named <c>p + 1</c>, and a missing
/// batch start at or below the head means "pruned". Batches are created once (If-None-Match:*) and never modified.
/// </summary>
internal sealed class CacheJournal(BlobContainerClient container)
{
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

    /// <summary>The batch starting at <paramref name="first"/>; null when there is none (not a batch start, not yet written, or pruned).</summary>
    public async Task<JournalBatch?> ReadBatchAsync(string channel, long first, CancellationToken cancellationToken)
    {
        BlobDownloadResult result;
        try
        {
            result = (await Container.GetBlobClient(JournalNames.Batch(channel, first)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        long? metadataLast = result.Details.Metadata.TryGetValue("last", out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : null;
        JournalBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize<JournalBatch>(WithoutBom(result.Content), CacheJson.Options);
        }
        catch (JsonException)
        {
            throw new JournalBatchInvalidException(first, metadataLast, "not JSON, or not a batch");
        }

        var problem = batch is null ? "not an object" : batch.Problem(channel, first);
        return problem is null ? batch : throw new JournalBatchInvalidException(first, metadataLast, problem);
    }

    /// <summary>The head hint, or null when missing or unreadable (a new or damaged journal).</summary>
    public async Task<(HeadHint Hint, ETag ETag)?> ReadHintAsync(string channel, CancellationToken cancellationToken)
    {
        try
        {
            var result = (await Container.GetBlobClient(JournalNames.HeadHint(channel)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            var hint = JsonSerializer.Deserialize<HeadHint>(WithoutBom(result.Content), CacheJson.Options);
            return hint is { Version: CacheEnvelope.ProtocolVersion, First: >= 1 } && hint.Last >= hint.First ? (hint, result.Details.ETag) : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The channel's head for a reader: the hint's <c>last</c>, then batch after batch (<c>last + 1</c>) until 404.
    /// Without a hint: 0 unless batch 1 exists. Reads only; never lists.
    /// </summary>
    public async Task<long> HeadAsync(string channel, CancellationToken cancellationToken)
    {
        var head = (await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false))?.Hint.Last ?? 0;
        while (await BatchLastAsync(channel, head + 1, cancellationToken).ConfigureAwait(false) is { } last)
        {
            head = last;
        }

        return head;
    }

    /// <summary>The <c>last</c> of the batch starting at <paramref name="first"/> (its metadata; the body when the metadata is missing), or null.</summary>
    public async Task<long?> BatchLastAsync(string channel, long first, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await Container.GetBlobClient(JournalNames.Batch(channel, first)).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            if (properties.Metadata.TryGetValue("last", out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var last) && last >= first)
            {
                return last;
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }

        try
        {
            return (await ReadBatchAsync(channel, first, cancellationToken).ConfigureAwait(false))?.Last;
        }
        catch (JournalBatchInvalidException e)
        {
            return e.Last ?? throw new InvalidDataException($"Journal batch {first} of channel {channel} is not valid and has no \"last\" metadata; the chain cannot be followed.", e);
        }
    }

    /// <summary>The newest batch start by listing (only when the hint is missing: a new or damaged journal).</summary>
    public async Task<long?> ListNewestBatchAsync(string channel, CancellationToken cancellationToken)
    {
        long? newest = null;
        try
        {
            var prefix = JournalNames.BatchPrefix(channel);
            await foreach (var item in Container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            {
                var name = item.Name.AsSpan(prefix.Length);
                if (name.Length == 25 && name.EndsWith(".json", StringComparison.Ordinal) && long.TryParse(name[..20], NumberStyles.None, CultureInfo.InvariantCulture, out var first))
                {
                    newest = Math.Max(newest ?? 0, first);
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No container yet: an empty journal.
        }

        return newest;
    }

    /// <summary>Creates a batch blob once; false when one exists there already.</summary>
    public async Task<bool> TryCreateBatchAsync(JournalBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await Container.GetBlobClient(JournalNames.Batch(batch.Channel, batch.First)).UploadAsync(
                BinaryData.FromString(JsonSerializer.Serialize(batch, CacheJson.Options)),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    Metadata = new Dictionary<string, string>
                    {
                        ["last"] = batch.Last.ToString(CultureInfo.InvariantCulture),
                        ["batchid"] = batch.BatchId,
                    },
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

    /// <summary>Moves the hint to <paramref name="hint"/> unless someone else's is already as far; only forward.</summary>
    public async Task AdvanceHintAsync(string channel, HeadHint hint, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var current = await ReadHintAsync(channel, cancellationToken).ConfigureAwait(false);
            if (current is { } c && c.Hint.Last >= hint.Last)
            {
                return;
            }

            try
            {
                await Container.GetBlobClient(JournalNames.HeadHint(channel)).UploadAsync(
                    BinaryData.FromString(JsonSerializer.Serialize(hint, CacheJson.Options)),
                    new BlobUploadOptions
                    {
                        Conditions = current is { } known ? new BlobRequestConditions { IfMatch = known.ETag } : new BlobRequestConditions { IfNoneMatch = ETag.All },
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    },
                    cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Someone else moved it: reread.
            }
        }
    }

    private static string WithoutBom(BinaryData content) => Encoding.UTF8.GetString(content.ToMemory().Span).TrimStart('\uFEFF');
}
