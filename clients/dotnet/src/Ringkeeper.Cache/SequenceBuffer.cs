namespace Ringkeeper.Cache;

/// <summary>
/// Orders deliveries by sequence: holds out-of-order items, releases them strictly one after the other from
/// <c>LastApplied + 1</c>, and drops duplicates and anything already applied. Pure; not thread-safe.
/// </summary>
internal sealed class SequenceBuffer<T>(long lastApplied)
{
    private readonly SortedDictionary<long, T> _pending = [];

    public long LastApplied { get; private set; } = lastApplied;

    public int Count => _pending.Count;

    /// <summary>False when the item is a duplicate or already applied.</summary>
    public bool Offer(long sequence, T item) => sequence > LastApplied && _pending.TryAdd(sequence, item);

    public bool TryPeekNext(out long sequence, out T item)
    {
        sequence = LastApplied + 1;
        return _pending.TryGetValue(sequence, out item!);
    }

    public void MarkApplied(long sequence)
    {
        if (sequence != LastApplied + 1)
        {
            throw new InvalidOperationException($"Sequence {sequence} applied out of order (last applied {LastApplied}).");
        }

        _pending.Remove(sequence);
        LastApplied = sequence;
    }

    /// <summary>Moves the position (cold boot), dropping everything at or below it; backwards resets the buffer.</summary>
    public void Reset(long sequence)
    {
        if (sequence < LastApplied)
        {
            _pending.Clear();
        }
        else
        {
            foreach (var s in _pending.Keys.Where(s => s <= sequence).ToList())
            {
                _pending.Remove(s);
            }
        }

        LastApplied = sequence;
    }

    /// <summary>Whether sequences are missing before the lowest held item.</summary>
    public bool HasGap => _pending.Count > 0 && _pending.Keys.First() > LastApplied + 1;

    public bool TryGet(long sequence, out T item) => _pending.TryGetValue(sequence, out item!);

    /// <summary>Drops held items above <paramref name="sequence"/>; returns how many.</summary>
    public int DropAbove(long sequence)
    {
        var above = _pending.Keys.Where(s => s > sequence).ToList();
        above.ForEach(s => _pending.Remove(s));
        return above.Count;
    }

    public long? Highest => _pending.Count == 0 ? null : _pending.Keys.Last();
}
