using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ringkeeper.Cache;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Sync;

namespace Ringkeeper.Umbraco;

/// <summary>
/// Applies remote envelopes through the <see cref="CacheRefresherCollection"/> as Umbraco's CacheInstructionService
/// does: each instruction by its <see cref="RefreshMethodType"/>, identical instructions once per envelope, and a
/// failing instruction logged ("DISTRIBUTED CACHE IS NOT UPDATED") and skipped rather than retried forever.
/// </summary>
internal sealed class UmbracoInstructionApplier(Func<CacheRefresherCollection> refreshers, ILogger logger)
{
    public void Apply(AppliedEnvelope applied)
    {
        var collection = refreshers();
        var processed = new HashSet<RefreshInstruction>();
        var instructions = applied.Envelope.Instructions;
        for (var index = 0; index < instructions.Count; index++)
        {
            try
            {
                foreach (var instruction in InstructionJson.FromJson(instructions[index], name => ByName(collection, name)))
                {
                    if (processed.Add(instruction))
                    {
                        Notify(collection, instruction);
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or KeyNotFoundException or ArgumentException)
            {
                Log.InstructionFailed(logger, e, applied.Envelope.Channel, applied.Sequence, index);
            }
        }
    }

    /// <summary>A cold boot while running: every refresher refreshes everything (what a rebuild would reflect).</summary>
    public void RefreshEverything()
    {
        foreach (var refresher in refreshers())
        {
            refresher.RefreshAll();
        }
    }

    private static void Notify(CacheRefresherCollection collection, RefreshInstruction instruction)
    {
        var refresher = collection[instruction.RefresherId]
            ?? throw new InvalidOperationException($"Cache refresher with ID \"{instruction.RefresherId}\" does not exist.");
        switch (instruction.RefreshType)
        {
            case RefreshMethodType.RefreshAll:
                refresher.RefreshAll();
                break;
            case RefreshMethodType.RefreshByGuid:
                refresher.Refresh(instruction.GuidId);
                break;
            case RefreshMethodType.RefreshById:
                refresher.Refresh(instruction.IntId);
                break;
            case RefreshMethodType.RefreshByIds:
                foreach (var id in JsonSerializer.Deserialize<int[]>(instruction.JsonIds ?? "[]") ?? [])
                {
                    refresher.Refresh(id);
                }

                break;
            case RefreshMethodType.RefreshByJson:
                if (refresher is not IJsonCacheRefresher json)
                {
                    throw new InvalidOperationException($"Cache refresher with ID \"{refresher.RefresherUniqueId}\" does not implement {typeof(IJsonCacheRefresher)}.");
                }

                if (instruction.JsonPayload is { } payload)
                {
                    json.Refresh(payload);
                }

                break;
            case RefreshMethodType.RemoveById:
                refresher.Remove(instruction.IntId);
                break;
            default:
                throw new InvalidOperationException($"Unknown refresh type {(int)instruction.RefreshType}.");
        }
    }

    private static Guid ByName(CacheRefresherCollection collection, string name) =>
        collection.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))?.RefresherUniqueId
        ?? throw new KeyNotFoundException($"No cache refresher is named \"{name}\".");
}
