using Microsoft.Extensions.Logging;

namespace Ringkeeper.Cache;

/// <summary>Every log event of Ringkeeper.Cache, with stable ids. Storage traffic itself is logged by Azure.Core.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Cache front-end {Queue} starts at the head of channel {Channel} ({Sequence}).", EventName = "StartAtHead")]
    public static partial void StartAtHead(ILogger logger, string queue, string channel, long sequence);

    [LoggerMessage(2, LogLevel.Warning, "Cache front-end {Queue} cold boot ({Reason}): position {From} -> {To}.", EventName = "ColdBoot")]
    public static partial void ColdBoot(ILogger logger, string queue, ColdBootReason reason, long from, long to);

    [LoggerMessage(3, LogLevel.Error, "Cache front-end {Queue}: {Where} failed.", EventName = "Failure")]
    public static partial void Failure(ILogger logger, Exception exception, string queue, string where);

    [LoggerMessage(4, LogLevel.Warning, "Cache front-end {Queue} ignored a message: {Problem}.", EventName = "IgnoredMessage")]
    public static partial void IgnoredMessage(ILogger logger, string queue, string problem);

    [LoggerMessage(5, LogLevel.Warning, "Cache front-end {Queue} dropped {Count} deliveries above the journal head {Head}.", EventName = "DroppedBeyondHead")]
    public static partial void DroppedBeyondHead(ILogger logger, string queue, int count, long head);

    [LoggerMessage(6, LogLevel.Error, "Cache front-end {Queue}: journal batch {First} is not valid; its sequences are skipped.", EventName = "InvalidJournalBatch")]
    public static partial void InvalidJournalBatch(ILogger logger, Exception exception, string queue, long first);

    [LoggerMessage(7, LogLevel.Error, "Cache front-end {Queue}: batch {First}-{Last} was delivered void (not a valid journal batch); skipped.", EventName = "VoidBatch")]
    public static partial void VoidBatch(ILogger logger, string queue, long first, long last);
}
