using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;

namespace Ringkeeper.Umbraco;

/// <summary>Every log event of Ringkeeper.Umbraco, with stable ids.</summary>
internal static partial class Log
{
    [LoggerMessage(101, LogLevel.Warning, "Cold boot of channel {Channel}: this server has never synced (no stored position); Umbraco rebuilds its caches.", EventName = "ColdBootNeverSynced")]
    public static partial void ColdBootNeverSynced(ILogger logger, string channel);

    [LoggerMessage(102, LogLevel.Warning, "Cold boot of channel {Channel}: {Reason} (position {From} -> {To}); Umbraco rebuilds its caches.", EventName = "ColdBootAtStart")]
    public static partial void ColdBootAtStart(ILogger logger, string channel, ColdBootReason reason, long from, long to);

    [LoggerMessage(103, LogLevel.Warning, "Cold boot of channel {Channel} while running: {Reason} (position {From} -> {To}); refreshing every cache refresher.", EventName = "ColdBootWhileRunning")]
    public static partial void ColdBootWhileRunning(ILogger logger, string channel, ColdBootReason reason, long from, long to);

    [LoggerMessage(104, LogLevel.Error, "DISTRIBUTED CACHE IS NOT UPDATED. Failed to apply instruction {Index} of {Channel}#{Sequence}; it is skipped.", EventName = "InstructionFailed")]
    public static partial void InstructionFailed(ILogger logger, Exception exception, string channel, long sequence, int index);

    [LoggerMessage(105, LogLevel.Information, "This server is now the scheduling publisher of channel {Channel}.", EventName = "BecameSchedulingPublisher")]
    public static partial void BecameSchedulingPublisher(ILogger logger, string channel);

    [LoggerMessage(106, LogLevel.Warning, "This server lost the scheduling publisher lease of channel {Channel}.", EventName = "LostSchedulingPublisher")]
    public static partial void LostSchedulingPublisher(ILogger logger, string channel);

    [LoggerMessage(107, LogLevel.Error, "Scheduling publisher election on channel {Channel} failed; this server stays a subscriber until it succeeds.", EventName = "ElectionFailed")]
    public static partial void ElectionFailed(ILogger logger, Exception exception, string channel);
}
