namespace Ringkeeper.Cache;

/// <summary>
/// Orders delivered batches: holds them by <c>first</c>, releases strictly the one that starts at
/// <c>Position + 1</c>, and drops duplicates and anything at or below the position. Pure; not thread-safe.
/// </summary>
internal sealed class BatchBuffer<T>(long position)
{
    private readonly SortedDictionary<long, (long Last, T Item)> _held = [];

    /// <summary>The last sequence applied: always a batch end.</summary>
    public long Position { get; private set; } = position;

    public int Count => _held.Count;

    /// <summary>False when the batch is a duplicate or already applied.</summary>
    public bool Offer(long first, long last, T item) => first > Position && _held.TryAdd(first, (last, item));

    public bool TryPeekNext(out long first, out long last, out T item)
    {
        first = Position + 1;
        if (_held.TryGetValue(first, out var held))
        {
            (last, item) = held;
            return true;
        }

        (last, item) = (0, default!);
        return false;
    }

    public bool TryGet(long first, out long last, out T item)
    {
        var found = _held.TryGetValue(first, out var held);
        (last, item) = found ? held : (0, default!);
        return found;
    }

    /// <summary>The batch <c>Position + 1 … last</c> was applied.</summary>
    public void Advance(long first, long last)
    {
        if (first != Position + 1 || last < first)
        {
            throw new InvalidOperationException($"Batch {first}-{last} applied out of order (position {Position}).");
        }

        _held.Remove(first);
        Position = last;
    }

    /// <summary>Moves the position (cold boot), dropping what it covers; backwards drops everything held.</summary>
    public void Reset(long position)
    {
        if (position < Position)
        {
            _held.Clear();
        }
        else
        {
            foreach (var first in _held.Keys.Where(f => f <= position).ToList())
            {
                _held.Remove(first);
            }
        }

        Position = position;
    }

    /// <summary>Whether a batch is held above a missing <c>Position + 1</c>.</summary>
    public bool HasGap => _held.Count > 0 && _held.Keys.First() > Position + 1;

    /// <summary>Drops held batches that start above <paramref name="head"/>; returns how many.</summary>
    public int DropAbove(long head)
    {
        var above = _held.Keys.Where(f => f > head).ToList();
        above.ForEach(f => _held.Remove(f));
        return above.Count;
    }

    public long? HighestLast => _held.Count == 0 ? null : _held.Values.Max(v => v.Last);
}
