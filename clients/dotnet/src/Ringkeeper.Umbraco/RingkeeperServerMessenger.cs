using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Serialization;
using Umbraco.Cms.Core.Sync;

namespace Ringkeeper.Umbraco;

/// <summary>
/// Umbraco's <see cref="IServerMessenger"/> over a ringkeeper cache channel, with the semantics of ServerMessengerBase
/// and BatchedDatabaseServerMessenger: the originating server runs its refreshers at once; the instructions raised
/// during one request are kept in the request cache and published once, in envelopes of at most 1000 instructions,
/// by <see cref="SendMessages"/> (Umbraco calls it at request end; without a request they are published at once);
/// <see cref="Sync"/> starts this server's subscriber on its first call and reads the journal on later ones. Remote
/// envelopes are applied as they arrive, in the channel's order, through <see cref="CacheRefresherCollection"/>; this
/// boot's own envelopes are skipped (already applied locally).
/// </summary>
internal sealed class RingkeeperServerMessenger(RingkeeperCacheChannel channel, IRequestCache requestCache, IJsonSerializer jsonSerializer) : IServerMessenger
{
    private const string BatchKey = nameof(RingkeeperServerMessenger);

    /// <inheritdoc />
    public void Sync() => channel.Sync();

    /// <inheritdoc />
    public void SendMessages()
    {
        if (GetBatch(create: false) is not { Count: > 0 } batch)
        {
            return;
        }

        var instructions = batch.ToArray();
        batch.Clear();
        Publish(instructions);
    }

    /// <inheritdoc />
    public void QueueRefresh<TPayload>(ICacheRefresher refresher, TPayload[] payload)
    {
        ArgumentNullException.ThrowIfNull(refresher);
        if (payload is null || payload.Length == 0)
        {
            return;
        }

        if (refresher is not IPayloadCacheRefresher<TPayload> payloadRefresher)
        {
            throw new InvalidOperationException($"The cache refresher {refresher.GetType()} is not of type {typeof(IPayloadCacheRefresher<TPayload>)}.");
        }

        payloadRefresher.Refresh(payload);
        DeliverRemote(refresher, MessageType.RefreshByJson, null, jsonSerializer.Serialize(payload));
    }

    /// <inheritdoc />
    public void QueueRefresh<T>(ICacheRefresher refresher, Func<T, int> getNumericId, params T[] instances) =>
        DeliverInstances(refresher, MessageType.RefreshByInstance, getNumericId is null ? null : x => getNumericId(x), instances);

    /// <inheritdoc />
    public void QueueRefresh<T>(ICacheRefresher refresher, Func<T, Guid> getGuidId, params T[] instances) =>
        DeliverInstances(refresher, MessageType.RefreshByInstance, getGuidId is null ? null : x => getGuidId(x), instances);

    /// <inheritdoc />
    public void QueueRemove<T>(ICacheRefresher refresher, Func<T, int> getNumericId, params T[] instances) =>
        DeliverInstances(refresher, MessageType.RemoveByInstance, getNumericId is null ? null : x => getNumericId(x), instances);

    /// <inheritdoc />
    public void QueueRemove(ICacheRefresher refresher, params int[] numericIds) =>
        DeliverIds(refresher, MessageType.RemoveById, numericIds, id => refresher.Remove(id));

    /// <inheritdoc />
    public void QueueRefresh(ICacheRefresher refresher, params int[] numericIds) =>
        DeliverIds(refresher, MessageType.RefreshById, numericIds, id => refresher.Refresh(id));

    /// <inheritdoc />
    public void QueueRefresh(ICacheRefresher refresher, params Guid[] guidIds) =>
        DeliverIds(refresher, MessageType.RefreshById, guidIds, id => refresher.Refresh(id));

    /// <inheritdoc />
    public void QueueRefreshAll(ICacheRefresher refresher)
    {
        ArgumentNullException.ThrowIfNull(refresher);
        refresher.RefreshAll();
        DeliverRemote(refresher, MessageType.RefreshAll);
    }

    /// <summary>Locally first, by each id; then to the other servers.</summary>
    private void DeliverIds<TId>(ICacheRefresher refresher, MessageType messageType, TId[]? ids, Action<TId> local)
        where TId : struct
    {
        ArgumentNullException.ThrowIfNull(refresher);
        if (ids is null || ids.Length == 0)
        {
            return;
        }

        foreach (var id in ids)
        {
            local(id);
        }

        DeliverRemote(refresher, messageType, ids.Cast<object>().ToArray());
    }

    private void DeliverInstances<T>(ICacheRefresher refresher, MessageType messageType, Func<T, object>? getId, T[] instances)
    {
        ArgumentNullException.ThrowIfNull(refresher);
        ArgumentNullException.ThrowIfNull(getId);
        if (instances is null || instances.Length == 0)
        {
            return;
        }

        if (refresher is not ICacheRefresher<T> typed)
        {
            throw new InvalidOperationException($"The cache refresher {refresher.GetType()} is not a typed refresher of {typeof(T)}.");
        }

        foreach (var instance in instances)
        {
            if (messageType == MessageType.RefreshByInstance)
            {
                typed.Refresh(instance);
            }
            else
            {
                typed.Remove(instance);
            }
        }

        // Remote servers have no instances: by id, as ServerMessengerBase maps them.
        DeliverRemote(refresher, messageType == MessageType.RefreshByInstance ? MessageType.RefreshById : MessageType.RemoveById, instances.Select(getId).ToArray());
    }

    private void DeliverRemote(ICacheRefresher refresher, MessageType messageType, object[]? ids = null, string? json = null)
    {
        var idType = ids is { Length: > 0 } ? ids[0].GetType() : null;
        if (ids is not null && ids.Any(id => id.GetType() != idType || (id is not int && id is not Guid)))
        {
            throw new ArgumentException("All items must be of the same type, either int or Guid.", nameof(ids));
        }

        var instructions = RefreshInstruction.GetInstructions(refresher, jsonSerializer, messageType, ids, idType, json);
        if (GetBatch(create: true) is { } batch)
        {
            batch.AddRange(instructions);
        }
        else
        {
            Publish(instructions.ToArray());
        }
    }

    private List<RefreshInstruction>? GetBatch(bool create)
    {
        if (!requestCache.IsAvailable)
        {
            return null;
        }

        // One request, one thread at a time (as BatchedDatabaseServerMessenger).
        var batch = requestCache.Get(BatchKey) as List<RefreshInstruction>;
        if (batch is null && create)
        {
            batch = [];
            requestCache.Set(BatchKey, batch);
        }

        return batch;
    }

    private void Publish(RefreshInstruction[] instructions)
    {
        if (instructions.Length == 0)
        {
            return;
        }

        var envelopes = instructions.Chunk(CacheEnvelope.MaxInstructions)
            .Select(chunk => CacheEnvelope.Create(channel.Options.Channel, channel.Origin, chunk.Select(InstructionJson.ToJson).ToArray()))
            .ToArray();

        // IServerMessenger is synchronous: one bridge, in order (each publish is awaited before the next).
        Task.Run(async () =>
        {
            foreach (var envelope in envelopes)
            {
                await channel.Publisher.PublishAsync(envelope).ConfigureAwait(false);
            }
        }).GetAwaiter().GetResult();
    }
}
