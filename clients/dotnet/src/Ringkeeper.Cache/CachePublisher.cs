using System.Text.Json;
using Azure.Storage.Queues;

namespace Ringkeeper.Cache;

/// <summary>Where a publish landed.</summary>
/// <param name="Sequence">The envelope's sequence in the channel.</param>
/// <param name="Id">The envelope id.</param>
/// <param name="Duplicate">True when this id had been published before; the earlier sequence is returned.</param>
public sealed record PublishResult(long Sequence, string Id, bool Duplicate);

/// <summary>
/// Publishes envelopes in the channel's total order without the HTTP API (docs/cache-protocol.md, Ordering): journal
/// first, so the sequence is fixed when the call returns and awaited publishes are applied in call order; then a
/// notice on the instructions queue for the fan-out. Idempotent on the envelope id.
/// </summary>
public sealed class CachePublisher
{
    private readonly CacheJournal _journal;
    private readonly QueueClient _instructions;
    private int _queueEnsured;

    /// <summary>A publisher on <paramref name="storage"/>.</summary>
    public CachePublisher(CacheStorage storage, RingkeeperCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        _journal = new CacheJournal(storage.Journal);
        _instructions = storage.Queues.GetQueueClient(options.InstructionsQueue);
    }

    /// <summary>Journals <paramref name="envelope"/> (or finds it journaled) and announces it to the fan-out.</summary>
    public async Task<PublishResult> PublishAsync(CacheEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var problem = ChannelName.IsValid(envelope.Channel) ? envelope.Problem(envelope.Channel) : $"channel \"{envelope.Channel}\" is not a valid channel name";
        if (problem is not null)
        {
            throw Error.InvalidEnvelope(problem);
        }

        // The notice goes out while the id is being settled: whoever settles first (this publisher or the fan-out)
        // decides the same, and a sequence that lost the id race is delivered as void.
        var result = await _journal.AppendAsync(envelope, sequence => AnnounceAsync(envelope.Channel, sequence, envelope.Id, cancellationToken), cancellationToken).ConfigureAwait(false);

        // A retry of an earlier publish re-announces its sequence: it heals a notice lost in a crash.
        if (result.Duplicate && result.VoidSequence is null)
        {
            await AnnounceAsync(envelope.Channel, result.Sequence, envelope.Id, cancellationToken).ConfigureAwait(false);
        }

        return new PublishResult(result.Sequence, result.Id, result.Duplicate);
    }

    private async Task AnnounceAsync(string channel, long sequence, string id, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _queueEnsured) == 0)
        {
            await _instructions.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _queueEnsured, 1);
        }

        var notice = new InstructionNotice(CacheEnvelope.ProtocolVersion, channel, sequence, id);
        await _instructions.SendMessageAsync(BinaryData.FromString(JsonSerializer.Serialize(notice, CacheJson.Options)), cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
