using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;

namespace Ringkeeper.Cache;

/// <summary>
/// The group commit of one channel in this process (docs/cache-protocol.md, Publishing): publishes that arrive while
/// a commit is in flight form the next batch; a batch is created at the end of the chain with If-None-Match:* after
/// every envelope id journaled within the idempotency window was seen, so an id never gets a second sequence; each
/// committed batch is announced with one notice; the head hint follows in the background.
/// </summary>
internal sealed class GroupCommitter(string channel, CacheJournal journal, QueueClient instructions, TimeSpan idempotencyWindow, TimeProvider time)
{
    private const int MaxBatchEnvelopes = 256;
    private const int MaxBatchBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan HintInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly List<Pending> _pending = [];
    private readonly Dictionary<string, Task<PublishResult>> _pendingById = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, WindowEntry> _window = new(StringComparer.OrdinalIgnoreCase);
    private bool _committing;
    private bool _queueEnsured;

    // Only the commit loop touches these.
    private (long First, long Last)? _tail;
    private DateTimeOffset _tailSeenAt;
    private HeadHint? _hintTarget;
    private Task _hintWriter = Task.CompletedTask;
    private DateTimeOffset _lastHintWrite;

    private sealed record Pending(CacheEnvelope Envelope, int Bytes, TaskCompletionSource<PublishResult> Result);

    private readonly record struct WindowEntry(long Sequence, long First, long Last, DateTimeOffset JournaledAt);

    public Task<PublishResult> PublishAsync(CacheEnvelope envelope, CancellationToken cancellationToken)
    {
        Task<PublishResult> task;
        lock (_lock)
        {
            if (!_pendingById.TryGetValue(envelope.Id, out task!))
            {
                var pending = new Pending(envelope, Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(envelope, CacheJson.Options)), new TaskCompletionSource<PublishResult>(TaskCreationOptions.RunContinuationsAsynchronously));
                _pending.Add(pending);
                task = pending.Result.Task;
                _pendingById[envelope.Id] = task;
                if (!_committing)
                {
                    // An idle channel commits now; a busy one collects the next batch meanwhile.
                    _committing = true;
                    _ = Task.Run(CommitLoopAsync, CancellationToken.None);
                }
            }
        }

