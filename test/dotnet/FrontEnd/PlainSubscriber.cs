using Ringkeeper.Cache;

namespace RingkeeperFrontEnd;

/// <summary>An ASP.NET Core front-end's use of Ringkeeper.Cache alone: prints every applied envelope and cold boot.</summary>
public sealed class PrintingHandler : ICacheChannelHandler
{
    public ValueTask ApplyAsync(AppliedEnvelope envelope, CancellationToken cancellationToken)
    {
        Events.Write(new { @event = "envelope", sequence = envelope.Sequence, id = envelope.Envelope.Id, origin = envelope.Envelope.Origin, instructions = envelope.Envelope.Instructions });
        return ValueTask.CompletedTask;
    }

    public ValueTask ColdBootAsync(ColdBootInfo info, CancellationToken cancellationToken)
    {
        Events.Write(new { @event = "coldBoot", reason = info.Reason.ToString(), from = info.LastApplied, to = info.SkippedTo });
        return ValueTask.CompletedTask;
    }
}
