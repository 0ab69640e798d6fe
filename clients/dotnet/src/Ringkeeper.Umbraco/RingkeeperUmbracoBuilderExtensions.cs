using Azure.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;
using Ringkeeper.Umbraco;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Serialization;
using Umbraco.Cms.Core.Sync;
using Umbraco.Extensions;

namespace Umbraco.Cms.Core.DependencyInjection;

/// <summary>Registers Umbraco load balancing over a ringkeeper cache channel.</summary>
public static class RingkeeperUmbracoBuilderExtensions
{
    /// <summary>
    /// Replaces Umbraco's database messenger with the channel: <see cref="IServerMessenger"/>,
    /// <see cref="ISyncBootStateAccessor"/> and an <see cref="IServerRoleAccessor"/> elected by blob lease (the same
    /// seams <c>SetServerMessenger</c>/<c>SetServerRegistrar</c> replace, through <c>AddUnique</c>). Settings come from
    /// <c>Ringkeeper:Cache</c> (environment <c>Ringkeeper__Cache__…</c>): <c>Channel</c>, and either
    /// <c>QueueServiceUri</c> + <c>BlobServiceUri</c> (with <paramref name="credential"/>) or <c>ConnectionString</c>.
    /// </summary>
    /// <param name="builder">The Umbraco builder.</param>
    /// <param name="credential">The identity for the service URIs (e.g. <c>new DefaultAzureCredential()</c>); null with a connection string.</param>
    /// <param name="configure">Overrides applied after the configuration.</param>
    /// <param name="positionStore">Where the position is kept; default a file at <c>Ringkeeper:Cache:PositionFile</c>.</param>
    public static IUmbracoBuilder AddRingkeeperCacheSync(
        this IUmbracoBuilder builder,
        TokenCredential? credential = null,
        Action<RingkeeperCacheOptions>? configure = null,
        ISequenceStore? positionStore = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Config.GetSection(RingkeeperCacheOptions.SectionName);
        var options = section.Get<RingkeeperCacheOptions>() ?? new RingkeeperCacheOptions();
        var umbracoOptions = section.Get<RingkeeperUmbracoOptions>() ?? new RingkeeperUmbracoOptions();
        if (string.IsNullOrEmpty(options.Channel))
        {
            // The name the web-farm Bicep module provisions as a sticky slot setting.
            options.Channel = builder.Config["Ringkeeper:CacheChannel"] ?? string.Empty;
        }

        configure?.Invoke(options);
        options.Validate();
        umbracoOptions.Validate();
        var storage = CacheStorage.Create(options, credential);

        var services = builder.Services;
        services.AddSingleton(sp => new RingkeeperCacheChannel(
            storage,
            options,
            new UmbracoInstructionApplier(() => sp.GetRequiredService<CacheRefresherCollection>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<RingkeeperServerMessenger>()),
            positionStore,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(sp => sp.GetRequiredService<RingkeeperCacheChannel>());
        services.AddUnique<IServerMessenger>(sp => new RingkeeperServerMessenger(
            sp.GetRequiredService<RingkeeperCacheChannel>(),
            sp.GetRequiredService<IRequestCache>(),
            sp.GetRequiredService<IJsonSerializer>()));
        services.AddUnique<ISyncBootStateAccessor>(sp => new RingkeeperSyncBootStateAccessor(
            sp.GetRequiredService<RingkeeperCacheChannel>(),
            sp.GetRequiredService<ILogger<RingkeeperSyncBootStateAccessor>>()));
        if (umbracoOptions.ElectSchedulingPublisher)
        {
            services.AddSingleton(sp => new SchedulingPublisherElection(
                sp.GetRequiredService<RingkeeperCacheChannel>(),
                umbracoOptions,
                sp.GetRequiredService<ILogger<SchedulingPublisherElection>>()));
            services.AddHostedService(sp => sp.GetRequiredService<SchedulingPublisherElection>());
            services.AddUnique<IServerRoleAccessor>(sp => new ElectedByLeaseServerRoleAccessor(sp.GetRequiredService<SchedulingPublisherElection>()));
        }

        return builder;
    }
}
