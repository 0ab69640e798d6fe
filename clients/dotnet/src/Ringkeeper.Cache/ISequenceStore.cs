using System.Globalization;
using System.Text.Json;

namespace Ringkeeper.Cache;

/// <summary>Where a front-end keeps the last sequence it applied (Umbraco's "lastsynced"). Pluggable.</summary>
public interface ISequenceStore
{
    /// <summary>Null when nothing was ever saved (a new front-end).</summary>
    ValueTask<long?> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Saves the position durably.</summary>
    ValueTask SaveAsync(long sequence, CancellationToken cancellationToken = default);
}

/// <summary>
/// A small JSON file <c>{"lastApplied":n,"savedAt":…}</c> (the format of the TypeScript FileSequenceStore), replaced
/// atomically (write, then rename) so a crash never leaves half a number.
/// </summary>
public sealed class FileSequenceStore(string file) : ISequenceStore
{
    /// <summary>The file.</summary>
    public string File { get; } = file ?? throw new ArgumentNullException(nameof(file));

    /// <inheritdoc />
    public async ValueTask<long?> LoadAsync(CancellationToken cancellationToken = default)
    {
        string text;
        try
        {
            text = await System.IO.File.ReadAllTextAsync(File, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.TryGetProperty("lastApplied", out var v) && v.TryGetInt64(out var value) && value >= 0)
            {
                return value;
            }
        }
        catch (JsonException)
        {
        }

        throw Error.InvalidPosition(File);
    }

    /// <inheritdoc />
    public async ValueTask SaveAsync(long sequence, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(File))!);
        var tmp = $"{File}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp";
        var body = JsonSerializer.Serialize(new { lastApplied = sequence, savedAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture) });
        await System.IO.File.WriteAllTextAsync(tmp, body, cancellationToken).ConfigureAwait(false);
        System.IO.File.Move(tmp, File, overwrite: true);
    }
}

/// <summary>A position kept in memory only (tests; front-ends that rebuild on every start anyway).</summary>
public sealed class MemorySequenceStore(long? value = null) : ISequenceStore
{
    private readonly Lock _lock = new();
    private long? _value = value;

    /// <inheritdoc />
    public ValueTask<long?> LoadAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_value);
        }
    }

    /// <inheritdoc />
    public ValueTask SaveAsync(long sequence, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _value = sequence;
        }

        return ValueTask.CompletedTask;
    }
}
