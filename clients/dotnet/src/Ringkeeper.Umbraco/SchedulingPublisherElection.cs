using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;
using Umbraco.Cms.Core.Sync;

namespace Ringkeeper.Umbraco;

/// <summary>
/// Elects one scheduling publisher per channel (Umbraco's "single scheduling server") with a blob lease on
/// <c>{channel}/scheduling-publisher.lease</c> in the journal container: the holder renews it every third of the lease
/// duration; everyone else tries to acquire it as often. A holder that stops renewing (crash, suspension) loses it
/// when the lease expires, so the role moves within one lease duration; a clean stop releases it at once.
/// </summary>
internal sealed class SchedulingPublisherElection : BackgroundService
{
    private readonly BlobLeaseClient _lease;
    private readonly BlobContainerClient _container;
    private readonly BlockBlobClient _blob;
    private readonly string _channel;
    private readonly TimeSpan _duration;
    private readonly ILogger _logger;
    private volatile bool _isLeader;

    public SchedulingPublisherElection(RingkeeperCacheChannel channel, RingkeeperUmbracoOptions options, ILogger<SchedulingPublisherElection> logger)
    {
        _channel = channel.Options.Channel;
        _container = channel.Storage.Journal;
        _blob = _container.GetBlockBlobClient($"{_channel}/scheduling-publisher.lease");
        _lease = _blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        _duration = options.SchedulingLeaseDuration;
        _logger = logger;
    }

    public bool IsLeader => _isLeader;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // One attempt before the host finishes starting, so the role is known when Umbraco's jobs first ask.
        await ElectOnceAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_isLeader)
        {
            _isLeader = false;
            try
            {
                await _lease.ReleaseAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException)
            {
                // Expired or taken already: nothing to hand over.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_duration / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await ElectOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ElectOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_isLeader)
            {
                await _lease.RenewAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }

            await EnsureBlobAsync(cancellationToken).ConfigureAwait(false);
            await _lease.AcquireAsync(_duration, cancellationToken: cancellationToken).ConfigureAwait(false);
            _isLeader = true;
            Log.BecameSchedulingPublisher(_logger, _channel);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Leased by another server (or our lease was taken after it expired).
            if (_isLeader)
            {
                _isLeader = false;
                Log.LostSchedulingPublisher(_logger, _channel);
            }
        }
        catch (Exception e) when (e is RequestFailedException or TimeoutException)
        {
            // Renewal failed for a reason we cannot judge: stop scheduling rather than risk two publishers.
            _isLeader = false;
            Log.ElectionFailed(_logger, e, _channel);
        }
    }

    private async Task EnsureBlobAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await _blob.UploadAsync(new MemoryStream([]), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Exists (and may be leased): fine.
        }
    }
}

/// <summary>Umbraco's <see cref="IServerRoleAccessor"/>: <see cref="ServerRole.SchedulingPublisher"/> while this server holds the channel's lease, else <see cref="ServerRole.Subscriber"/>.</summary>
internal sealed class ElectedByLeaseServerRoleAccessor(SchedulingPublisherElection election) : IServerRoleAccessor
{
    public ServerRole CurrentServerRole => election.IsLeader ? ServerRole.SchedulingPublisher : ServerRole.Subscriber;
}
