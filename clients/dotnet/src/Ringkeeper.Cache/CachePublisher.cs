using System.Collections.Concurrent;
using Azure.Storage.Queues;

namespace Ringkeeper.Cache;

/// <summary>Where a publish landed.</summary>
/// <param name="Sequence">The envelope's sequence in the channel.</param>
/// <param name="Id">The envelope id.</param>
/// <param name="Duplicate">True when this id had been published within the idempotency window; the earlier sequence is returned.</param>
public sealed record PublishResult(long Sequence, string Id, bool Duplicate);

/// <summary>
/// Publishes envelopes in the channel's total order without the HTTP API (docs/cache-protocol.md, Publishing): group
/// commit of concurrent publishes into one journal batch, one notice per batch to the fan-out, idempotent on the
/// envelope id within <see cref="RingkeeperCacheOptions.IdempotencyWindow"/>. A publish returns once its batch is
/// durable and announced, so awaited publishes are applied everywhere in call order.
/// </summary>
public sealed class CachePublisher
{
    private readonly CacheJournal _journal;
    private readonly QueueClient _instructions;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, GroupCommitter> _committers = new();

    /// <summary>A publisher on <paramref name="storage"/>.</summary>
    public CachePublisher(CacheStorage storage, RingkeeperCacheOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        _journal = new CacheJournal(storage.Journal);
        _instructions = storage.Queues.GetQueueClient(options.InstructionsQueue);
        _window = options.IdempotencyWindow;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Journals <paramref name="envelope"/> (or finds it journaled) and announces its batch to the fan-out.</summary>
    public Task<PublishResult> PublishAsync(CacheEnvelope envelope, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var problem = ChannelName.IsValid(envelope.Channel) ? envelope.Problem(envelope.Channel) : $"channel \"{envelope.Channel}\" is not a valid channel name";
        if (problem is not null)
        {
            throw Error.InvalidEnvelope(problem);
        }

        var committer = _committers.GetOrAdd(envelope.Channel, channel => new GroupCommitter(channel, _journal, _instructions, _window, _time));
        return committer.PublishAsync(envelope, cancellationToken);
    }
}
