namespace Ringkeeper.Cache;

/// <summary>
/// Settings of one front-end or publisher on a ringkeeper cache channel (docs/cache-protocol.md).
/// Bound from the configuration section <c>Ringkeeper:Cache</c> (environment <c>Ringkeeper__Cache__*</c>).
/// </summary>
public sealed class RingkeeperCacheOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Ringkeeper:Cache";

    /// <summary>Required. The channel (one per site or slot): 1-24 lowercase letters, digits and single inner hyphens.</summary>
    public string Channel { get; set; } = string.Empty;

    /// <summary>
    /// Stable per front-end across restarts: names its queue and its position. Default: <c>WEBSITE_INSTANCE_ID</c>,
    /// else the machine name.
    /// </summary>
    public string? Instance { get; set; }

    /// <summary>Queue service endpoint (identity-based access), e.g. <c>https://account.queue.core.windows.net</c>.</summary>
    public Uri? QueueServiceUri { get; set; }

    /// <summary>Blob service endpoint (identity-based access), e.g. <c>https://account.blob.core.windows.net</c>.</summary>
    public Uri? BlobServiceUri { get; set; }

    /// <summary>A storage connection string instead of the service URIs (Azurite, or where identities are not available).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The journal container. Default <c>cache-journal</c>.</summary>
    public string JournalContainer { get; set; } = "cache-journal";

    /// <summary>The publisher → fan-out queue. Default <c>cache-instructions</c>.</summary>
    public string InstructionsQueue { get; set; } = "cache-instructions";

    /// <summary>Prefix of front-end queue names. Default <c>rkfe</c>.</summary>
    public string FrontEndQueuePrefix { get; set; } = "rkfe";

    /// <summary>Journal entries a front-end replays before it cold-boots instead (Umbraco's MaxProcessingInstructionCount). Default 1000.</summary>
    public int ColdBootThreshold { get; set; } = 1000;

    /// <summary>How long after its commit a publisher recognises an envelope id (the channel's <c>idempotencyMinutes</c>). Default 10 minutes.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the front-end queue's heartbeat metadata is refreshed. Default 60 s; at most half the channel's stale timeout.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an out-of-order delivery waits for the missing ones before they are read from the journal. Default 1.5 s.</summary>
    public TimeSpan GapWait { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>While idle, how often the journal is checked for entries whose delivery was lost. Default 10 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Shortest wait between queue receives (after a partial batch). Default 50 ms.</summary>
    public TimeSpan PollMin { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest wait between queue receives while idle (the back-off doubles up to this). Default 1 s.</summary>
    public TimeSpan PollMax { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Where the front-end keeps its position (Umbraco's lastsynced). Default
    /// <c>{LocalApplicationData or temp}/ringkeeper/cache/{queue}.json</c>; on Azure App Service point it at <c>/home/data/…</c>
    /// or <c>%HOME%\data\…</c> so it survives restarts.
    /// </summary>
    public string? PositionFile { get; set; }

    /// <summary>This process's publisher origin (Umbraco's "originated"). Default: machine name, process id and a per-boot GUID.</summary>
    public string? Origin { get; set; }

    /// <summary>Checks the settings; throws naming the first one that is wrong.</summary>
    public void Validate()
    {
        if (!ChannelName.IsValid(Channel))
        {
            throw Error.InvalidSetting(nameof(Channel), Channel, "must be 1-24 lowercase letters, digits and single inner hyphens");
        }

        if (ConnectionString is null && (QueueServiceUri is null || BlobServiceUri is null))
        {
            throw Error.InvalidSetting(nameof(ConnectionString), null, $"set either {nameof(ConnectionString)} or both {nameof(QueueServiceUri)} and {nameof(BlobServiceUri)}");
        }

        if (ColdBootThreshold < 1)
        {
            throw Error.InvalidSetting(nameof(ColdBootThreshold), ColdBootThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be at least 1");
        }

        foreach (var (name, value) in new[] { (nameof(HeartbeatInterval), HeartbeatInterval), (nameof(GapWait), GapWait), (nameof(ProbeInterval), ProbeInterval), (nameof(PollMax), PollMax), (nameof(IdempotencyWindow), IdempotencyWindow) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw Error.InvalidSetting(name, value.ToString(), "must be positive");
            }
        }

        if (PollMin < TimeSpan.Zero || PollMin > PollMax)
        {
            throw Error.InvalidSetting(nameof(PollMin), PollMin.ToString(), $"must be between zero and {nameof(PollMax)}");
        }
    }

    /// <summary><see cref="Instance"/>, else <c>WEBSITE_INSTANCE_ID</c>, else the machine name.</summary>
    public string ResolveInstance() => Instance ?? Environment.GetEnvironmentVariable("WEBSITE_INSTANCE_ID") ?? Environment.MachineName;
}
