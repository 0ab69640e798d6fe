namespace Ringkeeper.Cache;

/// <summary>What a front-end does with its channel: apply envelopes in order, rebuild on a cold boot.</summary>
public interface ICacheChannelHandler
{
    /// <summary>Applies one envelope; called strictly in sequence order, once per sequence. A throw is logged and skipped (as Umbraco does).</summary>
    ValueTask ApplyAsync(AppliedEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Rebuild caches from the source of truth; called once per cold boot.</summary>
    ValueTask ColdBootAsync(ColdBootInfo info, CancellationToken cancellationToken);
}

/// <summary>A cold boot: the position jumped from <see cref="LastApplied"/> to <see cref="SkippedTo"/>.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Instance">This front-end.</param>
/// <param name="Reason">Why.</param>
/// <param name="LastApplied">Position before.</param>
/// <param name="SkippedTo">Position after: everything up to here is assumed reflected by the rebuild.</param>
public sealed record ColdBootInfo(string Channel, string Instance, ColdBootReason Reason, long LastApplied, long SkippedTo);

/// <summary>How a front-end started.</summary>
/// <param name="Position">Its position once caught up.</param>
/// <param name="NeverSynced">No stored position: a new front-end, started at the head.</param>
/// <param name="ColdBoot">The cold boot of the start-up catch-up, if there was one.</param>
public sealed record SubscriberStart(long Position, bool NeverSynced, ColdBootInfo? ColdBoot);
