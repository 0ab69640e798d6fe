using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ringkeeper.Cache;
using RingkeeperFrontEnd;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Composing;
using Umbraco.Cms.Core.Configuration.Models;
using Umbraco.Cms.Core.DependencyInjection;
using Umbraco.Cms.Core.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Umbraco.Cms.Core.Serialization;
using Umbraco.Cms.Core.Sync;
using Umbraco.Extensions;

// One Umbraco front-end (op start) or one plain Ringkeeper.Cache front-end (op subscribe) on a ringkeeper channel. Commands are JSON lines on stdin; every refresher call, start-up
// and answer is a JSON line on stdout (see test/dotnet/frontEnds.ts).
ServiceProvider? provider = null;
List<IHostedService> hosted = [];
CacheSubscriber? plain = null;
string? line;
while ((line = await Console.In.ReadLineAsync()) is not null)
{
    if (string.IsNullOrWhiteSpace(line))
    {
        continue;
    }

    var command = JsonNode.Parse(line)!.AsObject();
    var op = (string)command["op"]!;
    try
    {
        switch (op)
        {
            case "start":
                (provider, hosted) = await StartAsync(command);
                break;
            case "subscribe":
                var options = command["settings"].Deserialize<RingkeeperCacheOptions>()!;
                // The bench asks for the storage requests this front-end sent (op "requests"): counted by a pipeline policy on its own clients.
                var storage = options.ConnectionString is { } cs
                    ? new CacheStorage(
                        new QueueServiceClient(cs, RequestCounter.Attach(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 })),
                        new BlobServiceClient(cs, RequestCounter.Attach(new BlobClientOptions())).GetBlobContainerClient(options.JournalContainer))
                    : CacheStorage.Create(options, null);
                plain = new CacheSubscriber(storage, options, new PrintingHandler(), logger: LoggerFactory.Create(l => l.AddProvider(new StderrLoggerProvider())).CreateLogger<CacheSubscriber>());
                var start = await plain.StartAsync();
                Events.Write(new { @event = "subscribed", queue = plain.QueueName, position = start.Position, neverSynced = start.NeverSynced, coldBoot = start.ColdBoot?.Reason.ToString() });
                break;
            case "publish":
                // The raw publisher (a .NET back-office without Umbraco): one envelope of generic instructions.
                var publishOptions = command["settings"].Deserialize<RingkeeperCacheOptions>()!;
                var publisher = new CachePublisher(CacheStorage.Create(publishOptions, null), publishOptions);
                // Each element: an array of instructions, or {id, instructions} to publish under a given id.
                var results = await Task.WhenAll(command["envelopes"]!.AsArray().Select(e =>
                {
                    var instructions = (e is JsonObject o ? o["instructions"]! : e!).AsArray().Select(i => JsonSerializer.SerializeToElement(i)).ToArray();
                    var envelope = CacheEnvelope.Create(publishOptions.Channel, (string?)command["origin"] ?? "dotnet-publisher", instructions);
                    return publisher.PublishAsync(e is JsonObject given ? envelope with { Id = (string)given["id"]! } : envelope);
                }));
                Events.Write(new { @event = "published", results = results.Select(r => new { sequence = r.Sequence, id = r.Id, duplicate = r.Duplicate }) });
                break;
            case "request":
                // One back-office request: DistributedCache calls, then Umbraco's request-end SendMessages().
                using (RequestScopedCache.BeginRequest())
                {
                    foreach (var call in command["calls"]!.AsArray())
                    {
                        Invoke(provider!.GetRequiredService<DistributedCache>(), call!.AsObject());
                    }

                    provider!.GetRequiredService<IServerMessenger>().SendMessages();
                }

                Events.Write(new { @event = "sent", tag = (string?)command["tag"] });
                break;
            case "burst":
                // Many requests at once, each refreshing one id: from..from+count-1.
                var from = (int)command["from"]!;
                var count = (int)command["count"]!;
                var cache = provider!.GetRequiredService<DistributedCache>();
                var messenger = provider!.GetRequiredService<IServerMessenger>();
                await Parallel.ForAsync(from, from + count, new ParallelOptions { MaxDegreeOfParallelism = (int?)command["parallel"] ?? 16 }, (i, _) =>
                {
                    using (RequestScopedCache.BeginRequest())
                    {
                        cache.Refresh(RecordingRefresher.Id, i);
                        messenger.SendMessages();
                    }

                    return ValueTask.CompletedTask;
                });
                Events.Write(new { @event = "sent", tag = (string?)command["tag"] });
                break;
            case "sync":
                provider!.GetRequiredService<IServerMessenger>().Sync();
                Events.Write(new { @event = "synced" });
                break;
            case "requests":
                Events.Write(new { @event = "requests", count = RequestCounter.Count });
                break;
            case "role":
                Events.Write(new { @event = "role", role = provider!.GetRequiredService<IServerRoleAccessor>().CurrentServerRole.ToString() });
                break;
            case "stop":
                if (plain is not null)
                {
                    await plain.StopAsync(unregister: (bool?)command["unregister"] ?? false);
                    Events.Write(new { @event = "stopped" });
                    return 0;
                }

                foreach (var service in Enumerable.Reverse(hosted))
                {
                    await service.StopAsync(CancellationToken.None);
                }

                Events.Write(new { @event = "stopped" });
                await provider!.DisposeAsync();
                return 0;
            default:
                throw new InvalidOperationException($"unknown op {op}");
        }
    }
    catch (Exception e)
    {
        Events.Write(new { @event = "error", op, type = e.GetType().FullName, message = e.Message, at = e.StackTrace?.Split('\n').Take(4) });
    }
}

