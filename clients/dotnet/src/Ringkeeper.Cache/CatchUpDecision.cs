namespace Ringkeeper.Cache;

/// <summary>Why a front-end rebuilds its caches instead of replaying the journal (Umbraco's cold boot rules).</summary>
public enum ColdBootReason
{
    /// <summary>More than the cold boot threshold of entries behind the head.</summary>
    TooFarBehind,

    /// <summary>The next entry to apply was pruned from the journal.</summary>
    JournalPruned,

    /// <summary>The journal is behind the stored position: it was wiped or replaced.</summary>
    JournalReset,
}

internal enum CatchUpAction
{
    StartAtHead,
    UpToDate,
    Replay,
    ColdBoot,
}

/// <summary>Pure: what a front-end does about the entries between its position and the head (decideColdBoot.ts).</summary>
internal readonly record struct CatchUpDecision(CatchUpAction Action, long From = 0, long To = 0, ColdBootReason Reason = default)
{
    /// <param name="lastApplied">Null when the front-end never applied anything (no stored position).</param>
    /// <param name="head">The journal head.</param>
    /// <param name="nextExists">Whether the journal still holds <c>lastApplied + 1</c> (only asked when behind).</param>
    /// <param name="threshold">Entries that may be replayed.</param>
    public static CatchUpDecision Decide(long? lastApplied, long head, bool nextExists, int threshold) => lastApplied switch
    {
        null => new(CatchUpAction.StartAtHead, To: head),
        { } last when head < last => new(CatchUpAction.ColdBoot, To: head, Reason: ColdBootReason.JournalReset),
        { } last when head == last => new(CatchUpAction.UpToDate),
        { } last when head - last > threshold => new(CatchUpAction.ColdBoot, To: head, Reason: ColdBootReason.TooFarBehind),
        _ when !nextExists => new(CatchUpAction.ColdBoot, To: head, Reason: ColdBootReason.JournalPruned),
        { } last => new(CatchUpAction.Replay, From: last + 1, To: head),
    };
}
