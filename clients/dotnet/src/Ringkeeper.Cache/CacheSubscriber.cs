using System.Globalization;
using System.Text;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ringkeeper.Cache;

/// <summary>
/// A front-end of one channel (docs/cache-protocol.md, Front-end), behaviour for behaviour with the TypeScript
/// CacheSubscriber: registers its queue with channel/instance/heartbeat metadata, receives the fan-out's copies in
/// batches, applies them strictly in sequence order once, persists its position after each, fills gaps from the
/// journal after <see cref="RingkeeperCacheOptions.GapWait"/>, probes the journal while idle, and cold-boots when
/// too far behind or when the next entry was pruned.
/// </summary>
public sealed class CacheSubscriber : IAsyncDisposable
{
    private const int ReceiveBatch = 32;
    private static readonly TimeSpan VisibilityTimeout = TimeSpan.FromSeconds(30);

    private readonly RingkeeperCacheOptions _options;
    private readonly ICacheChannelHandler _handler;
    private readonly ISequenceStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CacheJournal _journal;
    private readonly QueueClient _queue;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private BatchBuffer<Pending> _buffer = new(0);
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private Task? _heartbeat;
    private DateTimeOffset? _gapSince;
    private DateTimeOffset _lastJournalCheck;
    private volatile bool _reRegister;

    /// <summary>A front-end of <see cref="RingkeeperCacheOptions.Channel"/>.</summary>
    /// <param name="storage">The channel's storage.</param>
    /// <param name="options">Settings (validated here).</param>
    /// <param name="handler">Applies envelopes and rebuilds on cold boots.</param>
    /// <param name="store">The position; default a <see cref="FileSequenceStore"/> at <see cref="RingkeeperCacheOptions.PositionFile"/>.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="time">Clock (tests).</param>
    public CacheSubscriber(CacheStorage storage, RingkeeperCacheOptions options, ICacheChannelHandler handler, ISequenceStore? store = null, ILogger<CacheSubscriber>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
        Channel = options.Channel;
        Instance = options.ResolveInstance();
        QueueName = FrontEndQueueName.For(options.FrontEndQueuePrefix, Channel, Instance);
        _queue = storage.Queues.GetQueueClient(QueueName);
        _journal = new CacheJournal(storage.Journal);
        _store = store ?? new FileSequenceStore(options.PositionFile ?? DefaultPositionFile(QueueName));
        _logger = logger ?? NullLogger<CacheSubscriber>.Instance;
        _time = time ?? TimeProvider.System;
    }

    private abstract record Pending
    {
        public sealed record Inline(IReadOnlyList<BatchEntry> Entries) : Pending;

        public sealed record InJournal : Pending;

        public sealed record Void : Pending;
    }

    /// <summary>The channel.</summary>
    public string Channel { get; }

    /// <summary>This front-end's stable instance id.</summary>
    public string Instance { get; }

    /// <summary>This front-end's queue.</summary>
    public string QueueName { get; }

    /// <summary>Envelopes whose origin is this (a publisher in the same process) advance the position without being applied: Umbraco's "originated" rule.</summary>
    public string? SkipOrigin { get; init; }

    /// <summary>The last sequence applied (or skipped past).</summary>
    public long LastApplied => Volatile.Read(ref _lastAppliedSnapshot);

    private long _lastAppliedSnapshot;

    /// <summary>Registers, catches up from the journal (or starts at the head), then receives until <see cref="StopAsync"/>.</summary>
    public async Task<SubscriberStart> StartAsync(CancellationToken cancellationToken = default)
    {
        if (_stop is not null)
        {
            throw new InvalidOperationException($"Cache front-end {QueueName} is already started.");
        }

        await RegisterAsync(cancellationToken).ConfigureAwait(false);
        var stored = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        if (stored is { } position)
        {
            SetBuffer(new BatchBuffer<Pending>(position));
        }

        ColdBootInfo? coldBoot;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            coldBoot = await CatchUpAsync(stored is null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        _stop = new CancellationTokenSource();
        _heartbeat = HeartbeatAsync(_stop.Token);
        _loop = RunAsync(_stop.Token);
        return new SubscriberStart(LastApplied, stored is null, coldBoot);
    }

    /// <summary>Reads the journal now and applies whatever this front-end has not (Umbraco's <c>Sync()</c>).</summary>
    public async Task CatchUpNowAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops after the envelope being applied, if any. <paramref name="unregister"/> deletes the queue (a front-end that never returns).</summary>
    public async Task StopAsync(bool unregister = false, CancellationToken cancellationToken = default)
    {
        if (_stop is { } stop)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_loop!, _heartbeat!).ConfigureAwait(false);
            stop.Dispose();
            _stop = null;
        }

        if (unregister)
        {
            await _queue.DeleteIfExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private static string DefaultPositionFile(string queueName)
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(string.IsNullOrEmpty(root) ? Path.GetTempPath() : root, "ringkeeper", "cache", $"{queueName}.json");
    }

