using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Wirety.Testing;

/// <summary>Keeps every log line the server writes (a real logger provider, not a mock), so tests can read what was logged.</summary>
public sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);
    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{level} {category}: {formatter(state, exception)} {exception}");
    }
}
