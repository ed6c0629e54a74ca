using System.Globalization;

namespace Wirety.Agent.Logging;

public enum LogLevel { Debug, Info, Warn, Error }

/// <summary>
/// Plain timestamped lines on stderr (journald adds its own metadata; no logging framework needed).
/// Callers never pass secrets: private keys and tokens live in <see cref="Identity.Secret"/> values,
/// whose ToString is redacted, so even an accidental interpolation prints nothing sensitive.
/// </summary>
public sealed class AgentLog(TextWriter writer, TimeProvider clock, LogLevel minimum = LogLevel.Info)
{
    private readonly Lock _gate = new();

    public static AgentLog Console(bool verbose) =>
        new(System.Console.Error, TimeProvider.System, verbose ? LogLevel.Debug : LogLevel.Info);

    public void Debug(string message) => Write(LogLevel.Debug, message);
    public void Info(string message) => Write(LogLevel.Info, message);
    public void Warn(string message) => Write(LogLevel.Warn, message);
    public void Error(string message) => Write(LogLevel.Error, message);

    public void Write(LogLevel level, string message)
    {
        if (level < minimum) return;
        var stamp = clock.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var name = level switch
        {
            LogLevel.Debug => "debug",
            LogLevel.Info => "info",
            LogLevel.Warn => "warn",
            _ => "error",
        };
        lock (_gate)
        {
            writer.WriteLine($"{stamp} {name}: {message}");
            writer.Flush();
        }
    }
}
