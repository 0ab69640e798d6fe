using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Ringkeeper.Cache;

/// <summary>
/// The storage clients of a channel: the queue service (front-end queues, instructions queue) and the journal
/// container. Identity-based by default (a <see cref="TokenCredential"/> the application chooses); a connection
/// string for Azurite.
/// </summary>
public sealed class CacheStorage
{
    /// <summary>From ready clients. Queue messages must be base64 (<see cref="QueueMessageEncoding.Base64"/>), as the Functions host writes them.</summary>
    public CacheStorage(QueueServiceClient queues, BlobContainerClient journal)
    {
        Queues = queues ?? throw new ArgumentNullException(nameof(queues));
        Journal = journal ?? throw new ArgumentNullException(nameof(journal));
    }

    /// <summary>The queue service.</summary>
    public QueueServiceClient Queues { get; }

    /// <summary>The journal container.</summary>
    public BlobContainerClient Journal { get; }

    /// <summary>From <see cref="RingkeeperCacheOptions"/>: the connection string when set, else the service URIs with <paramref name="credential"/>.</summary>
    public static CacheStorage Create(RingkeeperCacheOptions options, TokenCredential? credential)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ConnectionString is { } connectionString)
        {
            return new CacheStorage(
                new QueueServiceClient(connectionString, QueueOptions()),
                new BlobServiceClient(connectionString, BlobOptions()).GetBlobContainerClient(options.JournalContainer));
        }

        if (credential is null)
        {
            throw new ArgumentNullException(nameof(credential), $"{RingkeeperCacheOptions.SectionName}: identity-based access to {options.QueueServiceUri} needs a TokenCredential (e.g. DefaultAzureCredential or ManagedIdentityCredential).");
        }

        return new CacheStorage(
            new QueueServiceClient(options.QueueServiceUri, credential, QueueOptions()),
            new BlobServiceClient(options.BlobServiceUri, credential, BlobOptions()).GetBlobContainerClient(options.JournalContainer));
    }

    private static QueueClientOptions QueueOptions()
    {
        var o = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        ConfigureRetry(o.Retry);
        return o;
    }

    private static BlobClientOptions BlobOptions()
    {
        var o = new BlobClientOptions();
        ConfigureRetry(o.Retry);
        return o;
    }

    // Fast retries with a per-try timeout: a front-end falls back on the journal, so a hung call must not stall it.
    private static void ConfigureRetry(RetryOptions retry)
    {
        retry.Mode = RetryMode.Exponential;
        retry.MaxRetries = 4;
        retry.Delay = TimeSpan.FromMilliseconds(100);
        retry.MaxDelay = TimeSpan.FromSeconds(2);
        retry.NetworkTimeout = TimeSpan.FromSeconds(15);
    }
}
