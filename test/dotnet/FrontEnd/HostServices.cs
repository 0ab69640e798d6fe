using System.Text.Json;
using Umbraco.Cms.Core.Cache;
using Umbraco.Cms.Core.Serialization;

namespace RingkeeperFrontEnd;

/// <summary>
/// Stands in for Umbraco.Web.Common's HttpContext-scoped request cache (not in Umbraco.Cms.Core): a real
/// <see cref="DictionaryAppCache"/> per simulated request, none outside one.
/// </summary>
public sealed class RequestScopedCache : IRequestCache
{
    private static readonly AsyncLocal<DictionaryAppCache?> Current = new();

    public static IDisposable BeginRequest()
    {
        Current.Value = new DictionaryAppCache();
        return new End();
    }

    private static DictionaryAppCache Cache => Current.Value ?? throw new InvalidOperationException("No request.");

    public bool IsAvailable => Current.Value is not null;

    public object? Get(string key) => Current.Value?.Get(key);

    public object? Get(string key, Func<object?> factory) => Cache.Get(key, factory);

    public IEnumerable<object?> SearchByKey(string keyStartsWith) => Cache.SearchByKey(keyStartsWith);

    public IEnumerable<object?> SearchByRegex(string regex) => Cache.SearchByRegex(regex);

    public void Clear() => Current.Value?.Clear();

    public void Clear(string key) => Current.Value?.Clear(key);

    public void ClearOfType(Type type) => Current.Value?.ClearOfType(type);

    public void ClearOfType<T>() => Current.Value?.ClearOfType<T>();

    public void ClearOfType<T>(Func<string, T, bool> predicate) => Current.Value?.ClearOfType(predicate);

    public void ClearByKey(string keyStartsWith) => Current.Value?.ClearByKey(keyStartsWith);

    public void ClearByRegex(string regex) => Current.Value?.ClearByRegex(regex);

    public bool Set(string key, object? value) => Cache.Set(key, value);

    public bool Remove(string key) => Cache.Remove(key);

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => Cache.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private sealed class End : IDisposable
    {
        public void Dispose() => Current.Value = null;
    }
}

/// <summary>Stands in for Umbraco.Infrastructure's SystemTextJsonSerializer (not served): System.Text.Json, web defaults.</summary>
public sealed class TestJsonSerializer : IJsonSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public string Serialize(object? input) => JsonSerializer.Serialize(input, Options);

    public T? Deserialize<T>(string input) => JsonSerializer.Deserialize<T>(input, Options);

    public bool TryDeserialize<T>(object input, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        where T : class
    {
        value = input is string s ? Deserialize<T>(s) : default;
        return value is not null;
    }
}
