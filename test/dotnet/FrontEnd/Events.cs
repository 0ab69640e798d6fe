using System.Text.Json;

namespace RingkeeperFrontEnd;

/// <summary>Event lines on stdout, one JSON object each, written atomically.</summary>
public static class Events
{
    private static readonly Lock Gate = new();

    public static void Call(string refresher, string method, object? arg) =>
        Write(new { @event = "call", refresher, method, arg });

    public static void Write(object value)
    {
        var line = JsonSerializer.Serialize(value);
        lock (Gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