return 0;

static async Task<(ServiceProvider, List<IHostedService>)> StartAsync(JsonObject command)
{
    var settings = command["settings"]!.AsObject().ToDictionary(kv => $"Ringkeeper:Cache:{kv.Key}", kv => (string?)kv.Value?.ToString());
    var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    var services = new ServiceCollection();
    services.AddLogging(logging => logging.AddProvider(new StderrLoggerProvider()).SetMinimumLevel(LogLevel.Information));
    using var loggerFactory = LoggerFactory.Create(l => l.AddProvider(new StderrLoggerProvider()));

    // Umbraco's own builder and collection builders (Umbraco.Cms.Core), scanning only this assembly.
    var typeFinder = new TypeFinder(
        loggerFactory.CreateLogger<TypeFinder>(),
        new DefaultUmbracoAssemblyProvider(typeof(Program).Assembly, loggerFactory, []),
        [],
        new TypeFinderConfig(Options.Create(new TypeFinderSettings())));
    var typeLoader = new TypeLoader(typeFinder, loggerFactory.CreateLogger<TypeLoader>(), [typeof(Program).Assembly]);
    var builder = new UmbracoBuilder(services, config, typeLoader, loggerFactory, new NoopProfiler(), AppCaches.NoCache);

    services.AddUnique<IRequestCache, RequestScopedCache>();
    services.AddUnique<IJsonSerializer, TestJsonSerializer>();
    services.AddSingleton<DistributedCache>();
    builder.CacheRefreshers().Add<RecordingRefresher>().Add<RecordingPayloadRefresher>();
    builder.AddRingkeeperCacheSync();
    builder.Build();

    var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false });
    var hosted = provider.GetServices<IHostedService>().ToList();
    foreach (var service in hosted)
    {
        await service.StartAsync(CancellationToken.None);
    }

    // As Umbraco's DatabaseServerMessengerNotificationHandler on UmbracoApplicationStarting: the first Sync()
    // runs the messenger's initialisation; then the published cache asks for the boot state.
    provider.GetRequiredService<IServerMessenger>().Sync();
    var bootState = provider.GetRequiredService<ISyncBootStateAccessor>().GetSyncBootState();
    Events.Write(new
    {
        @event = "started",
        bootState = bootState.ToString(),
        bootStateAgain = provider.GetRequiredService<ISyncBootStateAccessor>().GetSyncBootState().ToString(),
        role = provider.GetRequiredService<IServerRoleAccessor>().CurrentServerRole.ToString(),
    });
    return (provider, hosted);
}

static void Invoke(DistributedCache cache, JsonObject call)
{
    var refresher = (string?)call["refresher"] == "payloads" ? RecordingPayloadRefresher.Id : RecordingRefresher.Id;
    switch ((string)call["m"]!)
    {
        case "RefreshAll":
            cache.RefreshAll(refresher);
            break;
        case "RefreshInt":
            cache.Refresh(refresher, (int)call["id"]!);
            break;
        case "RefreshInts":
            cache.Refresh(refresher, call["ids"]!.AsArray().Select(i => (int)i!).ToArray());
            break;
        case "RefreshGuid":
            cache.Refresh(refresher, Guid.Parse((string)call["id"]!));
            break;
        case "Remove":
            cache.Remove(refresher, (int)call["id"]!);
            break;
        case "RefreshByPayload":
            cache.RefreshByPayload(refresher, call["payload"].Deserialize<TestPayload[]>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!);
            break;
        default:
            throw new InvalidOperationException($"unknown call {call["m"]}");
    }
}

/// <summary>Logs to stderr (the harness shows them when a scenario fails).</summary>
internal sealed class StderrLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName);

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}[{eventId.Id}] {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}");
    }
}
