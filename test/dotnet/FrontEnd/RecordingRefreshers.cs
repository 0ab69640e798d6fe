using System.Text.Json;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Serialization;

namespace RingkeeperFrontEnd;

/// <summary>A payload as Umbraco's payload refreshers carry them (e.g. ContentCacheRefresher.JsonPayload).</summary>
public sealed record TestPayload(int Id, Guid Key, string ChangeTypes);

/// <summary>Records every call Umbraco makes on a refresher, in order, as an event line.</summary>
public abstract class RecordingRefresherBase(Guid id, string name) : ICacheRefresher
{
    public Guid RefresherUniqueId => id;

    public string Name => name;

    public void RefreshAll() => Events.Call(Name, "RefreshAll", null);

    public void Refresh(int id) => Events.Call(Name, "RefreshInt", id);

    public void Refresh(Guid id) => Events.Call(Name, "RefreshGuid", id.ToString("D"));

    public void Remove(int id) => Events.Call(Name, "Remove", id);
}

/// <summary>A plain refresher (ids, and JSON as IJsonCacheRefresher).</summary>
public sealed class RecordingRefresher() : RecordingRefresherBase(Id, "recording"), IJsonCacheRefresher
{
    public static readonly Guid Id = Guid.Parse("8f5c1d2e-3b4a-4c6d-9e7f-0a1b2c3d4e5f");

    public void Refresh(string json) => Events.Call(Name, "RefreshJson", json);

    public void RefreshInternal(string json) => Refresh(json);
}

/// <summary>A payload refresher: locally called with the payloads, remotely with their JSON (as PayloadCacheRefresherBase).</summary>
public sealed class RecordingPayloadRefresher(IJsonSerializer serializer) : RecordingRefresherBase(Id, "payloads"), IPayloadCacheRefresher<TestPayload>
{
    public static readonly Guid Id = Guid.Parse("1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d");

    public void Refresh(string json) => Refresh(serializer.Deserialize<TestPayload[]>(json) ?? []);

    public void RefreshInternal(string json) => Refresh(json);

    public void Refresh(TestPayload[] payloads) => Events.Call(Name, "RefreshPayload", JsonSerializer.SerializeToElement(payloads));

    public void RefreshInternal(TestPayload[] payloads) => Refresh(payloads);
}