    private void SetBuffer(BatchBuffer<Pending> buffer)
    {
        _buffer = buffer;
        Volatile.Write(ref _lastAppliedSnapshot, buffer.Position);
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await _queue.SetMetadataAsync(Metadata(), cancellationToken).ConfigureAwait(false);
    }

    private Dictionary<string, string> Metadata() => new()
    {
        ["channel"] = Channel,
        ["instance"] = Uri.EscapeDataString(Instance),
        ["heartbeat"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await _queue.SetMetadataAsync(Metadata(), cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // Deleted as stale (the process was suspended): the loop re-registers and catches up.
                    _reRegister = true;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.Failure(_logger, e, QueueName, "heartbeat");
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = _options.PollMin;
        while (!cancellationToken.IsCancellationRequested)
        {
            var received = 0;
            try
            {
                await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (_reRegister)
                    {
                        _reRegister = false;
                        await RegisterAsync(cancellationToken).ConfigureAwait(false);
                        await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
                    }

                    received = await ReceiveOnceAsync(cancellationToken).ConfigureAwait(false);
                    var now = _time.GetUtcNow();
                    if (_buffer.HasGap)
                    {
                        _gapSince ??= now;
                        if (now - _gapSince >= _options.GapWait)
                        {
                            await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        _gapSince = null;
                    }

                    if (received == 0 && _buffer.Count == 0 && now - _lastJournalCheck >= _options.ProbeInterval)
                    {
                        await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                _reRegister = true;
            }
            catch (Exception e)
            {
                Log.Failure(_logger, e, QueueName, "receive");
            }

            // A full batch: more is waiting. A partial one: linger PollMin so the next receive carries several.
            delay = received >= ReceiveBatch ? TimeSpan.Zero
                : received > 0 ? _options.PollMin
                : TimeSpan.FromTicks(Math.Min(Math.Max(delay.Ticks * 2, _options.PollMin.Ticks), _options.PollMax.Ticks));
            if (_gapSince is { } since)
            {
                var untilGapRead = since + _options.GapWait - _time.GetUtcNow();
                delay = untilGapRead < delay ? (untilGapRead > TimeSpan.Zero ? untilGapRead : TimeSpan.Zero) : delay;
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task<int> ReceiveOnceAsync(CancellationToken cancellationToken)
    {
        QueueMessage[] items = (await _queue.ReceiveMessagesAsync(ReceiveBatch, VisibilityTimeout, cancellationToken).ConfigureAwait(false)).Value;
        if (items.Length == 0)
        {
            return 0;
        }

        foreach (var item in items)
        {
            var message = CacheJson.ParseFrontEndMessage(Encoding.UTF8.GetString(item.Body.ToMemory().Span), out var problem);
            if (message is null)
            {
                Log.IgnoredMessage(_logger, QueueName, problem!);
                continue;
            }

            if (message.Channel != Channel)
            {
                Log.IgnoredMessage(_logger, QueueName, $"it belongs to channel \"{message.Channel}\"");
                continue;
            }

            foreach (var batch in message.Batches!)
            {
                Pending pending = batch.Entries is { } entries ? new Pending.Inline(entries) : batch.InJournal ? new Pending.InJournal() : new Pending.Void();
                _buffer.Offer(batch.First, batch.Last, pending); // duplicates and applied ones are dropped here
            }
        }

        if (_buffer.HighestLast is { } highest && highest - LastApplied > _options.ColdBootThreshold)
        {
            await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
        }

        await DrainAsync(cancellationToken).ConfigureAwait(false);

        // Delete after applying: a crash before this redelivers, and redeliveries dedupe by sequence. Held
        // (out-of-order) ones are deleted too; the journal has them if this process dies.
        await Task.WhenAll(items.Select(async item =>
        {
            try
            {
                await _queue.DeleteMessageAsync(item.MessageId, item.PopReceipt, CancellationToken.None).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
            }
            catch (RequestFailedException e)
            {
                Log.Failure(_logger, e, QueueName, "delete");
            }
        })).ConfigureAwait(false);
        return items.Length;
    }

    /// <summary>Applies every held batch that is next in order (stops early when asked to stop).</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested && _buffer.TryPeekNext(out var first, out var last, out var item))
        {
            if (item is Pending.InJournal)
            {
                var read = await ReadBatchAsync(first, cancellationToken).ConfigureAwait(false);
                if (read is null || read.Value.Last != last)
                {
                    // Gone (pruned) or not the batch that was announced: the journal decides.
                    await CatchUpAsync(false, cancellationToken).ConfigureAwait(false);
                    return;
                }

                (last, item) = read.Value;
            }

            await ApplyBatchAsync(first, last, item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Applies a batch's entries in order, then saves the position once (as Umbraco saves lastsynced once per batch of rows).</summary>
    private async Task ApplyBatchAsync(long first, long last, Pending item, CancellationToken cancellationToken)
    {
        if (item is Pending.Inline { Entries: var entries })
        {
            foreach (var entry in entries)
            {
                var envelope = entry.Envelope!;
                if (SkipOrigin is not null && envelope.Origin == SkipOrigin)
                {
                    continue;
                }

                try
                {
                    await _handler.ApplyAsync(new AppliedEnvelope(entry.Sequence, envelope), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // As Umbraco: a poison instruction is logged and skipped, never retried forever.
                    Log.Failure(_logger, e, QueueName, $"apply {Channel}#{entry.Sequence}");
                }
            }
        }
        else if (item is Pending.Void)
        {
            Log.VoidBatch(_logger, QueueName, first, last);
        }

        _buffer.Advance(first, last);
        Volatile.Write(ref _lastAppliedSnapshot, last);
        await _store.SaveAsync(last, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The batch at <paramref name="first"/> from the journal (void when it is not a valid batch); null when it does not exist.</summary>
    private async Task<(long Last, Pending Item)?> ReadBatchAsync(long first, CancellationToken cancellationToken)
    {
        try
        {
            return await _journal.ReadBatchAsync(Channel, first, cancellationToken).ConfigureAwait(false) is { } batch
                ? (batch.Last, new Pending.Inline(batch.Entries))
                : null;
        }
        catch (JournalBatchInvalidException e) when (e.Last is { } last)
        {
            Log.InvalidJournalBatch(_logger, e, QueueName, first);
            return (last, new Pending.Void());
        }
    }

    /// <summary>Brings the position up to the head: replays, or cold-boots when too far behind or the next batch was pruned.</summary>
    private async Task<ColdBootInfo?> CatchUpAsync(bool fresh, CancellationToken cancellationToken)
    {
        _lastJournalCheck = _time.GetUtcNow();
        _gapSince = null;
        var head = await _journal.HeadAsync(Channel, cancellationToken).ConfigureAwait(false);
        var last = LastApplied;
        var nextExists = fresh || head <= last || await _journal.BatchLastAsync(Channel, last + 1, cancellationToken).ConfigureAwait(false) is not null;
        var decision = CatchUpDecision.Decide(fresh ? null : last, head, nextExists, _options.ColdBootThreshold);
        switch (decision.Action)
        {
            case CatchUpAction.StartAtHead:
                SetBuffer(new BatchBuffer<Pending>(decision.To));
                await _store.SaveAsync(decision.To, cancellationToken).ConfigureAwait(false);
                Log.StartAtHead(_logger, QueueName, Channel, decision.To);
                return null;
            case CatchUpAction.ColdBoot:
                return await ColdBootAsync(decision.Reason, decision.To, cancellationToken).ConfigureAwait(false);
            case CatchUpAction.Replay:
                var coldBoot = await ReplayAsync(decision.To, cancellationToken).ConfigureAwait(false);
                DropBeyond(Math.Max(head, LastApplied));
                return coldBoot;
            default:
                DropBeyond(head);
                return null;
        }
    }

    /// <summary>Batch after batch from <c>Position + 1</c> (held copies where this front-end has them) up to <paramref name="head"/>.</summary>
    private async Task<ColdBootInfo?> ReplayAsync(long head, CancellationToken cancellationToken)
    {
        while (LastApplied < head && !cancellationToken.IsCancellationRequested)
        {
            var first = LastApplied + 1;
            var batch = _buffer.TryGet(first, out var heldLast, out var held) && held is not Pending.InJournal
                ? (heldLast, held)
                : await ReadBatchAsync(first, cancellationToken).ConfigureAwait(false);
            if (batch is not { } b)
            {
                // Pruned while we were reading: nothing left to replay from.
                return await ColdBootAsync(ColdBootReason.JournalPruned, await _journal.HeadAsync(Channel, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }

            await ApplyBatchAsync(first, b.Last, b.Item, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Held deliveries above the journal head cannot be genuine (entries exist before their copies).</summary>
    private void DropBeyond(long head)
    {
        var dropped = _buffer.DropAbove(head);
        if (dropped > 0)
        {
            Log.DroppedBeyondHead(_logger, QueueName, dropped, head);
        }
    }

    private async Task<ColdBootInfo> ColdBootAsync(ColdBootReason reason, long skipTo, CancellationToken cancellationToken)
    {
        var lastApplied = LastApplied;

        // As Umbraco: store the new position first, then rebuild; a crash mid-rebuild rebuilds on restart anyway.
        _buffer.Reset(skipTo);
        Volatile.Write(ref _lastAppliedSnapshot, skipTo);
        await _store.SaveAsync(skipTo, cancellationToken).ConfigureAwait(false);
        Log.ColdBoot(_logger, QueueName, reason, lastApplied, skipTo);
        var info = new ColdBootInfo(Channel, Instance, reason, lastApplied, skipTo);
        try
        {
            await _handler.ColdBootAsync(info, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.Failure(_logger, e, QueueName, "cold boot");
        }

        return info;
    }
}
