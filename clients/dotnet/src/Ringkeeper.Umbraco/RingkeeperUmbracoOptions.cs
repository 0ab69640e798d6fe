namespace Ringkeeper.Umbraco;

/// <summary>Umbraco-specific settings, bound from <c>Ringkeeper:Cache</c> beside <see cref="Ringkeeper.Cache.RingkeeperCacheOptions"/>.</summary>
public sealed class RingkeeperUmbracoOptions
{
    /// <summary>
    /// How long the scheduling publisher's blob lease lasts without renewal (15-60 s, Azure's limits). A front-end that
    /// stops renewing hands the role over within this period. Default 30 s.
    /// </summary>
    public TimeSpan SchedulingLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether this front-end takes part in the scheduling publisher election at all. Default true.</summary>
    public bool ElectSchedulingPublisher { get; set; } = true;

    internal void Validate()
    {
        if (SchedulingLeaseDuration < TimeSpan.FromSeconds(15) || SchedulingLeaseDuration > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentException($"Ringkeeper:Cache:SchedulingLeaseDuration \"{SchedulingLeaseDuration}\": must be between 00:00:15 and 00:01:00 (blob lease limits).", nameof(SchedulingLeaseDuration));
        }
    }
}
