using System.Globalization;

namespace Wirety.Tests.Mesh.Harness;

/// <summary>One output line of a child process, with the time the test received it.</summary>
public sealed record LogLine(int Index, DateTimeOffset ReceivedAt, string Text)
{
    /// <summary>The timestamp the agent itself wrote at the start of the line ("2026-01-02T03:04:05.678Z info: ..."), if any.</summary>
    public DateTimeOffset? Stamp =>
        Text.Split(' ', 2) is [var first, _] && DateTimeOffset.TryParseExact(first, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : null;

    public override string ToString() => Text;
}

/// <summary>
/// Everything a child process (server, agent) printed, kept in memory: the test searches it for
/// evidence (a push received, a config applied) and dumps it when something fails.
/// </summary>
public sealed class LogBuffer(string name)
{
    private readonly Lock _gate = new();
    private readonly List<LogLine> _lines = [];

    public string Name => name;

    public void Add(string text)
    {
        lock (_gate) _lines.Add(new LogLine(_lines.Count, DateTimeOffset.UtcNow, text));
    }

    /// <summary>A position to search from: only lines added after this call.</summary>
    public int Mark()
    {
        lock (_gate) return _lines.Count;
    }

    public IReadOnlyList<LogLine> Since(int mark)
    {
        lock (_gate) return _lines.Skip(mark).ToList();
    }

    public string Tail(int count = 40)
    {
        lock (_gate)
            return $"---- last {Math.Min(count, _lines.Count)} of {_lines.Count} lines of {name} ----\n" +
                   string.Join('\n', _lines.TakeLast(count).Select(l => l.Text));
    }

    public string All()
    {
        lock (_gate) return $"---- {name} ({_lines.Count} lines) ----\n" + string.Join('\n', _lines.Select(l => l.Text));
    }
}
