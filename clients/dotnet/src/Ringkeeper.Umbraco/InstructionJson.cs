using System.Globalization;
using System.Text.Json;
using Umbraco.Cms.Core.Sync;

namespace Ringkeeper.Umbraco;

/// <summary>Umbraco's <see cref="RefreshInstruction"/> in the envelope's Umbraco form (the seven fields Newtonsoft writes, enum as number).</summary>
internal static class InstructionJson
{
    public static JsonElement ToJson(RefreshInstruction i)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("RefreshType", (int)i.RefreshType);
            w.WriteString("RefresherId", i.RefresherId.ToString("D"));
            w.WriteString("GuidId", i.GuidId.ToString("D"));
            w.WriteNumber("IntId", i.IntId);
            WriteNullable(w, "JsonIds", i.JsonIds);
            w.WriteNumber("JsonIdCount", i.JsonIdCount);
            WriteNullable(w, "JsonPayload", i.JsonPayload);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    /// <summary>
    /// An envelope instruction as a <see cref="RefreshInstruction"/>: the Umbraco form field by field; the generic form
    /// <c>{refresher, type, ids?, payload?}</c> mapped onto the same methods (<paramref name="refresherByName"/> resolves names).
    /// </summary>
    public static IEnumerable<RefreshInstruction> FromJson(JsonElement e, Func<string, Guid> refresherByName)
    {
        if (e.TryGetProperty("RefreshType", out var type))
        {
            yield return new RefreshInstruction
            {
                RefreshType = (RefreshMethodType)type.GetInt32(),
                RefresherId = Guid.Parse(e.GetProperty("RefresherId").GetString()!),
                GuidId = e.TryGetProperty("GuidId", out var g) && g.ValueKind == JsonValueKind.String ? Guid.Parse(g.GetString()!) : Guid.Empty,
                IntId = e.TryGetProperty("IntId", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : 0,
                JsonIds = e.TryGetProperty("JsonIds", out var ids) && ids.ValueKind == JsonValueKind.String ? ids.GetString() : null,
                JsonIdCount = e.TryGetProperty("JsonIdCount", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt32() : 1,
                JsonPayload = e.TryGetProperty("JsonPayload", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
            };
            yield break;
        }

        var refresherText = e.GetProperty("refresher").GetString()!;
        var refresher = Guid.TryParse(refresherText, out var id) ? id : refresherByName(refresherText);
        var t = e.GetProperty("type");
        var method = t.ValueKind == JsonValueKind.Number ? (RefreshMethodType)t.GetInt32() : Enum.Parse<RefreshMethodType>(t.GetString()!);
        var idList = e.TryGetProperty("ids", out var list) ? list.EnumerateArray().ToList() : [];
        switch (method)
        {
            case RefreshMethodType.RefreshAll:
                yield return new RefreshInstruction { RefresherId = refresher, RefreshType = method };
                break;
            case RefreshMethodType.RefreshByJson:
                yield return new RefreshInstruction { RefresherId = refresher, RefreshType = method, JsonPayload = e.TryGetProperty("payload", out var payload) ? payload.GetRawText() : null };
                break;
            default:
                foreach (var item in idList)
                {
                    if (item.ValueKind == JsonValueKind.Number)
                    {
                        yield return new RefreshInstruction { RefresherId = refresher, RefreshType = method == RefreshMethodType.RemoveById ? method : RefreshMethodType.RefreshById, IntId = item.GetInt32() };
                    }
                    else if (Guid.TryParse(item.GetString(), out var guid) && method != RefreshMethodType.RemoveById)
                    {
                        yield return new RefreshInstruction { RefresherId = refresher, RefreshType = RefreshMethodType.RefreshByGuid, GuidId = guid };
                    }
                    else
                    {
                        throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Id {item.GetRawText()} cannot be used with {method} (integers, or GUIDs for refreshes)."));
                    }
                }

                break;
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
