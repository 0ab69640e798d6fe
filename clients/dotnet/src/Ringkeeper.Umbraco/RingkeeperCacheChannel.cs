using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;
using Umbraco.Cms.Core.Sync;

namespace Ringkeeper.Umbraco;

/// <summary>
/// This server on its channel: the subscriber (started by the first <c>Sync()</c> or boot-state question, as Umbraco's
/// messenger initialises on its first sync), the publisher, and this boot's origin. Stopped with the host.
/// </summary>
internal sealed class RingkeeperCacheChannel : IHostedService, ICacheChannelHandler, IAsyncDisposable
{
    private readonly UmbracoInstructionApplier _applier;
    private readonly ILogger _logger;
    private readonly Lock _startLock = new();
    private Task<SubscriberStart>? _start;
    private volatile bool _running;

    public RingkeeperCacheChannel(CacheStorage storage, RingkeeperCacheOptions options, UmbracoInstructionApplier applier, ISequenceStore? store, ILoggerFactory loggerFactory)
    {
        Options = options;
        _applier = applier;
        _logger = loggerFactory.CreateLogger<RingkeeperCacheChannel>();

        // Umbraco's LocalIdentity rule: a new GUID per boot, so a restarted process applies what it sent in a previous life.
        Origin = options.Origin ?? $"{Environment.MachineName}/{options.ResolveInstance()} [P{Environment.ProcessId}] {Guid.NewGuid():N}".ToUpperInvariant();
        Subscriber = new CacheSubscriber(storage, options, this, store, loggerFactory.CreateLogger<CacheSubscriber>()) { SkipOrigin = Origin };
        Publisher = new CachePublisher(storage, options);
        Storage = storage;
    }

    public RingkeeperCacheOptions Options { get; }

    public string Origin { get; }

    public CacheStorage Storage { get; }

    public CacheSubscriber Subscriber { get; }

    public CachePublisher Publisher { get; }

    /// <summary>Starts the subscriber once (register, catch up or cold boot) and returns how it started.</summary>
    public SubscriberStart EnsureStarted()
    {
        Task<SubscriberStart> start;
        lock (_startLock)
        {
            start = _start ??= Task.Run(async () =>
            {
                var result = await Subscriber.StartAsync().ConfigureAwait(false);
                _running = true;
                return result;
            });
        }

        try
        {
            return start.GetAwaiter().GetResult();
        }
        catch
        {
            lock (_startLock)
            {
                // A storage outage at start-up: the next Sync() tries again.
                if (ReferenceEquals(_start, start))
                {
                    _start = null;
                }
            }

            throw;
        }
    }

    /// <summary>Umbraco's <c>Sync()</c>: the first call starts the subscriber; later calls read the journal now.</summary>
    public void Sync()
    {
        var wasRunning = _running;
        EnsureStarted();
        if (wasRunning)
        {
            Task.Run(() => Subscriber.CatchUpNowAsync()).GetAwaiter().GetResult();
        }
    }

    public ValueTask ApplyAsync(AppliedEnvelope envelope, CancellationToken cancellationToken)
    {
        _applier.Apply(envelope);
        return ValueTask.CompletedTask;
    }

    public ValueTask ColdBootAsync(ColdBootInfo info, CancellationToken cancellationToken)
    {
        if (_running)
        {
            Log.ColdBootWhileRunning(_logger, info.Channel, info.Reason, info.LastApplied, info.SkippedTo);
            _applier.RefreshEverything();
        }

        // At start-up the boot state accessor answers ColdBoot and Umbraco rebuilds its caches itself.
        return ValueTask.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Subscriber.StopAsync(cancellationToken: cancellationToken);

    public ValueTask DisposeAsync() => Subscriber.DisposeAsync();
}

/// <summary>
/// Umbraco's <see cref="ISyncBootStateAccessor"/> over the channel: <see cref="SyncBootState.ColdBoot"/> when this
/// server never synced or its start-up catch-up cold-booted (too far behind, next entry pruned, journal reset),
/// otherwise <see cref="SyncBootState.WarmBoot"/>. Decided once per process, with the reason logged.
/// </summary>
internal sealed class RingkeeperSyncBootStateAccessor(RingkeeperCacheChannel channel, ILogger<RingkeeperSyncBootStateAccessor> logger) : ISyncBootStateAccessor
{
    private SyncBootState _state;
    private bool _initialized;
    private object? _lock;

    public SyncBootState GetSyncBootState() => LazyInitializer.EnsureInitialized(ref _state, ref _initialized, ref _lock, () =>
    {
        var start = channel.EnsureStarted();
        if (start.NeverSynced)
        {
            Log.ColdBootNeverSynced(logger, channel.Options.Channel);
            return SyncBootState.ColdBoot;
        }

        if (start.ColdBoot is { } cold)
        {
            Log.ColdBootAtStart(logger, cold.Channel, cold.Reason, cold.LastApplied, cold.SkippedTo);
            return SyncBootState.ColdBoot;
        }

        return SyncBootState.WarmBoot;
    });
}