        return task.WaitAsync(cancellationToken);
    }

    private async Task CommitLoopAsync()
    {
        for (;;)
        {
            List<Pending> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _committing = false;
                    return;
                }

                batch = [];
                var bytes = 0;
                foreach (var p in _pending)
                {
                    if (batch.Count == MaxBatchEnvelopes || (batch.Count > 0 && bytes + p.Bytes > MaxBatchBytes))
                    {
                        break;
                    }

                    batch.Add(p);
                    bytes += p.Bytes;
                }

                _pending.RemoveRange(0, batch.Count);
            }

            try
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The caller retries with the same id: the window finds it if this commit did land.
                _tail = null;
                batch.ForEach(p => p.Result.TrySetException(e));
            }
            finally
            {
                lock (_lock)
                {
                    batch.ForEach(p => _pendingById.Remove(p.Envelope.Id));
                }
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        await journal.EnsureContainerAsync(CancellationToken.None).ConfigureAwait(false);
        if (_tail is null || time.GetUtcNow() - _tailSeenAt > idempotencyWindow)
        {
            await LoadTailAsync().ConfigureAwait(false);
        }

        for (;;)
        {
            var fresh = await AnswerDuplicatesAsync(batch).ConfigureAwait(false);
            if (fresh.Count == 0)
            {
                return;
            }

            var (tailFirst, tailLast) = _tail!.Value;
            var now = time.GetUtcNow();
            var first = tailLast + 1;
            var journalBatch = new JournalBatch
            {
                Channel = channel,
                First = first,
                Last = first + fresh.Count - 1,
                Previous = tailLast == 0 ? 0 : tailFirst,
                BatchId = Guid.NewGuid().ToString("D"),
                JournaledAt = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                Entries = fresh.Select((p, i) => new BatchEntry { Sequence = first + i, Envelope = p.Envelope }).ToArray(),
            };

            if (!await journal.TryCreateBatchAsync(journalBatch, CancellationToken.None).ConfigureAwait(false))
            {
                var winner = await ReadForWindowAsync(first).ConfigureAwait(false);
                if (winner is null)
                {
                    // Gone between the conflict and the read (pruned or a wiped journal): start over from the hint.
                    await LoadTailAsync().ConfigureAwait(false);
                    batch = fresh;
                    continue;
                }

                if (winner.BatchId != journalBatch.BatchId)
                {
                    // Someone else committed there: their ids join the window, and we try after them.
                    batch = fresh;
                    continue;
                }

                // Our own create, whose response was lost.
            }

            Remember(journalBatch, now);
            if (_tail is not { } known || journalBatch.Last > known.Last)
            {
                // Never backwards: reading our own lost-response batch may have walked past it already.
                _tail = (journalBatch.First, journalBatch.Last);
            }

            _tailSeenAt = now;
            await AnnounceAsync(journalBatch.First, journalBatch.Last).ConfigureAwait(false);
            for (var i = 0; i < fresh.Count; i++)
            {
                fresh[i].Result.TrySetResult(new PublishResult(first + i, fresh[i].Envelope.Id, false));
            }

            ScheduleHint(new HeadHint(CacheEnvelope.ProtocolVersion, journalBatch.First, journalBatch.Last));
            return;
        }
    }

    /// <summary>Answers pending envelopes whose id is in the window (re-sending their batch's notice); returns the rest.</summary>
    private async Task<List<Pending>> AnswerDuplicatesAsync(List<Pending> batch)
    {
        var horizon = time.GetUtcNow() - idempotencyWindow;
        var fresh = new List<Pending>();
        var duplicates = new List<(Pending Pending, WindowEntry Entry)>();
        foreach (var p in batch)
        {
            if (_window.TryGetValue(p.Envelope.Id, out var entry) && entry.JournaledAt >= horizon)
            {
                duplicates.Add((p, entry));
            }
            else
            {
                fresh.Add(p);
            }
        }

        foreach (var (first, last) in duplicates.Select(d => (d.Entry.First, d.Entry.Last)).Distinct())
        {
            // A retry heals a notice lost in a crash; deliveries are idempotent.
            await AnnounceAsync(first, last).ConfigureAwait(false);
        }

        duplicates.ForEach(d => d.Pending.Result.TrySetResult(new PublishResult(d.Entry.Sequence, d.Pending.Envelope.Id, true)));
        return fresh;
    }

    /// <summary>
    /// Loads the tail and the id window: the hint, forward batch by batch to the head, then backwards by
    /// <c>previous</c> until a batch older than the window, a pruned one, or the start.
    /// </summary>
    private async Task LoadTailAsync()
    {
        _window.Clear();
        _tail = null;
        var hint = await journal.ReadHintAsync(channel, CancellationToken.None).ConfigureAwait(false);
        var start = hint?.Hint.First ?? await journal.ListNewestBatchAsync(channel, CancellationToken.None).ConfigureAwait(false);
        if (start is not { } startFirst || await ReadForWindowAsync(startFirst).ConfigureAwait(false) is not { } anchor)
        {
            _tail = (0, 0);
            _tailSeenAt = time.GetUtcNow();
            return;
        }

        // Backwards from the anchor while inside the window.
        var horizon = time.GetUtcNow() - idempotencyWindow;
        for (var b = anchor; b.Previous > 0 && JournaledAt(b) >= horizon;)
        {
            if (await ReadForWindowAsync(b.Previous).ConfigureAwait(false) is not { } previous)
            {
                break;
            }

            b = previous;
        }

        // The winner of a conflict is already the tail: ReadForWindowAsync moves it.
        _tailSeenAt = time.GetUtcNow();
    }

    /// <summary>Reads a batch into the window; makes it (and everything after it that exists) the tail. Null when it does not exist.</summary>
    private async Task<JournalBatch?> ReadForWindowAsync(long first)
    {
        var batch = await ReadTolerantAsync(first).ConfigureAwait(false);
        if (batch is null)
        {
            return null;
        }

        Remember(batch, JournaledAt(batch));
        if (_tail is null || batch.Last > _tail.Value.Last)
        {
            _tail = (batch.First, batch.Last);

            // Walk forward: the chain never skips a batch, so the window stays complete.
            while (await ReadTolerantAsync(_tail.Value.Last + 1).ConfigureAwait(false) is { } next)
            {
                Remember(next, JournaledAt(next));
                _tail = (next.First, next.Last);
            }
        }

        _tailSeenAt = time.GetUtcNow();
        return batch;
    }

    private async Task<JournalBatch?> ReadTolerantAsync(long first)
    {
        try
        {
            return await journal.ReadBatchAsync(channel, first, CancellationToken.None).ConfigureAwait(false);
        }
        catch (JournalBatchInvalidException e) when (e.Last is { } last)
        {
            // A damaged batch still holds its place in the chain; it carries no ids we could match.
            return new JournalBatch { Channel = channel, First = first, Last = last, JournaledAt = string.Empty };
        }
    }

    private void Remember(JournalBatch batch, DateTimeOffset journaledAt)
    {
        foreach (var entry in batch.Entries)
        {
            _window[entry.Envelope!.Id] = new WindowEntry(entry.Sequence, batch.First, batch.Last, journaledAt);
        }

        var horizon = time.GetUtcNow() - idempotencyWindow;
        if (_window.Count > 4096)
        {
            foreach (var old in _window.Where(kv => kv.Value.JournaledAt < horizon).Select(kv => kv.Key).ToList())
            {
                _window.Remove(old);
            }
        }
    }

    private static DateTimeOffset JournaledAt(JournalBatch batch) =>
        DateTimeOffset.TryParse(batch.JournaledAt, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MinValue;

    private async Task AnnounceAsync(long first, long last)
    {
        if (!_queueEnsured)
        {
            await instructions.CreateIfNotExistsAsync().ConfigureAwait(false);
            _queueEnsured = true;
        }

        var notice = new InstructionNotice(CacheEnvelope.ProtocolVersion, channel, first, last);
        await instructions.SendMessageAsync(BinaryData.FromString(JsonSerializer.Serialize(notice, CacheJson.Options))).ConfigureAwait(false);
    }

    /// <summary>At most one hint write in flight and one per 500 ms; a failure is harmless (the hint only has to be safe).</summary>
    private void ScheduleHint(HeadHint hint)
    {
        if (_hintTarget is { } target && target.Last >= hint.Last)
        {
            return;
        }

        _hintTarget = hint;
        if (!_hintWriter.IsCompleted)
        {
            return;
        }

        _hintWriter = Task.Run(async () =>
        {
            var wait = _lastHintWrite + HintInterval - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time).ConfigureAwait(false);
            }

            HeadHint written;
            do
            {
                written = _hintTarget!;
                _lastHintWrite = time.GetUtcNow();
                try
                {
                    await journal.AdvanceHintAsync(channel, written, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Azure.RequestFailedException)
                {
                    return;
                }
            }
            while (!ReferenceEquals(written, _hintTarget));
        });
    }
}
