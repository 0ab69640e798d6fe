using Azure.Core;
using Azure.Core.Pipeline;

namespace RingkeeperFrontEnd;

/// <summary>Counts every storage request (each retry too) the front-end's clients send: the bench's idle cost per front-end.</summary>
public sealed class RequestCounter : HttpPipelineSynchronousPolicy
{
    private static long _count;

    public static long Count => Interlocked.Read(ref _count);

    public static T Attach<T>(T options) where T : ClientOptions
    {
        options.AddPolicy(new RequestCounter(), HttpPipelinePosition.PerRetry);
        return options;
    }

    public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
}
